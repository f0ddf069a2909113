"""Effects of head against base: within one pair, then over the pairs (blocking on the pair).

Latency, within a pair: the Hodges–Lehmann shift of log latencies (the median of every
head−base difference of logs, i.e. the log of the HL ratio) with its distribution-free 95 %
interval: the shifts a two-sided Mann–Whitney test does not reject (Lehmann's order
statistics, checked against `scipy.stats.mannwhitneyu`). Its width gives the pair's sampling error.

Over the pairs: each pair's log ratio is one observation, so whatever moves a whole half
(runner contention, a slow neighbour, a drift between pairs) shows up as spread between pairs
instead of being mistaken for a change. The interval is Student's t on the per-pair effects
(n−1 degrees of freedom), never narrower than the pooled sampling error of the requests
themselves (normal quantile) — two pairs that agree by luck do not decide anything.

Error rate: per-pair differences of rates for the spread; for the sampling error, the
Agresti–Caffo interval of the pooled counts (one pseudo failure and success per arm), so a
comparison with no errors at all still has an honest width that shrinks with the requests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]

MAX_SIDE = 1000  # values per side kept for the pairwise differences (evenly spaced order statistics)
PAIR_LEVEL = 0.95  # level of the within-pair interval that gives a pair's sampling error
_Z_PAIR = float(stats.norm.ppf(0.5 + PAIR_LEVEL / 2))


@dataclass(frozen=True)
class PairEffect:
    """One pair's effect (log ratio, or rate difference) and its sampling standard error."""

    estimate: float
    se: float


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def thin(values: FloatArray, limit: int = MAX_SIDE) -> FloatArray:
    """At most `limit` values: evenly spaced order statistics, so the distribution keeps its shape."""
    ordered = np.sort(values)
    if ordered.size <= limit:
        return ordered
    return np.asarray(np.quantile(ordered, np.linspace(0.0, 1.0, limit)), dtype=np.float64)


def hodges_lehmann(base: FloatArray, head: FloatArray) -> float:
    """Median of every head − base difference (the shift estimate that goes with Mann–Whitney)."""
    return float(np.median(np.subtract.outer(head, base)))


def mann_whitney_interval(
    base: FloatArray, head: FloatArray, level: float = PAIR_LEVEL
) -> tuple[float, float]:
    """The shifts δ that a two-sided Mann–Whitney test of head − δ against base does not reject.

    Lehmann's construction: U(δ) counts the head − base differences above δ, so the bounds are
    the order statistics of those differences at U's critical value (normal approximation,
    continuity-corrected). tests/test_compare_estimate.py checks it against inverting
    `scipy.stats.mannwhitneyu` itself, which is ~50x slower (one call per bisection step).
    """
    n, m = base.size, head.size
    differences = np.sort(np.subtract.outer(head, base), axis=None)
    z = float(stats.norm.ppf(0.5 + level / 2))
    critical = math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12) - 0.5)
    if critical < 0:  # too few requests for any interval at this level
        return -math.inf, math.inf
    return float(differences[critical]), float(differences[differences.size - 1 - critical])


def latency_pair_effect(base_ms: Sequence[float], head_ms: Sequence[float]) -> PairEffect:
    """Log HL ratio of one pair and its standard error (from the Mann–Whitney interval)."""
    base = thin(np.log(np.maximum(np.asarray(base_ms, dtype=np.float64), 1e-6)))
    head = thin(np.log(np.maximum(np.asarray(head_ms, dtype=np.float64), 1e-6)))
    low, high = mann_whitney_interval(base, head)
    return PairEffect(hodges_lehmann(base, head), (high - low) / (2 * _Z_PAIR))


def error_pair_effect(base_failed: int, base_total: int, head_failed: int, head_total: int) -> PairEffect:
    return PairEffect(
        head_failed / max(head_total, 1) - base_failed / max(base_total, 1),
        agresti_caffo_se(base_failed, base_total, head_failed, head_total),
    )


def agresti_caffo_se(base_failed: int, base_total: int, head_failed: int, head_total: int) -> float:
    """Standard error of a difference of two rates, with one pseudo failure and success per arm."""
    variance = 0.0
    for failed, total in ((base_failed, base_total), (head_failed, head_total)):
        rate = (failed + 1) / (total + 2)
        variance += rate * (1 - rate) / (total + 2)
    return math.sqrt(variance)


def pooled_interval(effects: Sequence[PairEffect], sampling_se: float, alpha: float) -> Interval:
    """Two-sided interval (alpha on each side) of the mean per-pair effect.

    Width: the larger of Student's t on the spread between pairs and the normal quantile on
    `sampling_se` (the standard error of the mean from the requests alone).
    """
    values = np.array([effect.estimate for effect in effects], dtype=np.float64)
    n = values.size
    centre = float(values.mean())
    z_half = float(stats.norm.ppf(1 - alpha)) * sampling_se
    t_half = math.inf
    if n >= 2:
        t_half = float(stats.t.ppf(1 - alpha, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    half = max(z_half, t_half)
    return Interval(centre, centre - half, centre + half)


def mean_sampling_se(effects: Sequence[PairEffect]) -> float:
    """Standard error of the mean of independent per-pair effects, from their own errors."""
    return math.sqrt(sum(effect.se**2 for effect in effects)) / max(len(effects), 1)
