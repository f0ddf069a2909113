"""Healing quality on real k6 runs of a service other than the demo (bench/heal_corpus).

    .venv/bin/python bench/heal_quality.py [--before REV]

The runs: `bench/heal_corpus/script.js` (5 endpoints, 4 VUs, 8 s) against `service.py`, recorded
by `make_corpus.py` as k6's own `--summary-export` files: noise runs, runs with ≥ 25 % injected
slowdown (one endpoint ×1.35, or every endpoint ×1.3) and runs with an improvement (×0.6).

Each method sets the script's thresholds from a training slice of noise runs; the thresholds are
then judged the way k6 judges them (`agg op limit` on the stats k6 computed, strict `<`) on the
held-out runs. A method passes a run when no threshold is crossed. Methods:

- `static 1.2×median`: every latency limit = 1.2 × the training median of that stat;
- `heal (before)`: perfgate's heal at REV (default: the commit before issue 12's healing work),
  extracted with `git archive` and run in a subprocess on the same runs;
- `heal (now)`: this checkout's heal.
Both heals are applied repeatedly until a heal changes nothing (what heal-on-every-merge
converges to; one heal now moves a limit at most half way). The load-model fingerprint is not
involved: the training runs are passed to `propose_heal` directly.

Two splits: `interleaved` (every other noise run trains, so both slices share the machine's
conditions) and `chronological` (the first noise runs train, everything recorded later is
judged: the history-then-future case, including the machine getting busier).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfgate.adapters.k6_results import load_result  # noqa: E402
from perfgate.adapters.loadtest_files import load_loadtest_file  # noqa: E402
from perfgate.core.detect import detect_regressions  # noqa: E402
from perfgate.core.heal import parse_expression, propose_heal  # noqa: E402
from perfgate.core.heal.targets import metric_key, threshold_expressions  # noqa: E402
from perfgate.core.heal.thresholds import crosses  # noqa: E402
from perfgate.models import Policy, RunRecord  # noqa: E402

CORPUS = ROOT / "bench" / "heal_corpus"
BEFORE = "c858370"
TODAY = date(2026, 12, 3)
ROUNDS = 30
Thresholds = dict[str, list[str]]
Method = Callable[[Thresholds, list[RunRecord]], Thresholds]
KINDS = ("noise", "regression", "improvement")
OLD_HEAL = """
import json, sys
from perfgate.core.heal import propose_heal
from perfgate.models import Policy, RunRecord
data = json.load(sys.stdin)
history = [RunRecord.model_validate(r) for r in data["history"]]
options = {"thresholds": data["thresholds"]}
for _ in range(ROUNDS):
    plan = propose_heal(scenario="s", profile_name="script.js", options=options, history=history,
                        verdict=None, policy=Policy())
    if not plan.thresholds:
        break
    for change in plan.thresholds:
        items = options["thresholds"][change.metric]
        items[items.index(change.old)] = change.new
print(json.dumps(options["thresholds"]))
""".replace("ROUNDS", str(ROUNDS))


def load_corpus(folder: Path) -> tuple[list[dict[str, Any]], dict[str, RunRecord]]:
    runs = json.loads((folder / "manifest.json").read_text())["runs"]
    return runs, {r["id"]: load_result(folder / "runs" / f"{r['id']}.json") for r in runs}


def heal_now(thresholds: Thresholds, history: list[RunRecord]) -> Thresholds:
    options: dict[str, Any] = {"thresholds": json.loads(json.dumps(thresholds))}
    for _ in range(ROUNDS):
        plan = propose_heal(
            scenario="s",
            profile_name="script.js",
            options=options,
            history=history,
            verdict=None,
            policy=Policy(),
        )
        if not plan.thresholds:
            break
        for change in plan.thresholds:
            items = options["thresholds"][change.metric]
            items[items.index(change.old)] = change.new
    return dict(options["thresholds"])


def heal_before(source: Path) -> Method:
    def run(thresholds: Thresholds, history: list[RunRecord]) -> Thresholds:
        payload = json.dumps(
            {
                "thresholds": thresholds,
                "history": [r.model_dump(mode="json", exclude_defaults=True) for r in history],
            }
        )
        done = subprocess.run(
            [sys.executable, "-c", OLD_HEAL],
            input=payload,
            capture_output=True,
            text=True,
            check=False,
            cwd=source,
            env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        )
        if done.returncode:
            raise SystemExit(f"heal (before) failed: {done.stderr.strip().splitlines()[-1]}")
        return dict(json.loads(done.stdout))

    return run


def static_anchor(thresholds: Thresholds, history: list[RunRecord], factor: float = 1.2) -> Thresholds:
    out: Thresholds = {}
    for metric, text in threshold_expressions({"thresholds": thresholds}):
        expression = parse_expression(text)
        values = (
            [run.value(metric_key(metric), expression.canonical_aggregation) for run in history]
            if expression
            else []
        )
        known = [v for v in values if v is not None]
        if expression is not None and expression.upper and known and metric.startswith("http_req_duration"):
            text = f"{expression.aggregation}<{factor * float(np.median(known)):.2f}"
        out.setdefault(metric, []).append(text)
    return out


def oracle(held: list[dict[str, Any]], records: dict[str, RunRecord]) -> Method:
    """The smallest m for which m × training median passes ≥ 95 % of the held-out noise runs:
    an anchor that peeks at the answers, the best any one multiplier on the medians can do."""

    def run(thresholds: Thresholds, history: list[RunRecord]) -> Thresholds:
        noise = [records[r["id"]] for r in held if r["kind"] == "noise"]
        for m in np.arange(1.0, 6.0, 0.01):
            scaled = static_anchor(thresholds, history, factor=float(m))
            if sum(not fails(scaled, n) for n in noise) >= 0.95 * len(noise):
                return scaled
        return thresholds

    return run


def fails(thresholds: Thresholds, run: RunRecord) -> bool:
    """k6's verdict: the run fails when any threshold is crossed."""
    for metric, text in threshold_expressions({"thresholds": thresholds}):
        expression = parse_expression(text)
        value = run.value(metric_key(metric), expression.canonical_aggregation) if expression else None
        if expression is not None and value is not None and crosses(expression, value):
            return True
    return False


