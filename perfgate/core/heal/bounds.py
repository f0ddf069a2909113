"""The robust upper prediction bound a healed threshold is built on.

Values are moved into a *badness space* where noise is roughly additive and larger is worse
(`MetricSpace`): the natural log for latencies and throughput (`ms`, `per_s`: noise is
multiplicative), raw for ratios and counts; lower-is-worse metrics are negated (ratios are
mirrored, `1 - x`, so a checks rate of 0.998 becomes a failure fraction of 0.002).

In that space (`fit_limit`):

- noise `s`: the MAD sigma of first differences / √2. Differences cancel a level, a step and
  a slow drift (a drift adds a constant to every difference, and the MAD is taken around the
  median difference), so a creeping history does not widen its own limit.
- anchor: the median of the oldest `ANCHOR_RUNS` runs (fewer when the history is shorter):
  the long-run baseline. Runs appended later never move it, so a drift cannot drag it along.
- level: the anchor, or the median of the newest `RECENT_RUNS` runs when every one of them is
  better than the anchor (sustained improvement: several runs, never one lucky run).
- bound: level + k·s·√(1 + (π/2)/m), k the one-sided 95 % Student-t quantile with a third of
  n - 1 degrees of freedom (a MAD of differences is about a third as efficient as an SD), m the
  runs the level is the median of: the level a noise run stays under 95 % of the time.
- tail guard: with at least `TAIL_MIN_RUNS` runs, the empirical 95th percentile of the history's
  residuals around a running median of `TAIL_WINDOW` runs is room too (a median filter follows
  steps and drifts exactly, so neither is counted as noise; bursts of up to 4 slow runs stay
  residuals). Real
  CI noise is heavy-tailed (a busy runner makes 1 run in 7 several times slower); the MAD of
  differences ignores those runs by design, and a limit built on it alone would fail them.
- limit: level + max(bound room, tail room, ln(headroom)) in log space, or
  level + max(bound room, (headroom - 1)·|level|, min_change_abs) in raw space.
  The policy's headroom is the *least* room over the level, not a factor on top of the
  bound: multiplying both would make a 25 % regression pass whenever the noise exceeds ~3 %,
  while `max` keeps ≥ 95 % of noise runs passing and fails ≥ 90 % of 25 % regressions for
  noise up to ~6 % (tests/test_heal_goal.py measures it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

FloatArray = NDArray[np.float64]

MAD_TO_SIGMA = 1.4826
ANCHOR_RUNS = 10
RECENT_RUNS = 5
NOISE_QUANTILE = 0.95
LOG_FLOOR = 0.01  # smallest log-space sigma assumed (1 %)
LOG_EPSILON = 1e-6
MEDIAN_VARIANCE = math.pi / 2
TAIL_MIN_RUNS = 20
TAIL_WINDOW = 9


@dataclass(frozen=True)
class MetricSpace:
    """How a metric's values become badness (see the module docstring)."""

    log: bool
    upper: bool  # True: higher is worse (`<` thresholds)
    ratio: bool = False

    def to_badness(self, values: FloatArray) -> FloatArray:
        if self.log:
            logs = np.log(np.maximum(values, LOG_EPSILON))
            return logs if self.upper else -logs
        if self.upper:
            return values.astype(np.float64)
        return 1.0 - values if self.ratio else -values

    def from_badness(self, value: float) -> float:
        if self.log:
            return math.exp(value if self.upper else -value)
        if self.upper:
            return value
        return 1.0 - value if self.ratio else -value

    def one(self, value: float) -> float:
        return float(self.to_badness(np.array([value], dtype=np.float64))[0])

    @property
    def floor(self) -> float:
        return LOG_FLOOR if self.log else 0.0


@dataclass(frozen=True)
class LimitModel:
    """The numbers behind one proposed limit; values in the metric's unit unless named `_b`."""

    runs: int
    median: float
    spread: float
    anchor: float
    level: float
    upper_bound: float
    limit: float
    improved: bool
    recent: tuple[float, ...]
    sigma_b: float
    margin_b: float
    anchor_b: float

    def noise_crossing(self, space: MetricSpace, limit: float) -> float:
        """Model probability that a noise run (anchor level) is worse than `limit`."""
        z = (space.one(limit) - self.anchor_b) / max(self.sigma_b, 1e-12)
        return float(special.ndtr(-z))


