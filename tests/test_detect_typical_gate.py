"""The typical request (median) as a gated signal with its own floor (`core/detect/typical.py`):
a slowdown that moves p50 far beyond its history while p95 stays inside a noisy history's swings
is a regression, unless the runner's measured load explains it."""

from __future__ import annotations

import random
from datetime import date

import pytest
from factories import make_run_record

from perfgate.core.detect import Detection, detect_regressions
from perfgate.core.detect.typical import TYPICAL_MIN_RATIO
from perfgate.models import MetricRule, Policy, RunnerEvidence, RunRecord

TODAY = date(2026, 12, 3)
MEDIANS_MS = {"get": 1.8, "post": 2.2, "status": 1.5}  # httpbin on 127.0.0.1
QUIET_PROBE_MS = 14.0


def _run(
    rng: random.Random, *, add_ms: float = 0.0, p95_ms: float | None = None, probe: float = 1.0
) -> RunRecord:
    """A run of a service whose p95 swings 9-25 ms with the machine's load while its median stays
    within ±10 %; `add_ms` added to every request; the calibration probe `probe` × its quiet time."""
    tail = p95_ms if p95_ms is not None else rng.uniform(9.0, 25.0)
    endpoints = {}
    for name, median in MEDIANS_MS.items():
        med = median * rng.uniform(0.9, 1.1) + add_ms
        endpoints[name] = {
            "med": med,
            "avg": med * 1.4,
            "p(90)": tail * 0.7,
            "p(95)": tail * rng.uniform(0.9, 1.1),
            "p(99)": tail * 1.6,
        }
    runner = RunnerEvidence(
        cpus=2, interval_s=0.5, probe_before_ms=QUIET_PROBE_MS * probe, probe_after_ms=QUIET_PROBE_MS * probe
    )
    return make_run_record(endpoints).model_copy(update={"runner": runner})


def _history(rng: random.Random, runs: int) -> list[RunRecord]:
    return [_run(rng, probe=rng.uniform(0.95, 1.05)) for _ in range(runs)]


def _regressed(detection: Detection) -> set[tuple[str | None, str]]:
    return {(f.endpoint, f.stat) for f in detection.findings if f.classification == "regression"}


@pytest.mark.parametrize(("seed", "runs"), [(0, 6), (1, 6), (2, 7), (3, 10), (4, 20), (5, 30)])
def test_a_median_four_times_slower_with_p95_inside_the_swings_is_a_regression(seed: int, runs: int) -> None:
    """httpbin on a loaded machine: +5 ms per request, p50 ×4, p95 20 ms inside its 9-25 ms swings.
    Before the typical gate: noise "within the runner-speed swings of the history" or pass on the
    short histories (a long one lets the runner model call the typical latency's shift the code's:
    the p95s are then judged at the runner's expected level and fail, the median is not repeated)."""
    rng = random.Random(seed)
    history = _history(rng, runs)
    detection = detect_regressions(_run(rng, add_ms=5.4, p95_ms=20.0), history, Policy(), today=TODAY)
    assert detection.verdict == "regression", detection.reason
    regressed = _regressed(detection)
    assert {endpoint for endpoint, _ in regressed} == set(MEDIANS_MS)
    medians = [f for f in detection.findings if f.classification == "regression" and f.stat == "med"]
    assert all(f.change_ratio is not None and f.change_ratio >= TYPICAL_MIN_RATIO for f in medians)
    for name in MEDIANS_MS:  # each endpoint named once: by its median only where its tail did not fail
        assert ((name, "med") in regressed) != ((name, "p(95)") in regressed or (name, "p(99)") in regressed)


@pytest.mark.parametrize("seed", range(4))
def test_the_same_median_on_a_runner_measured_busy_is_not_a_regression(seed: int) -> None:
    """The calibration probe ×2.5 slower than the history's: the runner explains it (noise)."""
    rng = random.Random(seed)
    history = _history(rng, 6)
    candidate = _run(rng, add_ms=5.4, p95_ms=20.0, probe=2.5)
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason


@pytest.mark.parametrize("seed", range(4))
def test_a_median_below_its_own_floor_is_evidence_only(seed: int) -> None:
    """+0.5 ms (×1.3): significant against a steady median, but under ×1.5 and p95 unmoved."""
    rng = random.Random(seed)
    history = _history(rng, 20)
    detection = detect_regressions(_run(rng, add_ms=0.55, p95_ms=17.0), history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason
    assert all(f.stat != "med" for f in detection.findings), "the median is reported only as a regression"


@pytest.mark.parametrize("seed", range(4))
def test_clean_runs_report_no_median(seed: int) -> None:
    rng = random.Random(seed)
    history = _history(rng, 20)
    detection = detect_regressions(_run(rng), history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason
    assert all(f.stat != "med" for f in detection.findings)


def test_a_policy_that_gates_the_median_judges_it_once() -> None:
    rng = random.Random(5)
    history = _history(rng, 20)
    latency = MetricRule(
        match="http_req_duration{name:*}", stats=["med", "p(95)"], direction="higher_is_worse", unit="ms"
    )
    detection = detect_regressions(
        _run(rng, add_ms=5.4, p95_ms=20.0), history, Policy(rules=[latency]), today=TODAY
    )
    medians = [f for f in detection.findings if f.stat == "med"]
    assert len(medians) == len(MEDIANS_MS), (
        "the policy's rule judges the median, the typical gate stands aside"
    )
    assert detection.verdict == "regression", detection.reason
