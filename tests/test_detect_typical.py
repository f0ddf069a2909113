"""An endpoint's typical latency (geometric mean of k6's avg and med) carries the own-change test.

A shift of one endpoint moves its whole distribution; its p95 from one short run is noisy, its
mean and median much less. These tests build histories where the p95 of every endpoint swings
±15 % from run to run while the mean and median swing ±2 %, as on the real corpus (bench/corpus).
"""

from __future__ import annotations

import math
import random
from datetime import date

import pytest
from factories import make_run_record

from perfgate.core.detect import detect_regressions
from perfgate.core.detect.evidence import Evidence, pooled_own_ratio
from perfgate.core.detect.extract import LOCATION_STAT, Target, stat_value
from perfgate.models import Policy, RunRecord

TODAY = date(2026, 11, 23)
# ~8 ms p95 endpoints, like the notes API on a quiet machine
P95 = {"list_notes": 8.6, "get_note": 7.8, "create_note": 11.1, "update_note": 10.7, "delete_note": 9.6}


def _endpoint(rng: random.Random, p95: float, shift_ms: float = 0.0, tail: float = 1.0) -> dict[str, float]:
    center = rng.gauss(1.0, 0.02)
    return {
        "med": 0.45 * p95 * center + shift_ms,
        "avg": 0.5 * p95 * center + shift_ms,
        "p(90)": 0.85 * p95 * rng.gauss(1.0, 0.08) + shift_ms,
        "p(95)": p95 * rng.gauss(1.0, 0.15) * tail + shift_ms,
        "p(99)": 1.4 * p95 * rng.gauss(1.0, 0.15) * tail + shift_ms,
    }


def _run(
    rng: random.Random, shift: dict[str, float] | None = None, tail: dict[str, float] | None = None
) -> RunRecord:
    shift, tail = shift or {}, tail or {}
    return make_run_record(
        {name: _endpoint(rng, p95, shift.get(name, 0.0), tail.get(name, 1.0)) for name, p95 in P95.items()}
    )


@pytest.fixture
def history() -> list[RunRecord]:
    rng = random.Random(5)
    return [_run(rng) for _ in range(30)]


def test_typical_is_the_geometric_mean_of_mean_and_median() -> None:
    run = make_run_record({"get_note": {"avg": 4.0, "med": 9.0}})
    assert stat_value(run, "http_req_duration{name:get_note}", LOCATION_STAT) == pytest.approx(6.0)
    assert stat_value(run, "http_req_duration{name:get_note}", "avg") == 4.0


def test_typical_falls_back_to_the_mean_without_a_median() -> None:
    run = make_run_record({"get_note": {"avg": 4.0, "med": 0.0}})
    assert stat_value(run, "http_req_duration{name:get_note}", LOCATION_STAT) == 4.0
    assert stat_value(run, "http_req_duration{name:nowhere}", LOCATION_STAT) is None


def _evidence(excess: float, scale: float, typical: float | None, typical_scale: float | None) -> Evidence:
    policy = Policy()
    metric = "http_req_duration{name:get_note}"
    rule = policy.rule_for(metric)
    assert rule is not None
    ev = Evidence(Target(metric, "p(95)", rule, "get_note"), observed=10.0, baseline=8.0, n=30)
    ev.excess_ratio, ev.excess_scale = math.exp(excess), scale
    ev.mean_excess, ev.mean_excess_scale = typical, typical_scale
    return ev


def test_pooled_own_ratio_weights_by_inverse_variance() -> None:
    equal = pooled_own_ratio(_evidence(math.log(1.3), 0.1, math.log(1.1), 0.1))
    assert equal == pytest.approx(math.sqrt(1.3 * 1.1))
    steady_typical = pooled_own_ratio(_evidence(math.log(1.3), 0.15, math.log(1.1), 0.03))
    assert steady_typical is not None and 1.1 < steady_typical < 1.12
    assert pooled_own_ratio(_evidence(math.log(1.3), 0.15, None, None)) == pytest.approx(1.3)


def test_a_shift_of_one_endpoint_hidden_in_its_noisy_p95_is_a_regression(history: list[RunRecord]) -> None:
    # +1.6 ms on every get_note request (~+20 % of its p95): the p95 draw alone may even look better
    candidate = _run(random.Random(8), shift={"get_note": 1.6})
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict == "regression", detection.reason
    flagged = {f.endpoint for f in detection.findings if f.classification == "regression"}
    assert flagged == {"get_note"}
    finding = next(f for f in detection.findings if f.endpoint == "get_note" and f.stat == "p(95)")
    assert finding.own_change_ratio is not None and finding.own_change_ratio > 1.2
    assert "endpoint_excess" in finding.detectors


def test_a_p95_swing_without_a_shift_of_the_typical_request_is_not_a_regression(
    history: list[RunRecord],
) -> None:
    # p95 +12 % on one endpoint, its mean and median unchanged: within a short run's tail noise
    for seed in range(10):
        candidate = _run(random.Random(100 + seed), tail={"create_note": 1.12})
        detection = detect_regressions(candidate, history, Policy(), today=TODAY)
        assert detection.verdict != "regression", (seed, detection.reason)


def test_a_shift_below_the_absolute_floor_is_not_a_regression(history: list[RunRecord]) -> None:
    # +0.3 ms on every get_note request: significant on the typical latency, below 1 ms on p95
    candidate = _run(random.Random(8), shift={"get_note": 0.3})
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason
