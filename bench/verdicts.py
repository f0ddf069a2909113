"""Single-run verdicts per kind of change, the issue-14 targets, and the reliability of `confidence`.

    .venv/bin/python bench/verdicts.py [CORPUS_DIR ...]   # default: bench/corpus bench/corpus-heldout

For every corpus (a `manifest.json` + `runs/` as `bench/corpus/make_corpus.py` writes them): the
history is its calibration and history runs in recording order; every other run is a candidate
judged alone against it with the default policy. Improvement candidates: the runs of kind
`improvement`, or (bench/corpus) the clean runs judged against the `improvement-history` runs.

A verdict is *right* when it is `regression` for a candidate with a fault (naming the faulted
endpoint for a single-endpoint fault) and anything else for a candidate without one (clean,
contention, improvement). Printed per corpus: the verdicts per kind; false alarms (regressions
among the fault-free candidates), catch rate (`CATCH_RATE`: the kinds it counts are printed with
it, and beside each single-endpoint fault kind on how many endpoints one run resolves a change of
that size, `bench/detection.py`'s `resolved_ratios`); the reliability table: verdicts binned by their `confidence`, and how many of each
bin were right (calibrated: the share right is at least the bin's lower edge); the slow drift and
step figures of bench/detection.py. Same-run anchor: the static 1.2 × p95 rule on the same runs.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from detection import (  # noqa: E402
    POLICY,
    TODAY,
    anchor_static,
    drift,
    regressed_endpoints,
    resolved_ratios,
    step_location,
)

from perfgate.core.detect import DetectorTuning, detect_regressions  # noqa: E402
from perfgate.core.detect.environment import mean_latency_shift  # noqa: E402
from perfgate.core.detect.extract import gated_targets  # noqa: E402
from perfgate.core.detect.gather import judge_candidate_runner  # noqa: E402
from perfgate.models import RunRecord  # noqa: E402

HISTORY_KINDS = ("calibration", "history")
FAULT_FREE = ("clean", "contention", "improvement")
BINS = (0.0, 0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)


def load_corpus(corpus: Path) -> tuple[list[dict], dict[str, RunRecord]]:
    """Runs in recording order and their records. A perfgate without `RunRecord.runner` (the
    "before" figures at c858370) reads the held-out records without their runner evidence."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    runs = sorted(manifest["runs"], key=lambda r: r["order"])
    records = {}
    for run in runs:
        data = json.loads((corpus / "runs" / f"{run['id']}.json").read_text())
        if "runner" not in RunRecord.model_fields:
            data.pop("runner", None)
        records[run["id"]] = RunRecord.model_validate(data)
    return runs, records


def candidates(runs: list[dict]) -> list[tuple[dict, str]]:
    """(run, which history) for every candidate; improvements of bench/corpus use their own history."""
    out = [(r, "main") for r in runs if r["kind"] not in (*HISTORY_KINDS, "improvement-history")]
    if any(r["kind"] == "improvement-history" for r in runs):
        out += [({**r, "kind": "improvement"}, "improvement") for r in runs if r["kind"] == "clean"]
    return out


def right(run: dict, verdict: str, named: set[str]) -> bool:
    if run["kind"] in FAULT_FREE:
        return verdict != "regression"
    return verdict == "regression" and (run.get("endpoint") is None or run["endpoint"] in named)


def confidence_of(detection: object) -> float:
    value = getattr(detection, "confidence", None)
    return float(value) if value is not None else float("nan")


def judge(corpus: Path) -> list[tuple[str, str, bool, float, bool]]:
    """(kind, verdict, right, confidence, static anchor flagged) per candidate."""
    runs, records = load_corpus(corpus)
    histories = {
        "main": [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS],
        "improvement": [records[r["id"]] for r in runs if r["kind"] == "improvement-history"],
    }
    out = []
    for run, which in candidates(runs):
        record, history = records[run["id"]], histories[which]
        detection = detect_regressions(record, history, POLICY, today=TODAY)
        named = regressed_endpoints(detection)
        ok = right(run, detection.verdict, named)
        out.append(
            (run["kind"], detection.verdict, ok, confidence_of(detection), anchor_static(record, history))
        )
    return out


CATCH_RATE = (
    "catch rate: regressions (naming the faulted endpoint) among one endpoint +15/+25/+40 %, "
    "errors +1-3 points, global +30 % of CPU and of waiting; +10 % and the -of-quiet faults "
    "are shown but not counted"
)


def caught_kind(kind: str) -> bool:
    """The kinds the catch rate counts (`CATCH_RATE`), as the issue-14 closing note defined it."""
    return kind.startswith(("latency+", "errors", "global")) and kind != "latency+10" and "quiet" not in kind


def fault_size(kind: str) -> float | None:
    """A single-endpoint fault's size as a ratio (latency+15 → 1.15), None for other kinds."""
    if not kind.startswith("latency+"):
        return None
    digits = kind.removeprefix("latency+").split("-")[0]
    return 1.0 + int(digits) / 100 if digits.isdigit() else None


