"""Gunther's Universal Scalability Law: X(N) = γN / (1 + α(N−1) + βN(N−1)).

`fit_usl` fits α, β, γ by non-linear least squares (scipy's trust-region `curve_fit`, α and β
kept in [0, 1] and γ > 0) and gives two 95 % intervals per coefficient from the same standard
errors (sqrt of the diagonal of σ²(JᵀJ)⁻¹, as R's `nls` reports them):

- `ci`, as the R `usl` package's `confint()` computes it: estimate ± se × qt(0.95, n − 1). Its
  columns say 2.5 %/97.5 %, but the factor is the one-sided 95 % quantile on n − 1 degrees of
  freedom; kept so results compare with R's (checked on specsdm91 in the tests).
- `ci_textbook`: estimate ± se × qt(0.975, n − 3), the two-sided t-interval (about 1.6× wider
  on 7 points).

Peak load N* = sqrt((1 − α)/β) (where dX/dN = 0), peak throughput X(N*); with β = 0 there is
no peak and throughput approaches the Amdahl ceiling γ/α. `usl_band` gives the delta-method
confidence band of the fitted curve.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import NDArray
from scipy import stats
from scipy.optimize import OptimizeWarning, curve_fit

from perfgate.models.capacity import UslCoefficients, UslFit, UslStdErrors

FloatArray = NDArray[np.float64]
LEVEL = 0.95


class UslFitError(ValueError):
    """The data cannot support a USL fit (too few points, no variation, no convergence)."""


def usl_throughput(load: FloatArray, alpha: float, beta: float, gamma: float) -> FloatArray:
    load = np.asarray(load, dtype=np.float64)
    return gamma * load / (1.0 + alpha * (load - 1.0) + beta * load * (load - 1.0))


def _jacobian(load: FloatArray, alpha: float, beta: float, gamma: float) -> FloatArray:
    """d X / d (alpha, beta, gamma) at each load, one row per load."""
    denominator = 1.0 + alpha * (load - 1.0) + beta * load * (load - 1.0)
    x = gamma * load / denominator
    return np.column_stack(
        [-x * (load - 1.0) / denominator, -x * load * (load - 1.0) / denominator, x / gamma]
    )


def _start(load: FloatArray, throughput: FloatArray) -> list[float]:
    """γ from the lowest loads' throughput per user; small α, β."""
    low = np.argsort(load)[: max(1, min(3, load.size // 3))]
    gamma = float(np.max(throughput[low] / load[low]))
    return [0.01, 1e-4, max(gamma, 1e-9)]


def _check(load: FloatArray, throughput: FloatArray) -> None:
    if load.size != throughput.size:
        raise UslFitError("load and throughput differ in length")
    if load.size < 4:
        raise UslFitError(f"a USL fit needs at least 4 points (3 coefficients), got {load.size}")
    if not (np.all(np.isfinite(load)) and np.all(np.isfinite(throughput))):
        raise UslFitError("load and throughput must be finite numbers")
    if np.any(load <= 0) or np.any(throughput < 0):
        raise UslFitError("load must be > 0 and throughput >= 0")
    if np.unique(load).size < 3:
        raise UslFitError("a USL fit needs at least 3 distinct loads")


def _intervals(estimate: FloatArray, se: FloatArray, factor: float) -> UslCoefficients:
    low, high = estimate - factor * se, estimate + factor * se
    return UslCoefficients(
        alpha=(float(low[0]), float(high[0])),
        beta=(float(low[1]), float(high[1])),
        gamma=(float(low[2]), float(high[2])),
    )


def _least_squares(load: FloatArray, throughput: FloatArray) -> tuple[FloatArray, FloatArray]:
    bounds = ([0.0, 0.0, 1e-12], [1.0, 1.0, np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            params, covariance = curve_fit(
                usl_throughput, load, throughput, p0=_start(load, throughput), bounds=bounds,
                method="trf", x_scale="jac", max_nfev=20_000,
            )  # fmt: skip
        except (RuntimeError, ValueError) as exc:
            raise UslFitError(f"the USL fit did not converge: {exc}") from exc
    return np.asarray(params, dtype=np.float64), np.asarray(covariance, dtype=np.float64)


def fit_usl(load: FloatArray, throughput: FloatArray) -> UslFit:
    """Least-squares USL fit with R-style and textbook 95 % intervals (see the module docstring)."""
    load = np.asarray(load, dtype=np.float64)
    throughput = np.asarray(throughput, dtype=np.float64)
    _check(load, throughput)
    params, covariance = _least_squares(load, throughput)
    n = int(load.size)
    residuals = throughput - usl_throughput(load, *params)
    rss = float(residuals @ residuals)
    centred = throughput - throughput.mean()
    tss = float(centred @ centred)
    if not np.all(np.isfinite(covariance)):
        jac = _jacobian(load, *params)
        covariance = np.linalg.pinv(jac.T @ jac) * rss / (n - 3)
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    alpha, beta, gamma = (float(v) for v in params)
    peak_load, peak_x = peak(alpha, beta, gamma)
    knee = 1.0 / alpha if alpha > 0 else None
    if knee is not None and peak_load is not None:
        knee = min(knee, peak_load)
    return UslFit(
        alpha=alpha,
        beta=beta,
        gamma=gamma,
        peak_load=peak_load,
        peak_throughput=peak_x,
        knee_load=knee,
        r_squared=1.0 - rss / tss if tss > 0 else 0.0,
        ci=_intervals(params, se, float(stats.t.ppf(LEVEL, n - 1))),
        ci_textbook=_intervals(params, se, float(stats.t.ppf(0.5 + LEVEL / 2, n - 3))),
        std_errors=UslStdErrors(alpha=float(se[0]), beta=float(se[1]), gamma=float(se[2])),
        residual_se=math.sqrt(rss / (n - 3)) if n > 3 else 0.0,
        n=n,
        covariance=[[float(v) for v in row] for row in covariance],
        reading=describe_usl(alpha, beta, peak_load),
    )


def peak(alpha: float, beta: float, gamma: float) -> tuple[float | None, float]:
    """(N*, X(N*)); (None, γ/α) without a coherency term (throughput only approaches γ/α)."""
    if beta <= 0 or alpha >= 1:
        ceiling = gamma / alpha if alpha > 0 else math.inf
        return None, ceiling if math.isfinite(ceiling) else 0.0
    load = math.sqrt((1.0 - alpha) / beta)
    return load, float(usl_throughput(np.array([load]), alpha, beta, gamma)[0])


def usl_band(fit: UslFit, load: FloatArray, level: float = LEVEL) -> tuple[FloatArray, FloatArray]:
    """Delta-method confidence band of X(N): X ± t(level, n−3) · sqrt(g Σ gᵀ)."""
    load = np.asarray(load, dtype=np.float64)
    centre = usl_throughput(load, fit.alpha, fit.beta, fit.gamma)
    jac = _jacobian(load, fit.alpha, fit.beta, fit.gamma)
    cov = np.asarray(fit.covariance, dtype=np.float64)
    spread = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, cov, jac), 0.0, None))
    factor = float(stats.t.ppf(0.5 + level / 2, max(fit.n - 3, 1)))
    return centre - factor * spread, centre + factor * spread


def describe_usl(alpha: float, beta: float, peak_load: float | None) -> str:
    """The contention/coherency reading in words."""
    if alpha < 0.01:
        contention = f"little contention (α = {alpha:.3g}: under 1 % of the work is serialised)"
    elif alpha < 0.1:
        contention = f"moderate contention (α = {alpha:.3g}: about {alpha * 100:.0f} % of the work queues for a shared resource)"
    else:
        contention = f"heavy contention (α = {alpha:.3g}: {alpha * 100:.0f} % of the work is serialised — a lock, a single worker, a pool)"
    if beta <= 0 or peak_load is None:
        coherency = "no measurable coherency cost: throughput flattens toward a ceiling but does not fall"
    elif beta < 1e-4:
        coherency = f"a small coherency cost (β = {beta:.3g}): throughput peaks near {peak_load:.0f} users and then falls slowly"
    else:
        coherency = (
            f"a marked coherency cost (β = {beta:.3g}: crosstalk between users, e.g. cache or lock thrashing): "
            f"throughput peaks near {peak_load:.0f} users and falls beyond"
        )
    return f"{contention}; {coherency}."
