"""Paired-mode benchmark: `perfgate compare` on this (shared) machine, real k6, real targets.

    .venv/bin/python bench/compare.py [--aa 20] [--ab 10] [--half-s 3]

Targets: the notes API (target_app) twice on 127.0.0.1, each with its own SQLite file on disk.
Every endpoint waits `IO_MS` (injected latency) as an I/O-bound service would, so the requests
measure a service rather than only the two cores k6 and the other agents fight over; the CPU
work and the SQLite writes are real and are still most of the noise.

- A/A: base and head are two identical targets. Goal: never a regression in `--aa` trials.
- +40 %: head's search_notes waits longer by 40 % of base's search_notes median (measured in
  the A/A trials of this run, the anchor). Goal: regression in ≥ 9 of `--ab` trials.

Each trial is a whole `compare` (min 2, max 10 pairs, each half `--half-s` seconds of 6 VUs,
think time 10 ms): the bench prints the verdict, the pairs it needed, the wall time and the
search_notes change with its interval per trial; the anchor measured in the same run is base's
search_notes median, from which the +40 % is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfgate.adapters.target import RunningTarget, free_port, start_target  # noqa: E402
from perfgate.models.compare import CompareRequest, CompareResult  # noqa: E402
from perfgate.pipeline.compare import run_compare  # noqa: E402

ENDPOINTS = ("create_note", "get_note", "list_notes", "search_notes", "update_note", "delete_note")
IO_MS = 40.0
VUS = 6
SEARCH = "http_req_duration{name:search_notes}"


def _target(stack: ExitStack, work: Path, label: str, extra: dict[str, float]) -> str:
    port = free_port()
    latency = {name: IO_MS + extra.get(name, 0.0) for name in ENDPOINTS}
    env = {
        "NOTES_BIND": f"127.0.0.1:{port}",
        "NOTES_DB_PATH": str(work / f"{label}.db"),
        "NOTES_FAULT_LATENCY_MS": ",".join(f"{k}={v:g}" for k, v in latency.items()),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "target_app" / "gunicorn.conf.py")]
    target: RunningTarget = start_target(
        [*command, "target_app.wsgi:app"], health_url=f"http://127.0.0.1:{port}/healthz", env=env,
        cwd=ROOT, log_path=work / f"{label}.log",
    )  # fmt: skip
    stack.enter_context(target)
    return f"http://127.0.0.1:{port}"


def _trial(work: Path, name: str, base: str, head: str, profile: Path) -> CompareResult:
    request = CompareRequest(
        base_url=base, head_url=head, script=ROOT / "loadtests" / "notes.js", profile=profile,
        out_dir=work / name, min_pairs=2, max_pairs=10,
    )  # fmt: skip
    return run_compare(request, lambda _message: None)


def _row(name: str, result: CompareResult) -> str:
    search = next((m for m in result.metrics if m.name == SEARCH), None)
    change = (
        f"{search.change_pct:+6.1f} % [{search.ci_low_pct:+.1f}, {search.ci_high_pct:+.1f}]"
        if search
        else "-"
    )
    undecided = sum(m.verdict == "unsure" for m in result.metrics)
    return (
        f"{name:8s} {result.verdict:11s} pairs {result.pairs:2d}  wall {result.wall_s:6.1f} s  "
        f"search_notes {change}  undecided metrics {undecided}"
    )


def _series(work: Path, label: str, trials: int, base: str, head: str, profile: Path) -> list[CompareResult]:
    results = []
    for i in range(1, trials + 1):
        result = _trial(work, f"{label}-{i:02d}", base, head, profile)
        print(_row(f"{label} {i}", result), flush=True)
        results.append(result)
    return results


def _summary(label: str, results: list[CompareResult]) -> str:
    verdicts = [r.verdict for r in results]
    counts = ", ".join(f"{v} {verdicts.count(v)}" for v in ("regression", "improvement", "same", "unsure"))
    pairs = [r.pairs for r in results]
    walls = [r.wall_s for r in results]
    return (
        f"{label}: {counts} of {len(results)}; pairs median {statistics.median(pairs):g} (min {min(pairs)}, "
        f"max {max(pairs)}); wall median {statistics.median(walls):.0f} s, total {sum(walls) / 60:.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--aa", type=int, default=20)
    parser.add_argument("--ab", type=int, default=10)
    parser.add_argument("--half-s", type=float, default=3.0)
    args = parser.parse_args()
    os.environ["THINK_TIME"] = "0.01"  # notes.js: 10 ms between requests
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perfgate-bench-compare-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        profile = work / "half.json"
        profile.write_text(
            f'{{"scenarios": {{"half": {{"executor": "constant-vus", "vus": {VUS}, "duration": "{args.half_s:g}s"}}}}}}'
        )
        base = _target(stack, work, "base", {})
        twin = _target(stack, work, "twin", {})
        print(
            f"A/A: two identical notes APIs ({IO_MS:g} ms I/O per request), {args.half_s:g} s halves",
            flush=True,
        )
        aa = _series(work, "A/A", args.aa, base, twin, profile)
        medians = [m.base for r in aa for m in r.metrics if m.name == SEARCH]
        search_ms = statistics.median(medians)
        extra = 0.4 * search_ms
        print(
            f"anchor: base search_notes median {search_ms:.2f} ms (A/A trials) → head +{extra:.2f} ms (+40 %)"
        )
        slower = _target(stack, work, "slower", {"search_notes": extra})
        ab = _series(work, "+40%", args.ab, base, slower, profile)
        print(_summary("A/A ", aa))
        print(_summary("+40%", ab))
        print(f"bench wall time {(time.monotonic() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
