"""Exact tail probabilities of Student's t, the binomial and the Poisson, in plain Python.

The gate computes a handful of p-values per analysis; `scipy.special` would answer them too, but
importing it costs a fresh process more than the whole history read (bench/analyze_speed.py).
These are the textbook identities (Abramowitz & Stegun 26.5.27, 26.5.24, 26.4.21):

    t:        P(T > t)  = I_x(df/2, 1/2) / 2,  x = df / (df + t²)       (t ≥ 0)
    binomial: P(X ≥ k)  = I_p(k, n - k + 1)
    Poisson:  P(X ≥ k)  = P(k, mean)  (regularised lower incomplete gamma)

with the regularised incomplete beta I and gamma P by their continued fraction and series
(modified Lentz), each evaluated on the side where it converges fast and the small tail is
computed directly, never as 1 - (something near 1). tests/test_tails.py checks them against
scipy.special to 1e-8 relative over the ranges the gate uses (p-values are compared with
alphas of 1e-3 and up, and reported to 4 decimals).
"""

from __future__ import annotations

import math

_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 100_000


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (converges fast for x < (a + 1) / (a + b + 2))."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            step = d * c
            h *= step
        if abs(step - 1.0) < _EPS:
            return h
    return h


def beta_inc(a: float, b: float, x: float, y: float | None = None) -> float:
    """Regularised incomplete beta I_x(a, b), a, b > 0; `y` = 1 - x when the caller has it exactly."""
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, y) / b


def gamma_inc(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x), a > 0."""
    if x <= 0.0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # series
        term = total = 1.0 / a
        for n in range(1, _MAX_TERMS):
            term *= x / (a + n)
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return math.exp(log_front) * total
    return 1.0 - math.exp(log_front) * _gamma_fraction(a, x)


def _gamma_fraction(a: float, x: float) -> float:
    """Continued fraction of Q(a, x) · Γ(a) e^x x^-a (x ≥ a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return h


def student_t_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom."""
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    square = t * t
    tail = 0.5 * beta_inc(df / 2.0, 0.5, df / (df + square), square / (df + square))
    return tail if t >= 0 else 1.0 - tail


def normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), 1 ≤ k ≤ n."""
    return beta_inc(k, n - k + 1, p)


def poisson_tail(k: int, mean: float) -> float:
    """P(X ≥ k) for X ~ Poisson(mean), k ≥ 1."""
    return gamma_inc(k, mean)
