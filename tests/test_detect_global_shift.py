"""One endpoint that goes against a run-wide shift: judged against the other endpoints of its run."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest
from factories import DEFAULT_ENDPOINTS, make_run_record

from perfgate.core.detect import Detection, detect_regressions
from perfgate.models import Policy, RunRecord

TODAY = date(2026, 11, 23)


def _run(rng: random.Random, scale: float, overrides: dict[str, float] | None = None) -> RunRecord:
    endpoints = {
        name: {"p(95)": stats["p(95)"] * scale * rng.uniform(0.95, 1.05)}
        for name, stats in DEFAULT_ENDPOINTS.items()
    }
    for name, factor in (overrides or {}).items():
        endpoints[name] = {"p(95)": DEFAULT_ENDPOINTS[name]["p(95)"] * scale * factor}
    return make_run_record(endpoints)


def _regressed(detection: Detection) -> set[str | None]:
    return {f.endpoint for f in detection.findings if f.classification == "regression"}


def _regression_on(candidate: RunRecord, history: list[RunRecord]) -> Detection:
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict == "regression", detection.reason
    return detection


@pytest.fixture
def history() -> list[RunRecord]:
    rng = random.Random(11)
    return [_run(rng, rng.uniform(0.9, 1.1)) for _ in range(20)]


def test_a_slower_endpoint_in_a_run_that_got_faster_everywhere_is_a_regression(
    history: list[RunRecord],
) -> None:
    candidate = _run(random.Random(3), 0.5, {"search": 3.0})  # everything ×0.5, search ×1.5 raw, ×3 relative
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict == "regression", detection.reason
    flagged = _regressed(detection)
    assert flagged == {"search"}
    finding = next(f for f in detection.findings if f.endpoint == "search" and f.stat == "p(95)")
    assert finding.own_change_ratio == pytest.approx(3.0, rel=0.15)
    assert "against the other endpoints" in detection.reason


def test_an_endpoint_that_only_improved_less_than_the_others_is_not_a_regression(
    history: list[RunRecord],
) -> None:
    candidate = _run(
        random.Random(3), 0.5, {"search": 1.6}
    )  # search ×0.8 raw: better, but less than the rest
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason


def _busy_history(rng: random.Random) -> list[RunRecord]:
    """30 runs; every 7th is on a busy runner (×3 overall) where create_note slows ×1.3 more."""
    runs = []
    for i in range(30):
        busy = i % 7 == 3
        runs.append(
            _run(rng, 3.0 if busy else rng.uniform(0.95, 1.05), {"create_note": 1.3} if busy else None)
        )
    return runs


def test_endpoints_that_slow_more_on_a_busy_runner_are_not_a_regression_there() -> None:
    rng = random.Random(5)
    history = _busy_history(rng)
    busy_candidate = _run(rng, 3.5, {"create_note": 1.35})
    detection = detect_regressions(busy_candidate, history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason


def test_the_same_excess_on_a_quiet_runner_is_a_regression() -> None:
    rng = random.Random(5)
    history = _busy_history(rng)
    detection = _regression_on(_run(rng, 1.0, {"create_note": 1.35}), history)
    assert _regressed(detection) == {"create_note"}


def test_sensitivity_is_interpolated_never_extrapolated() -> None:
    import numpy as np

    from perfgate.core.detect.environment import sensitivity

    quiet = np.array([0.0, 0.01, -0.01, 0.02, 0.0])
    excess = np.array([0.0, 0.0, 0.01, -0.01, 0.0])
    slope, near = sensitivity(quiet, excess, np.array([1.2]))
    assert slope == 0.0 and not near.any(), "no busy run in the history: nothing to learn from"
    factors = np.append(quiet, [1.1, 1.0, 1.2])
    excess = np.append(excess, [0.22, 0.2, 0.24])  # slope ≈ 0.2
    slope, near = sensitivity(factors, excess, np.array([1.2]))
    assert slope == pytest.approx(0.2, abs=0.03) and int(near.sum()) == 3


WRITES = ("create_note", "update_note", "delete_note")


def _swinging_run(rng: random.Random, factor: float, own: dict[str, float] | None = None) -> RunRecord:
    """A runner ×`factor`; the writes slow by factor**1.4 (they are more sensitive), ±3 % noise."""
    endpoints = {}
    for name, stats in DEFAULT_ENDPOINTS.items():
        sensitivity = 1.4 if name in WRITES else 1.0
        value = stats["p(95)"] * factor**sensitivity * rng.uniform(0.97, 1.03) * (own or {}).get(name, 1.0)
        endpoints[name] = {"p(95)": value}
    return make_run_record(endpoints)


def _swinging_history(rng: random.Random) -> list[RunRecord]:
    return [_swinging_run(rng, math.exp(rng.uniform(-0.5, 0.5))) for _ in range(30)]


def test_on_a_widely_swinging_runner_a_write_endpoints_own_change_is_caught() -> None:
    rng = random.Random(21)
    history = _swinging_history(rng)
    detection = _regression_on(_swinging_run(rng, 1.3, {"update_note": 1.2}), history)
    assert _regressed(detection) == {"update_note"}


@pytest.mark.parametrize("seed", range(8))
def test_on_a_widely_swinging_runner_the_writes_sensitivity_is_not_a_regression(seed: int) -> None:
    rng = random.Random(300 + seed)
    history = _swinging_history(rng)
    candidate = _swinging_run(rng, math.exp(rng.uniform(-0.5, 0.5)))
    detection = detect_regressions(candidate, history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason


def _hog_run(
    rng: random.Random, runner: float, own: dict[str, float] | None = None, noise: float = 0.03
) -> RunRecord:
    """A runner ×`runner` on which the writes slow as runner**1.35 and the reads as runner**0.9."""
    endpoints = {}
    for name, stats in DEFAULT_ENDPOINTS.items():
        moved = runner ** (1.35 if name in WRITES else 0.9) * (own or {}).get(name, 1.0)
        endpoints[name] = {"p(95)": stats["p(95)"] * moved * rng.uniform(1 - noise, 1 + noise)}
    return make_run_record(endpoints)


def _hog_history(rng: random.Random) -> list[RunRecord]:
    """30 runs; every 6th under heavy contention (×2.2-2.8)."""
    return [
        _hog_run(rng, rng.uniform(2.2, 2.8) if i % 6 == 2 else rng.uniform(0.95, 1.05)) for i in range(30)
    ]


@pytest.mark.parametrize("seed", range(6))
def test_writes_slowing_as_they_always_do_on_a_busy_run_are_not_a_regression(seed: int) -> None:
    """The run ×1.55 together; against the other endpoints (mostly reads, ×1.44) the writes read
    ×1.2 "on their own", as much as the history's busy runs predict at that load. Judged busy by
    the writes' leave-one-out factor alone (×1.44, under ×1.5) the history's busy runs were not
    consulted and the writes were a regression (quiet corpus, two CPU hogs: r068)."""
    rng = random.Random(40 + seed)
    history = _hog_history(rng)
    detection = detect_regressions(_hog_run(rng, 1.5, noise=0.01), history, Policy(), today=TODAY)
    assert detection.verdict != "regression", detection.reason


@pytest.mark.parametrize("seed", range(6))
def test_a_write_slower_than_the_busy_runs_predict_is_still_a_regression(seed: int) -> None:
    rng = random.Random(40 + seed)
    history = _hog_history(rng)
    candidate = _hog_run(rng, 1.5, {"create_note": 1.5}, noise=0.01)
    assert _regressed(_regression_on(candidate, history)) == {"create_note"}
