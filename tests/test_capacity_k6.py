"""One real ramp of the demo app (the capacity profile, ~67 s of k6): the SLO crossing measured in
the run lies inside the interval the study predicts.

The SLO is placed between the quietest and the busiest load step's p95, so the run crosses it on
any machine; the prediction (the digital twin's p95 reaching the SLO, ± its hold-out error) must
bracket the step where it is measured to stay broken.
"""

from __future__ import annotations

import io
import json
import math
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
    policy = tmp_path / "perfgate.yml"
    policy.write_text("k6_thresholds: advisory\n")  # the ramp is meant to push past the limits
    script = REPO_ROOT / "loadtests" / "notes.js"
    code = main(["run", "--start-notes-api", "--script", str(script), "--profile", str(PROFILE), "--policy", str(policy), "--runs-dir", str(runs), "--format", "json", "--timeout", "150"], stdout=io.StringIO())  # fmt: skip
    assert code == 0
    (run_dir,) = runs.iterdir()
    windows = compute_windows(load_ramp_points(run_dir), 2.0)
    steps = sorted({w.users for w in windows})
    assert steps[0] == 2 and len(steps) >= 5, steps
    median = {s: statistics.median(w.p95_ms for w in windows if w.users == s) for s in steps}
    # The SLO sits between the quietest and the busiest step (geometric mean), so the run crosses it
    # whatever the machine's speed; measured crossing: the step from which on it stays broken.
    slo = round(math.sqrt(min(median.values()) * max(median.values())), 1)
    first = min(i for i in range(len(steps)) if all(median[s] > slo for s in steps[i:]))
    assert first > 0, f"p(95)<{slo} is broken from the lowest step on: {median}"
    measured = (steps[first - 1], steps[first])
    out = io.StringIO()
    code = main(["capacity", str(run_dir), "--slo", f"p(95)<{slo}", "--format", "json", "--report-dir", str(tmp_path / "rep")], stdout=out)  # fmt: skip
    assert code == 0
    result = json.loads(out.getvalue())
    failure = result["failure_crossings"]["p50_interval"]
    latency = result["latency_crossing"]["interval"]
    low, high = latency[0] or steps[0], latency[1] or 1.5 * steps[-1]
    assert _overlaps(*measured, (low, high)), (measured, latency, failure, median)
    safe = result["max_safe_users"]
    assert safe["users"] <= measured[1] and not safe["extrapolated"], (safe, measured)
    assert (tmp_path / "rep" / "capacity.html").is_file()
