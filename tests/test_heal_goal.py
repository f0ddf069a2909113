"""The healing goal, measured: healed thresholds, used by k6 alone, pass ≥ 95 % of noise runs
and fail ≥ 90 % of 25 % regressions, on seeded synthetic lognormal histories.

A static limit can meet both only when the run-to-run noise σ (log) satisfies
1.645σ + 1.28σ ≤ ln 1.25, i.e. σ ≤ ~7.6 %; with the default headroom 1.15 (the least room over
the level) both hold up to σ ≈ 5 % with 20+ runs of history. Above that, the bound keeps noise
passing (noise must not block) and the analyzer, not the threshold, catches the regressions.

Run `python tests/test_heal_goal.py` to print the table.
"""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.core.heal.targets import Target, classify
from perfgate.core.heal.thresholds import propose_threshold
from perfgate.models import Policy

REGRESSION = 1.25


def measure(
    sigma: float, runs: int, *, trials: int = 300, seed: int = 0, headroom: float = 1.15
) -> tuple[float, float]:
    """(noise pass rate, 25 %-regression fail rate) of the healed p(95) limit."""
    rng = np.random.default_rng(seed)
    policy = Policy.model_validate({"healing": {"headroom": headroom}})
    passed = failed = total = 0
    for _ in range(trials):
        level = rng.uniform(20, 400)
        history = level * np.exp(sigma * rng.standard_normal(runs))
        limit = healed_limit([float(v) for v in history], policy)
        fresh = level * np.exp(sigma * rng.standard_normal(100))
        passed += int(np.sum(fresh < limit))
        failed += int(np.sum(REGRESSION * fresh >= limit))
        total += fresh.size
    return passed / total, failed / total


def healed_limit(history: list[float], policy: Policy, start: float = 100000.0) -> float:
    """The p(95) limit after repeated heals on the same history (one heal moves at most half way)."""
    limit = start
    for _ in range(40):
        target = classify("http_req_duration{name:x}", f"p(95)<{limit!r}", policy, [])
        assert isinstance(target, Target)
        change = propose_threshold(target, history, policy, None)
        if not hasattr(change, "new_limit"):
            return limit
        limit = change.new_limit  # type: ignore[union-attr]
    raise AssertionError("repeated heals did not converge")


@pytest.mark.parametrize("runs", [20, 40])
@pytest.mark.parametrize("sigma", [0.02, 0.04, 0.05])
def test_goal_holds_where_a_static_limit_can_meet_it(sigma: float, runs: int) -> None:
    noise_pass, regression_fail = measure(sigma, runs)
    assert noise_pass >= 0.95
    assert regression_fail >= 0.90


@pytest.mark.parametrize("sigma", [0.08, 0.15, 0.25])
def test_noise_still_passes_when_noise_is_large(sigma: float) -> None:
    noise_pass, _ = measure(sigma, 20)
    assert noise_pass >= 0.945


if __name__ == "__main__":
    for sigma in (0.02, 0.04, 0.05, 0.06, 0.08, 0.15):
        cells = [f"n={n}: {p:.1%} pass / {f:.1%} fail" for n in (10, 20, 40) for p, f in [measure(sigma, n)]]
        print(f"sigma {sigma:.0%}: " + "; ".join(cells))
