"""How long does `perfgate analyze` take against a 500-run history? (wall time, fresh process)

    .venv/bin/python bench/analyze_speed.py [--runs 500] [--repeat 5] [--sizes 50,500,5000]

First the scaling table: for each history size (--sizes), the median wall and CPU (user+sys of the
child, from getrusage(RUSAGE_CHILDREN)) of a fresh `perfgate analyze --format json`, beside two
anchors measured in the same run: the bare interpreter (`python -c pass`) and `python -c "import
numpy"`; then one analyze after one more run was recorded (the CI round: the index takes in the
new run and is rewritten). On a loaded machine compare the CPU column and the ratios to the anchors, not raw walls.

The history is synthetic but realistic: each of the 500 runs is a real corpus run
(bench/corpus/runs, clean and contended history runs) with its latencies scaled by a per-run
runner factor (lognormal, sigma 0.1) and a per-endpoint jitter (sigma 0.03), written through
`BaselineStore.record` like `perfgate record` does. The candidate is the real k6 run directory
bench/corpus/sample-run (summary.json + run-meta.json). Each timing is one fresh
`python -m perfgate analyze RUN --baselines DIR --format json` subprocess, start-up included.
For the breakdown it also times the bare interpreter start-up with the CLI imported,
`detect_regressions` in-process on the same 500 records, and the same with the optional learned
detectors (off by default) plus what importing scikit-learn costs a fresh process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfgate.adapters.baselines import BaselineStore  # noqa: E402
from perfgate.core.detect import DetectorTuning, detect_regressions  # noqa: E402
from perfgate.models import MetricSeries, Policy, RunMeta, RunRecord  # noqa: E402

CORPUS = ROOT / "bench" / "corpus"
SAMPLE = CORPUS / "sample-run"


def jittered(run: RunRecord, rng: np.random.Generator) -> RunRecord:
    runner = float(np.exp(rng.normal(0, 0.1)))
    metrics: dict[str, MetricSeries] = {}
    for key, series in run.metrics.items():
        if series.type == "trend" and key.startswith("http_req_duration"):
            factor = runner * float(np.exp(rng.normal(0, 0.03)))
            values = {k: (v if k == "count" else v * factor) for k, v in series.values.items()}
            series = series.model_copy(update={"values": values})
        metrics[key] = series
    return run.model_copy(update={"metrics": metrics})


def build_history(root: Path, runs: int, scenario: str) -> list[RunRecord]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    pool = [
        RunRecord.model_validate_json((CORPUS / "runs" / f"{r['id']}.json").read_text())
        for r in manifest["runs"]
        if r["kind"] in ("calibration", "history", "clean", "contention")
    ]
    rng = np.random.default_rng(500)
    store = BaselineStore(root)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for i in range(runs):
        record = jittered(pool[int(rng.integers(len(pool)))], rng)
        store.record(
            scenario, record, recorded_at=t0 + timedelta(minutes=i), run_id=f"run-{i:04d}", verdict="pass"
        )
        records.append(record)
    return records


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(command: list[str], repeat: int, cpus: list[float] | None = None) -> tuple[list[float], str]:
    """Walls of `repeat` fresh runs of `command`; their CPU times are appended to `cpus` if given."""
    walls, out = [], ""
    for _ in range(repeat):
        cpu, started = children_cpu(), time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - started)
        if cpus is not None:
            cpus.append(children_cpu() - cpu)
        out = done.stdout if done.returncode in (0, 1) else f"exit {done.returncode}: {done.stderr[-400:]}"
    return walls, out


def analyze_command(history: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "perfgate",
        "analyze",
        str(SAMPLE),
        "--baselines",
        str(history),
        "--format",
        "json",
    ]


def timed_row(label: str, command: list[str], repeat: int) -> str:
    cpus: list[float] = []
    walls, out = time_command(command, repeat, cpus)
    failed = "" if not out.startswith("exit ") else f"  FAILED: {out}"
    return f"{label:<28} {np.median(walls):>8.2f} {np.median(cpus):>8.2f}{failed}"


def scaling_table(sizes: list[int], repeat: int, scenario: str) -> None:
    """Fresh-process analyze per history size, beside the interpreter and numpy anchors."""
    print(f"{'fresh process':<28} {'wall s':>8} {'cpu s':>8}   (medians of {repeat})")
    print(timed_row("anchor: python -c pass", [sys.executable, "-c", "pass"], repeat))
    print(timed_row("anchor: import numpy", [sys.executable, "-c", "import numpy"], repeat))
    for runs in sizes:
        with tempfile.TemporaryDirectory(prefix="perfgate-speed-") as tmp:
            records = build_history(Path(tmp), runs, scenario)
            row = timed_row(f"analyze, {runs:,} runs", analyze_command(Path(tmp)), repeat)
            print(f"{row}   index {index_bytes(Path(tmp)) / 1e6:.2f} MB")
            BaselineStore(Path(tmp)).record(
                scenario, records[-1], recorded_at=datetime(2027, 1, 1, tzinfo=UTC), run_id="one-more"
            )
            print(timed_row("  + 1 new run (index update)", analyze_command(Path(tmp)), 1))
    print()


def index_bytes(history: Path) -> int:
    """Size of the history's index after the timed runs (either layout: `.runs-index` or the cache)."""
    return sum(p.stat().st_size for p in history.rglob("*") if p.name in ("runs-index", ".runs-index"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--sizes", default="50,500,5000", help="history sizes of the scaling table ('' skips it)"
    )
    args = parser.parse_args()
    meta = RunMeta.model_validate_json((SAMPLE / "run-meta.json").read_text())
    scenario = meta.scenario or "default"
    if args.sizes:
        scaling_table([int(size) for size in args.sizes.split(",")], args.repeat, scenario)
    with tempfile.TemporaryDirectory(prefix="perfgate-speed-") as tmp:
        records = build_history(Path(tmp), args.runs, scenario)
        walls, out = time_command(analyze_command(Path(tmp)), args.repeat)
        startup, _ = time_command(
            [sys.executable, "-c", "import perfgate.cli, perfgate.pipeline.analyze"], args.repeat
        )
    try:
        verdict = json.loads(out)
        summary = f"verdict {verdict['verdict']}, {verdict.get('history_runs')} history runs used"
    except (json.JSONDecodeError, KeyError):
        summary = out.strip()[:400]
    candidate = records[-1]
    started = time.perf_counter()
    detect_regressions(candidate, records[:-1], Policy(), today=date(2026, 1, 1))
    in_process = time.perf_counter() - started
    sklearn_import, _ = time_command([sys.executable, "-c", "import sklearn.ensemble"], args.repeat)
    learned = DetectorTuning(use_context_model=True, use_isolation_forest=True)
    detect_regressions(candidate, records[:-1], Policy(), today=date(2026, 1, 1), settings=learned)
    started = time.perf_counter()
    detect_regressions(candidate, records[:-1], Policy(), today=date(2026, 1, 1), settings=learned)
    with_models = time.perf_counter() - started
    print(f"history: {args.runs} runs in one scenario ({scenario}); {summary}")
    print(
        f"perfgate analyze --format json, fresh process: median {np.median(walls):.2f} s, "
        f"min {min(walls):.2f} s, max {max(walls):.2f} s over {args.repeat} runs"
    )
    print(f"  of which interpreter + CLI/pipeline imports: median {np.median(startup):.2f} s")
    print(f"  detect_regressions in-process on {args.runs - 1} runs (warm imports): {in_process:.2f} s")
    print(
        f"with the optional context model + Isolation Forest: detect_regressions {with_models:.2f} s warm, "
        f"plus importing sklearn.ensemble in a fresh process: median {np.median(sklearn_import):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
