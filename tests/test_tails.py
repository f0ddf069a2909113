"""The gate's own tail probabilities (core/detect/tails.py) against scipy.special, their reference.

The gate does not import scipy (its start-up cost is most of a fresh `perfgate analyze`), so the
plain-Python tails must agree with it wherever the detectors use them: Student's t from 1 to
thousands of degrees of freedom, binomial error counts up to a million requests, Poisson counts.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from perfgate.core.detect.tails import binomial_tail, normal_tail, poisson_tail, student_t_tail

REL = 1e-8


def close(ours: float, reference: float) -> bool:
    return math.isclose(ours, reference, rel_tol=REL, abs_tol=1e-300)


@pytest.mark.parametrize("df", [1, 2, 3, 5, 8, 13, 24, 50, 164, 1000, 4000])
@pytest.mark.parametrize("t", [-8.0, -2.5, -0.3, 0.0, 1e-9, 0.7, 1.96, 3.3, 6.0, 12.0, 40.0])
def test_student_t_tail(df: int, t: float) -> None:
    assert close(student_t_tail(t, df), float(special.stdtr(df, -t)))


@given(st.floats(-60, 60), st.integers(1, 5000))
def test_student_t_tail_everywhere(t: float, df: int) -> None:
    assert close(student_t_tail(t, df), float(special.stdtr(df, -t)))


@given(st.integers(1, 1_000_000), st.floats(1e-12, 1.0), st.floats(0.0, 1.0))
def test_binomial_tail(trials: int, p: float, where: float) -> None:
    successes = max(1, round(where * trials))
    assert close(binomial_tail(successes, trials, p), float(special.bdtrc(successes - 1, trials, p)))


@given(st.integers(1, 200_000), st.floats(1e-12, 1e5))
def test_poisson_tail(count: int, mean: float) -> None:
    assert close(poisson_tail(count, mean), float(special.pdtrc(count - 1, mean)))


@given(st.floats(-30, 35))
def test_normal_tail(z: float) -> None:
    assert close(normal_tail(z), float(special.ndtr(-z)))


def test_infinite_and_nan_t() -> None:
    assert student_t_tail(math.inf, 5) == 0.0 and student_t_tail(-math.inf, 5) == 1.0
    assert math.isnan(student_t_tail(math.nan, 5))
