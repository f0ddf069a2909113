"""One real ramp of the demo app (the capacity profile, ~67 s of k6): the SLO crossing measured in
the run lies inside the interval the study predicts.

The SLO is 3× the unloaded service's p95 (the median p95 of the baseline step), so the test holds
on any machine speed: the notes API (one gunicorn worker) is far past that at 70 VUs.
"""

from __future__ import annotations

import io
import json
import statistics
from pathlib import Path

import pytest

from perfgate.adapters.capacity_files import load_ramp_points
from perfgate.cli import main
from perfgate.core.capacity.windows import compute_windows

REPO_ROOT = Path(__file__).resolve().parent.parent
PROFILE = REPO_ROOT / "loadtests" / "profiles" / "capacity.yaml"


def _overlaps(low: float, high: float, interval: tuple[float, float]) -> bool:
    return interval[0] <= high and low <= interval[1]


@pytest.mark.k6
@pytest.mark.slow
def test_real_ramp_crossing_lies_in_the_predicted_interval(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    code = main(["run", "--start-notes-api", "--profile", str(PROFILE), "--runs-dir", str(runs), "--format", "json", "--timeout", "150"], stdout=io.StringIO())  # fmt: skip
    assert code == 0
    (run_dir,) = runs.iterdir()
    windows = compute_windows(load_ramp_points(run_dir), 2.0)
    steps = sorted({w.users for w in windows})
    assert steps == [2, 5, 10, 20, 35, 50, 70]
    median = {s: statistics.median(w.p95_ms for w in windows if w.users == s) for s in steps}
    slo = round(3 * median[2], 1)
    first = next((i for i, s in enumerate(steps) if median[s] > slo), None)
    assert first is not None and first > 0, f"no measured crossing of p(95)<{slo}: {median}"
    measured = (steps[first - 1], steps[first])
    out = io.StringIO()
    code = main(["capacity", str(run_dir), "--slo", f"p(95)<{slo}", "--format", "json", "--report-dir", str(tmp_path / "rep")], stdout=out)  # fmt: skip
    assert code == 0
    result = json.loads(out.getvalue())
    failure = result["failure_crossings"]["p50_interval"]
    assert failure is not None and _overlaps(*measured, failure), (measured, failure, median)
    latency = result["latency_crossing"]["interval"]
    low, high = latency[0] or steps[0], latency[1] or 1.5 * steps[-1]
    assert _overlaps(*measured, (low, high)), (measured, latency, median)
    safe = result["max_safe_users"]
    assert safe["users"] <= measured[1] and not safe["extrapolated"], (safe, measured)
    assert (tmp_path / "rep" / "capacity.html").is_file()
