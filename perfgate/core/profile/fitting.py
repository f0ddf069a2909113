"""Fitted, bounded distributions for think times and session lengths.

The fit is a log-normal by the method of moments: it keeps the sample's mean (what a replay must
reproduce), with the variance less the quantisation noise of timestamps logged to the second
(two uniform roundings add 1/6 s²). Draws are clipped to the observed [min, max]. scipy's
`lognorm` gives the fitted quantiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from perfgate.models.profile import Distribution

_SECOND_QUANTISATION_VAR = 1.0 / 6.0


def fit_lognormal(values: Sequence[float], *, quantised_to_s: bool = False) -> Distribution:
    """A bounded log-normal with the sample's mean (and its variance, less rounding noise)."""
    sample = np.asarray(values, dtype=float)
    sample = sample[np.isfinite(sample) & (sample >= 0)]
    if sample.size == 0:
        return Distribution(kind="none")
    mean = float(sample.mean())
    low, high = float(sample.min()), float(sample.max())
    described = {
        "mean": mean,
        "p50": float(np.median(sample)),
        "p90": float(np.quantile(sample, 0.9)),
        "samples": int(sample.size),
        "low": low,
        "high": high,
    }
    variance = float(sample.var())
    if quantised_to_s:
        variance = max(variance - _SECOND_QUANTISATION_VAR, 0.0)
    if mean <= 0 or variance <= 1e-12 or high - low <= 1e-9:
        return Distribution(kind="constant", mu=mean, **described)
    sigma2 = math.log1p(variance / mean**2)
    return Distribution(
        kind="lognormal", mu=math.log(mean) - sigma2 / 2, sigma=math.sqrt(sigma2), **described
    )


def fitted_quantile(distribution: Distribution, q: float) -> float:
    """The fit's q-quantile, clipped to its bounds."""
    if distribution.kind == "none":
        return 0.0
    if distribution.kind == "constant":
        return distribution.mu
    value = float(stats.lognorm.ppf(q, s=distribution.sigma, scale=math.exp(distribution.mu)))
    return min(max(value, distribution.low), distribution.high)


def is_quantised(values: Sequence[float]) -> bool:
    """True when every value is a whole number (times logged to the second)."""
    sample = np.asarray(values, dtype=float)
    return bool(sample.size) and bool(np.all(np.abs(sample - np.round(sample)) < 1e-9))
