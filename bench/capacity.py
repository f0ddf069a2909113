"""Capacity study on real ramps of the demo app: fit time and hold-out errors of every model.

    python bench/capacity.py                       print the figures for bench/capacity/*.json
    python bench/capacity.py --add RUN_DIR NAME    store a ramp run's settled windows compactly

Each stored ramp is the 2 s windows of one real `capacity` profile run (`perfgate run
--start-notes-api --profile loadtests/profiles/capacity.yaml`) on this repository's 2-core dev
box, a few KB of JSON instead of megabytes of raw points.

Anchor, measured in the same run on the same hold-out: a naive linear extrapolation of p95 in
users fitted on the training steps (what a spreadsheet trend line would say), and its fit time.
The study's time is the whole `compute_capacity` (anomalies, USL, four twin candidates trained
twice, logistic failure curve with a 200-fold bootstrap), median of 3.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from perfgate.adapters.capacity_files import load_ramp_points
from perfgate.core.capacity.failure import parse_slo
from perfgate.core.capacity.study import StudyOptions, compute_capacity
from perfgate.core.capacity.twin import score, split_steps
from perfgate.core.capacity.windows import compute_windows
from perfgate.models.capacity import CapacityWindow

HERE = Path(__file__).resolve().parent / "capacity"
WINDOW_S = 2.0
REPEATS = 3


def add(run_dir: Path, name: str) -> None:
    windows = compute_windows(load_ramp_points(run_dir), WINDOW_S)
    data = {"source": run_dir.name, "window_s": WINDOW_S, "windows": [w.model_dump() for w in windows]}
    HERE.mkdir(exist_ok=True)
    (HERE / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"stored {len(windows)} windows as {HERE / name}.json")


def _slo(windows: list[CapacityWindow]) -> str:
    """3× the unloaded p95 (median of the lowest step), as the real-ramp test uses."""
    lowest = min(w.users for w in windows)
    return f"p(95)<{3 * statistics.median(w.p95_ms for w in windows if w.users == lowest):.1f}"


def _linear_anchor(windows: list[CapacityWindow]) -> tuple[dict[str, float], float]:
    train, held = split_steps(windows, 0.25)
    fit = [w for w in windows if w.users in train]
    test = [w for w in windows if w.users in held]
    start = time.perf_counter()
    slope, intercept = np.polyfit([w.users for w in fit], [w.p95_ms for w in fit], 1)
    elapsed = time.perf_counter() - start
    predicted = intercept + slope * np.array([w.users for w in test])
    return score(np.array([w.p95_ms for w in test]), predicted).model_dump(), elapsed


def bench_one(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    windows = [CapacityWindow.model_validate(w) for w in data["windows"]]
    slo = _slo(windows)
    times, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = compute_capacity(
            windows, parse_slo([slo]), StudyOptions(source=path.stem, slo_texts=[slo], window_s=WINDOW_S)
        )
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    anchor, anchor_s = _linear_anchor(windows)
    safe = result.max_safe_users
    print(f"\n{path.stem}: {len(windows)} windows, steps {sorted({w.users for w in windows})}, SLO {slo}")
    print(
        f"  study {statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s CPU (median of {REPEATS}); "
        f"anchor linear fit {anchor_s * 1e6:.0f} µs"
    )
    print(
        f"  USL α={result.usl.alpha:.3g} β={result.usl.beta:.3g} γ={result.usl.gamma:.3g} N*={result.usl.peak_load or 0:.1f} "
        f"X*={result.usl.peak_throughput:.0f}/s R²={result.usl.r_squared:.3f}; anomalies {len(result.anomalies)}"
    )
    print(
        f"  max safe users {safe.users} {safe.interval} ({safe.limited_by}); "
        f"p50 crossing {result.failure_crossings.p50_users} {result.failure_crossings.p50_interval}"
    )
    print(
        f"  {'model':<22}{'MAE ms':>9}{'R²':>9}{'MAPE':>8}   (hold-out: steps {result.inputs.holdout_steps})"
    )
    rows = [(name, s.mae_ms, s.r2, s.holdout_mape) for name, s in result.models.items()]
    rows.append(("linear (anchor)", anchor["mae_ms"], anchor["r2"], anchor["holdout_mape"]))
    for name, mae, r2, mape in sorted(rows, key=lambda row: row[1]):
        mark = " *" if name == result.chosen_model else ""
        print(f"  {name + mark:<22}{mae:>9.1f}{r2:>9.3f}{mape * 100:>7.1f}%")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--add":
        add(Path(sys.argv[2]), sys.argv[3])
        return
    paths = sorted(HERE.glob("*.json"))
    if not paths:
        sys.exit(f"no stored ramps in {HERE}; add one with --add RUN_DIR NAME")
    for path in paths:
        bench_one(path)


if __name__ == "__main__":
    main()