def resolution_cell(kind: str, resolved: list[tuple[str, float, float]]) -> str:
    """Beside a single-endpoint fault: on how many endpoints one run resolves a change that size."""
    size = fault_size(kind)
    if size is None or not resolved:
        return ""
    within = sum(ratio <= size for _, _, ratio in resolved)
    return f"  [one run resolves ×{size:.2f} on {within}/{len(resolved)} endpoints]"


def global_resolution(corpus: Path) -> str:
    """What one run resolves of a shift of every endpoint: the runner model's prediction error
    (`perfgate.core.detect.runner`, median over the candidates) and the shift a single run detects
    with 80 % power at the default alpha (one-sided z 3.09 + 0.84)."""
    runs, records = load_corpus(corpus)
    history = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS][
        -DetectorTuning().recent_window :
    ]
    sigmas, signals = [], set()
    for run, which in candidates(runs):
        if which != "main":
            continue
        candidate = records[run["id"]]
        targets = [t for t in gated_targets(candidate, POLICY) if t.is_endpoint_latency and t.stat == "p(95)"]
        shift = mean_latency_shift(targets, candidate, history)
        judgement = judge_candidate_runner(shift, candidate, history, 1) if shift else None
        if judgement is not None:
            sigmas.append(judgement.expected_sigma)
            signals.update(judgement.signals)
    if not sigmas:
        return "no runner model (no runner signals in the records)"
    sigma = float(np.median(sigmas))
    z = 3.09 + 0.84
    return (
        f"runner model on {', '.join(sorted(signals))}: the shared factor predicted to σ {sigma:.0%} "
        f"(median over {len(sigmas)} candidates) → one run resolves a shift of every endpoint of ×{np.exp(z * sigma):.2f}"
    )


def report(rows: list[tuple[str, str, bool, float, bool]], resolved: list[tuple[str, float, float]]) -> None:
    print(f"{'candidates':20s}{'flagged':>10s}{'right':>8s}{'static':>8s}  verdicts")
    for kind in sorted({r[0] for r in rows}, key=_order):
        mine = [r for r in rows if r[0] == kind]
        flagged = sum(r[1] == "regression" for r in mine)
        counts = Counter(r[1] for r in mine)
        cells = (
            f"{flagged}/{len(mine)}",
            f"{sum(r[2] for r in mine)}/{len(mine)}",
            f"{sum(r[4] for r in mine)}",
        )
        print(
            f"{kind:20s}{cells[0]:>10s}{cells[1]:>8s}{cells[2]:>8s}  "
            + ", ".join(sorted(f"{k} {v}" for k, v in counts.items()))
            + resolution_cell(kind, resolved)
        )
    free = [r for r in rows if r[0] in FAULT_FREE]
    faults = [r for r in rows if caught_kind(r[0])]
    alarms = sum(r[1] == "regression" for r in free)
    caught = sum(r[2] for r in faults)
    print(
        f"false alarms {alarms}/{len(free)} ({alarms / max(len(free), 1):.1%}); "
        f"catch rate {caught}/{len(faults)} ({caught / max(len(faults), 1):.1%})"
    )
    print(f"  ({CATCH_RATE})")
    cells = ", ".join(f"{name} σ {sigma:.0%} → ×{ratio:.2f}" for name, sigma, ratio in resolved)
    print(f"  resolution, one run, 80 % power (own change of the typical latency): {cells}")
    reliability(rows)


def reliability(rows: list[tuple[str, str, bool, float, bool]]) -> None:
    scored = [r for r in rows if r[3] == r[3]]
    if not scored:
        print("reliability: the verdicts carry no confidence")
        return
    high = [r for r in scored if r[3] >= 0.9]
    print(f"reliability: confidence ≥ 0.9: {sum(r[2] for r in high)}/{len(high)} right")
    for low, up in itertools.pairwise(BINS):
        chosen = [r for r in scored if low <= r[3] < up]
        if chosen:
            share = sum(r[2] for r in chosen) / len(chosen)
            wrong = Counter(f"{r[0]}→{r[1]}" for r in chosen if not r[2])
            detail = f"  wrong: {dict(wrong)}" if wrong else ""
            print(
                f"  [{low:.2f}, {min(up, 1.0):.2f}{']' if up > 1 else ')'}: {len(chosen):3d} verdicts, {share:.0%} right{detail}"
            )


def _order(kind: str) -> tuple[int, str]:
    order = ("clean", "contention", "latency", "errors", "global", "improvement")
    return next((i for i, prefix in enumerate(order) if kind.startswith(prefix)), 9), kind


def main() -> int:
    started = time.perf_counter()
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    corpora = [Path(a) for a in args] or [ROOT / "bench" / "corpus", ROOT / "bench" / "corpus-heldout"]
    for corpus in corpora:
        print(f"\n== {corpus.name}")
        runs, records = load_corpus(corpus)
        report(judge(corpus), resolved_ratios(runs, records))
        print(f"  global resolution: {global_resolution(corpus)}")
        if "--no-drift" not in sys.argv:
            drift(runs, records)
            step_location(runs, records)
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
