"""Properties of healing: ceilings hold, a drift never drags a limit, a regression never heals."""

from __future__ import annotations

import numpy as np
import pytest
from factories import make_run_record
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.core.heal import propose_heal
from perfgate.core.heal.bounds import ANCHOR_RUNS
from perfgate.models import Policy, RunRecord, default_rules

METRIC = "http_req_duration{name:get_note}"


def runs_from(values: list[float]) -> list[RunRecord]:
    return [make_run_record({"get_note": {"p(95)": v}}) for v in values]


def heal(values: list[float], limit: float, policy: Policy, verdict: str | None = None):  # type: ignore[no-untyped-def]
    return propose_heal(
        scenario="s",
        profile_name="p.yaml",
        options={"thresholds": {METRIC: [f"p(95)<{limit:g}"]}},
        history=runs_from(values),
        verdict=verdict,  # type: ignore[arg-type]
        policy=policy,
    )


series = st.builds(
    lambda level, sigma, n, seed: [
        float(v) for v in level * np.exp(sigma * np.random.default_rng(seed).standard_normal(n))
    ],
    st.floats(5, 2000),
    st.floats(0.0, 0.4),
    st.integers(5, 40),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=60, deadline=None)
@given(values=series, ceiling=st.floats(5, 3000), current=st.floats(1, 5000))
def test_healed_threshold_never_exceeds_the_ceiling(
    values: list[float], ceiling: float, current: float
) -> None:
    rules = [
        rule.model_copy(update={"ceiling": ceiling}) if rule.unit == "ms" else rule
        for rule in default_rules()
    ]
    plan = heal(values, round(current, 1), Policy(rules=rules))
    assert all(change.new_limit <= ceiling for change in plan.thresholds)


@settings(max_examples=60, deadline=None)
@given(
    level=st.floats(10, 500),
    sigma=st.floats(0.005, 0.08),
    drift=st.floats(0.02, 0.03),
    drifting=st.integers(10, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_drift_never_drags_a_threshold_past_its_anchor(
    level: float, sigma: float, drift: float, drifting: int, seed: int
) -> None:
    """A stable start, then +2-3 %/run for 10+ runs (+20 % or more): the limit never rises above both
    the limit healed on the stable start and the current one, and the anchor stays the stable
    start's median. (A creep of fewer runs, +2-12 % under noise of up to 8 %, is not visible as one:
    it is healed as noise, and a noise estimate from more runs may move the limit either way.)"""
    rng = np.random.default_rng(seed)
    stable = [float(v) for v in level * np.exp(sigma * rng.standard_normal(ANCHOR_RUNS))]
    drifted = [
        float(level * (1 + drift) ** (i + 1) * np.exp(sigma * rng.standard_normal())) for i in range(drifting)
    ]
    policy = Policy()
    first = heal(stable, 10 * level, policy).thresholds
    assert first, "the stable start heals a loose limit"
    anchored = first[0].new_limit
    for current in (anchored, 10 * level):
        plan = heal(stable + drifted, current, policy)
        for change in plan.thresholds:
            assert change.new_limit <= max(anchored, current) * 1.0001
            assert change.evidence.anchor == pytest.approx(float(np.exp(np.median(np.log(stable)))), rel=1e-9)
        if current == anchored:
            assert all(change.direction != "loosen" for change in plan.thresholds)


@settings(max_examples=40, deadline=None)
@given(values=series, current=st.floats(1, 5000), verdict=st.sampled_from(["regression", "warn"]))
def test_never_loosens_while_regression_or_warn(values: list[float], current: float, verdict: str) -> None:
    plan = heal(values, round(current, 1), Policy(), verdict)
    assert all(change.direction != "loosen" for change in plan.thresholds)
    if verdict == "regression":
        assert plan.refused and not plan.thresholds and not plan.stages