def noise_sigma(badness: FloatArray, floor: float) -> float:
    """MAD sigma of first differences / √2, never below `floor`."""
    if badness.size < 3:
        return floor
    diffs = np.diff(badness)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return max(MAD_TO_SIGMA * mad / math.sqrt(2.0), floor)


def prediction_k(runs: int, level_runs: int) -> float:
    """One-sided 95 % Student-t quantile for a new value, times the inflation for a level that is
    the median of `level_runs` values (variance of a median: π/2 · σ²/m)."""
    inflation = math.sqrt(1.0 + MEDIAN_VARIANCE / max(level_runs, 1))
    return float(special.stdtrit(effective_df(runs), NOISE_QUANTILE)) * inflation


def effective_df(runs: int) -> int:
    """Degrees of freedom of the MAD-of-differences sigma: about a third of a plain SD's (n - 1)."""
    return max(2, (runs - 1) // 3)


def tail_room(badness: FloatArray) -> float:
    """Empirical 95th percentile of the residuals around a running median (0 if too few runs).

    Only full, centred windows count: at either end of the history a truncated window lags a
    drift, and its residuals would count the drift as noise (a +2.3 %/run creep then loosened a
    limit its stable start had set, tests/test_heal_properties.py)."""
    n = int(badness.size)
    if n < TAIL_MIN_RUNS:
        return 0.0
    half = TAIL_WINDOW // 2  # the window centred on each run from `half` to `n - half - 1`
    running = np.median(np.lib.stride_tricks.sliding_window_view(badness, TAIL_WINDOW), axis=1)
    return max(float(np.quantile(badness[half : n - half] - running, NOISE_QUANTILE)), 0.0)


def anchor_runs(runs: int) -> int:
    return min(runs, ANCHOR_RUNS)


def fit_limit(
    values: Sequence[float], space: MetricSpace, *, headroom: float, min_change_abs: float
) -> LimitModel:
    """The proposed limit (before rounding and ceilings) for `values`, oldest first."""
    raw = np.asarray(values, dtype=np.float64)
    badness = space.to_badness(raw)
    n = int(raw.size)
    sigma = noise_sigma(badness, space.floor)
    anchor_b = float(np.median(badness[: anchor_runs(n)]))
    recent_b = badness[-RECENT_RUNS:]
    improved = n > RECENT_RUNS and bool(np.all(recent_b < anchor_b))
    level_b = float(np.median(recent_b)) if improved else anchor_b
    level_runs = int(recent_b.size) if improved else anchor_runs(n)
    noise_b = max(prediction_k(n, level_runs) * sigma, tail_room(badness))
    if space.log:
        margin_b = max(noise_b, math.log(headroom))
    else:
        margin_b = max(noise_b, (headroom - 1.0) * abs(level_b), min_change_abs)
    limit = space.from_badness(level_b + margin_b)
    level = space.from_badness(level_b)
    if space.log and min_change_abs > 0:  # never closer to the level than the policy's minimum effect
        limit = max(limit, level + min_change_abs) if space.upper else min(limit, level - min_change_abs)
    median = float(np.median(raw))
    return LimitModel(
        runs=n,
        median=median,
        spread=_raw_spread(space, float(np.median(badness)), sigma),
        anchor=space.from_badness(anchor_b),
        level=level,
        upper_bound=space.from_badness(level_b + noise_b),
        limit=limit,
        improved=improved,
        recent=tuple(float(v) for v in raw[-RECENT_RUNS:]),
        sigma_b=sigma,
        margin_b=margin_b,
        anchor_b=anchor_b,
    )


def _raw_spread(space: MetricSpace, center_b: float, sigma_b: float) -> float:
    """The noise sigma in the metric's own unit (log space: relative sigma times the median)."""
    if not space.log:
        return sigma_b
    return abs(space.from_badness(center_b)) * (math.exp(sigma_b) - 1.0)