def splits(runs: list[dict[str, Any]]) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    noise = [r for r in runs if r["kind"] == "noise"]
    interleaved_train = [r["id"] for r in noise[::2]]
    first = noise[: len(noise) // 2]
    last_train = first[-1]["order"]
    return {
        "interleaved": (interleaved_train, [r for r in runs if r["id"] not in interleaved_train]),
        "chronological": ([r["id"] for r in first], [r for r in runs if r["order"] > last_train]),
    }


def cell(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} ({sum(flags) / max(len(flags), 1):.0%})" if flags else "-"


def effect_sizes(runs: list[dict[str, Any]], records: dict[str, RunRecord]) -> str:
    """Median p(95) change of the slowed endpoint against the noise runs' median (all recorded)."""
    noise = [records[r["id"]] for r in runs if r["kind"] == "noise"]
    ratios = []
    for run in (r for r in runs if r["kind"] == "regression"):
        names = ["items", "search", "report", "orders"] if run["endpoint"] == "*" else [run["endpoint"]]
        for name in names:
            key = f"http_req_duration{{name:{name}}}"
            base = float(np.median([n.value(key, "p(95)") or 0 for n in noise]))
            ratios.append((records[run["id"]].value(key, "p(95)") or 0) / base)
    if not ratios:
        return "no regression runs yet"
    return (
        f"slowed endpoints' p(95) / noise median: median ×{np.median(ratios):.2f}, lowest ×{min(ratios):.2f}"
    )


def row(
    name: str, failed: Callable[[RunRecord], bool], held: list[dict[str, Any]], records: dict[str, RunRecord]
) -> None:
    """One table row: how many held-out runs of each kind `failed` fails."""
    by_kind = {k: [failed(records[r["id"]]) for r in held if r["kind"] == k] for k in KINDS}
    noise_pass = [not f for f in by_kind["noise"]]
    print(
        f"{name:<28} {cell(noise_pass):>16} {cell(by_kind['regression']):>24} {cell(by_kind['improvement']):>18}"
    )


def gate_row(history: list[RunRecord], held: list[dict[str, Any]], records: dict[str, RunRecord]) -> None:
    """perfgate's own gate on the same runs: `detect_regressions` against the training runs as
    history (what `perfgate analyze` does), failing on a regression. Not thresholds: a row for
    comparison with what k6 thresholds alone can do."""
    policy = Policy()

    def regression(run: RunRecord) -> bool:
        return detect_regressions(run, history, policy, today=TODAY).verdict == "regression"

    row("perfgate gate (analyze)", regression, held, records)


def judge(
    name: str,
    method: Method,
    thresholds: Thresholds,
    history: list[RunRecord],
    held: list[dict[str, Any]],
    records: dict[str, RunRecord],
) -> None:
    healed = method(thresholds, history)
    row(name, lambda run: fails(healed, run), held, records)


def report(folder: Path, methods: dict[str, Method], thresholds: Thresholds) -> None:
    runs, records = load_corpus(folder)
    print(f"\n## {folder.name}: {len(runs)} real runs; {effect_sizes(runs, records)}")
    for split, (train_ids, held) in splits(runs).items():
        history = [records[i] for i in train_ids]
        print(f"\n{split}: trained on {len(history)} noise runs, judged on {len(held)} held-out runs")
        print(f"{'method':<28} {'noise pass':>16} {'≥25 % regression fail':>24} {'improvement fail':>18}")
        for name, method in {**methods, "oracle m×median (peeks)": oracle(held, records)}.items():
            judge(name, method, thresholds, history, held, records)
        gate_row(history, held, records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--before", default=BEFORE, help=f"git revision of the 'before' heal (default {BEFORE})"
    )
    parser.add_argument(
        "corpus",
        nargs="*",
        type=Path,
        help="corpus folders (default: every bench/heal_corpus/*/ with a manifest.json)",
    )
    args = parser.parse_args()
    thresholds = load_loadtest_file(CORPUS / "script.js").options["thresholds"]
    with tempfile.TemporaryDirectory(prefix="heal-before-") as temp:
        archive = Path(temp) / "src.tar"
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "-o", str(archive), args.before, "perfgate"], check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(temp, filter="data")
        methods: dict[str, Method] = {
            "static 1.2×median": static_anchor,
            f"heal (before, {args.before})": heal_before(Path(temp)),
            "heal (now)": heal_now,
        }
        for folder in args.corpus or sorted(p.parent for p in CORPUS.glob("*/manifest.json")):
            report(folder, methods, thresholds)


if __name__ == "__main__":
    main()
