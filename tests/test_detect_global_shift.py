"""One endpoint that goes against a run-wide shift: judged against the other endpoints of its run."""

from __future__ import annotations

import random
from datetime import date

import pytest
from factories import DEFAULT_ENDPOINTS, make_run_record

from perfgate.core.detect import detect_regressions
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
    flagged = {f.endpoint for f in detection.findings if f.classification == "regression"}
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
