"""Failure probability versus users: logistic regression of per-window SLO violations on log(users).

A window violates the SLO when its latency stat exceeds the latency limit or its error rate
exceeds the error budget. The fitted curve gives the users where p crosses 0.05 and 0.5; their
95 % intervals come from a seeded bootstrap over windows (percentiles of the refitted
crossings). With no violation (or only violations) there is no curve to fit: p is 0 (or 1)
over the measured range and the note says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from perfgate.core.expressions import parse_expression
from perfgate.models.capacity import CapacityWindow, FailureCrossings, FailurePoint, FloatArray

BOOTSTRAP = 200
LATENCY_STATS = {"avg": "mean_ms", "med": "p50_ms", "p(50)": "p50_ms", "p(95)": "p95_ms"}


@dataclass(frozen=True)
class Slo:
    latency_stat: str = "p(95)"
    latency_ms: float | None = None
    error_budget: float | None = None

    def violated(self, window: CapacityWindow) -> bool:
        latency = getattr(window, LATENCY_STATS[self.latency_stat])
        slow = self.latency_ms is not None and latency > self.latency_ms
        failing = self.error_budget is not None and window.error_rate > self.error_budget
        return bool(slow or failing)


@dataclass(frozen=True)
class FailureModel:
    intercept: float
    slope: float  # per unit of log(users)

    def probability(self, users: FloatArray) -> FloatArray:
        logit = self.intercept + self.slope * np.log(np.asarray(users, dtype=np.float64))
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))

    def users_at(self, p: float) -> float | None:
        if self.slope <= 0:
            return None
        return float(math.exp((math.log(p / (1 - p)) - self.intercept) / self.slope))


def fit_failure(users: FloatArray, violated: FloatArray) -> FailureModel | None:
    """Logistic regression on log(users); None unless both outcomes occur."""
    if np.unique(violated).size < 2:
        return None
    x = np.log(users).reshape(-1, 1)
    with warnings.catch_warnings():
        # near-separable resamples may stop short of convergence; the fit is still the best found
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=100.0, solver="newton-cholesky", max_iter=200).fit(
            x, violated.astype(int)
        )
    return FailureModel(intercept=float(model.intercept_[0]), slope=float(model.coef_[0][0]))


def _interval(values: list[float]) -> tuple[float, float] | None:
    if len(values) < BOOTSTRAP // 2:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return round(float(low), 2), round(float(high), 2)


def _bootstrap(
    users: FloatArray, violated: FloatArray, seed: int, bounds: tuple[float, float]
) -> dict[float, list[float]]:
    """Crossings refitted on resampled windows, clipped to the studied range `bounds`."""
    rng = np.random.default_rng(seed)
    found: dict[float, list[float]] = {0.05: [], 0.5: []}
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, users.size, users.size)
        model = fit_failure(users[pick], violated[pick])
        for p, values in found.items():
            at = model.users_at(p) if model is not None else None
            if at is not None:
                values.append(min(max(at, bounds[0]), bounds[1]))
    return found


def failure_study(
    windows: list[CapacityWindow], slo: Slo, grid: FloatArray, seed: int
) -> tuple[list[FailurePoint], FailureCrossings, FailureModel | None]:
    """The failure-probability curve over `grid` and its 0.05 / 0.5 crossings."""
    users = np.array([w.users for w in windows])
    violated = np.array([slo.violated(w) for w in windows], dtype=np.float64)
    model = fit_failure(users, violated)
    count = int(violated.sum())
    if model is None:
        p = 1.0 if count else 0.0
        what = "every window broke the SLO" if count else "no window broke the SLO"
        note = f"{what} (measured {users.min():g}-{users.max():g} users): no curve to fit"
        curve = [FailurePoint(users=round(float(n), 2), p=p) for n in grid if n <= users.max()]
        return curve, FailureCrossings(violations=count, windows=len(windows), note=note), None
    boot = _bootstrap(users, violated, seed, (float(grid[0]), float(grid[-1])))
    curve = [
        FailurePoint(users=round(float(n), 2), p=round(float(p), 5))
        for n, p in zip(grid, model.probability(grid), strict=True)
    ]
    crossings = FailureCrossings(
        p05_users=_rounded(model.users_at(0.05)),
        p05_interval=_interval(boot[0.05]),
        p50_users=_rounded(model.users_at(0.5)),
        p50_interval=_interval(boot[0.5]),
        violations=count,
        windows=len(windows),
    )
    return curve, crossings, model


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def parse_slo(expressions: Sequence[str], source: str = "--slo") -> Slo:
    """`p(95)<300` (latency, ms: avg, med, p(50) or p(95)) and `rate<0.01` (error budget) → `Slo`.

    Raises ValueError naming the bad expression.
    """
    latency_stat, latency_ms, budget = "p(95)", None, None
    for text in expressions:
        parsed = parse_expression(text)
        if parsed is None or not parsed.upper:
            raise ValueError(f"{source}: {text!r} is not an upper limit like 'p(95)<300' or 'rate<0.01'")
        stat = parsed.canonical_aggregation
        if stat == "rate":
            budget = parsed.limit
        elif stat in LATENCY_STATS:
            latency_stat, latency_ms = stat, parsed.limit
        else:
            raise ValueError(
                f"{source}: {stat!r} cannot be judged per window (use avg, med, p(50), p(95), rate)"
            )
    if latency_ms is None and budget is None:
        raise ValueError(f"{source}: no SLO given")
    return Slo(latency_stat=latency_stat, latency_ms=latency_ms, error_budget=budget)
