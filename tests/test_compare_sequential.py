"""The stopping rule of `perfgate compare`, measured on simulated A/A and A/B comparisons.

The claim (core/compare/sequential.py): over all metrics and all looks, a metric that moved
less than its minimum effect is called a regression at most `alpha` of the time, whatever the
runner does between halves. Each world below is simulated (tests/compare_sim.py, seeded) and
the rate counted; a naive per-request test on the same data shows the worlds are hard enough
to fool a procedure that ignores the pairing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from compare_sim import ENDPOINTS, World, metric_data, pair_samples, simulate
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.core.compare.estimate import Interval, hodges_lehmann, mann_whitney_interval
from perfgate.core.compare.sequential import Plan, decide, judge, judge_metric
from perfgate.models.policy import MetricRule, Policy

PLAN = Plan(min_pairs=2, max_pairs=10, alpha=0.05)
TRIALS = 150
WORLDS = {
    "calm": World(half_sigma=0.02),
    "contended": World(half_sigma=0.15),
    "spiky (t, 2 df)": World(half_sigma=0.1, heavy=True),
    "drifting": World(half_sigma=0.03, drift_per_half=0.03),
}


def _verdicts(world: World, trials: int, plan: Plan = PLAN, rule: MetricRule | None = None) -> list[set[str]]:
    """Per trial, the verdicts of the endpoints, each decided by replaying every look."""
    out = []
    for seed in range(trials):
        pairs = simulate(world, plan.max_pairs, seed)
        metrics = [metric_data(pairs, name, rule) if rule else metric_data(pairs, name) for name in ENDPOINTS]
        out.append({judge_metric(metric, plan, len(ENDPOINTS)).verdict for metric in metrics})
    return out


def _rate(verdicts: list[set[str]], kind: str) -> float:
    return sum(kind in trial for trial in verdicts) / len(verdicts)


@pytest.mark.parametrize("world", WORLDS.values(), ids=WORLDS.keys())
def test_a_a_false_alarms_stay_under_alpha(world: World) -> None:
    verdicts = _verdicts(world, TRIALS)
    assert _rate(verdicts, "regression") <= PLAN.alpha
    assert _rate(verdicts, "improvement") <= PLAN.alpha


def test_a_change_exactly_at_the_minimum_effect_is_a_regression_at_most_alpha_of_the_time() -> None:
    # endpoint c (25 ms): the minimum effect is the 10 % ratio (1 ms is only 4 %)
    world = World(half_sigma=0.05, slower={"c": 1.10})
    verdicts = _verdicts(world, TRIALS)
    assert _rate(verdicts, "regression") <= PLAN.alpha


def test_one_look_is_calibrated_not_just_conservative() -> None:
    """With no minimum effect and a single look, the interval's one-sided miss rate is ~alpha."""
    zero = MetricRule(match="*", stats=["med"], direction="higher_is_worse", unit="ms", min_change_ratio=1.0)
    one_look = Plan(min_pairs=6, max_pairs=6, alpha=0.05 * len(ENDPOINTS))  # 0.05 per metric
    verdicts = _verdicts(World(half_sigma=0.1), 400, one_look, zero)
    misses = [v for trial in verdicts for v in trial]
    rate = sum(v == "regression" for v in misses) / len(misses)
    assert 0.02 <= rate <= 0.08, rate


def test_the_worlds_fool_a_naive_per_request_test() -> None:
    """Pooling every request of every pair into one Mann–Whitney interval ignores the half-level noise."""
    false_alarms = 0
    for seed in range(60):
        pairs = simulate(WORLDS["contended"], 4, seed)
        base = np.log(np.concatenate([pair["b"][0] for pair in pairs]))
        head = np.log(np.concatenate([pair["b"][1] for pair in pairs]))
        low, _high = mann_whitney_interval(base, head, level=0.90)
        false_alarms += low > math.log(1.125)
    assert false_alarms / 60 > 0.05


def test_a_40_percent_slower_endpoint_is_caught() -> None:
    verdicts = _verdicts(World(half_sigma=0.03, slower={"b": 1.4}), 60)
    assert _rate(verdicts, "regression") >= 0.9
    assert all("improvement" not in trial for trial in verdicts)


def test_judge_stops_on_a_regression_and_names_it() -> None:
    pairs = pair_samples(simulate(World(half_sigma=0.02, slower={"c": 2.0}), 10, seed=3))
    for n in range(1, 11):
        judgement = judge(pairs[:n], Policy(), PLAN)
        if judgement.done:
            break
    assert judgement.verdict == "regression"
    assert n < 10
    worst = next(m for m in judgement.metrics if m.name == "http_req_duration{name:c}")
    assert worst.verdict == "regression" and worst.decided_at_pair == n
    assert worst.ci_low_pct > worst.min_effect_pct
    assert 80 < worst.change_pct < 125


def test_judge_waits_for_min_pairs_and_ends_unsure_at_max_pairs() -> None:
    pairs = pair_samples(simulate(World(half_sigma=0.4), 3, seed=1))
    plan = Plan(min_pairs=3, max_pairs=3)
    early = judge(pairs[:2], Policy(), plan)
    assert not early.done and early.verdict == "unsure"
    assert all(m.decided_at_pair is None for m in early.metrics)
    final = judge(pairs, Policy(), plan)
    assert final.done


def test_the_looks_spend_exactly_alpha() -> None:
    plan = Plan(min_pairs=3, max_pairs=12, alpha=0.05)
    spent = sum(plan.look_alpha(4, pairs) for pairs in range(3, 13)) * 4
    assert spent == pytest.approx(0.05)
    assert plan.look_alpha(4, 3) < plan.look_alpha(4, 12)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0.2, 0.5, "regression"), (-0.5, -0.2, "improvement"), (-0.05, 0.05, "same"), (0.05, 0.3, None),
     (-0.3, 0.3, None), (-0.3, -0.05, None)],
)  # fmt: skip
def test_decide_against_a_margin_of_ten_percent(low: float, high: float, expected: str | None) -> None:
    assert decide(Interval((low + high) / 2, low, high), 0.1) == expected


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000), ratio=st.sampled_from([0.6, 1.0, 1.6]), sigma=st.sampled_from([0.02, 0.2])
)
def test_swapping_base_and_head_mirrors_the_verdict(seed: int, ratio: float, sigma: float) -> None:
    pairs = simulate(World(half_sigma=sigma, slower={"b": ratio}), 6, seed)
    swapped = [{n: (h, b) for n, (b, h) in pair.items()} for pair in pairs]
    plan = Plan(min_pairs=2, max_pairs=6)
    mirror = {"regression": "improvement", "improvement": "regression", "same": "same", "unsure": "unsure"}
    zero_floor = MetricRule(match="*", stats=["med"], direction="higher_is_worse", unit="ms")
    there = judge_metric(metric_data(pairs, "b", zero_floor), plan, 5)
    back = judge_metric(metric_data(swapped, "b", zero_floor), plan, 5)
    assert back.verdict == mirror[there.verdict]
    assert math.isclose(math.log1p(there.change_pct / 100), -math.log1p(back.change_pct / 100), abs_tol=2e-3)


def test_hodges_lehmann_recovers_a_known_shift() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 300)
    assert hodges_lehmann(base, base + 0.7) == pytest.approx(0.7)
    assert abs(hodges_lehmann(base, rng.normal(0.7, 1, 300)) - 0.7) < 0.2
