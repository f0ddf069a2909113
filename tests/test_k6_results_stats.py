"""k6's percentile rule (property tests) and threshold expressions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfgate.adapters.k6_results import is_crossed, k6_percentile


def test_k6_percentile_examples() -> None:
    assert k6_percentile([], 95) == 0.0
    assert k6_percentile([4.0], 95) == 4.0
    assert k6_percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert k6_percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert k6_percentile([10.0, 20.0], 95) == 19.5


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(st.lists(finite, min_size=1, max_size=200), st.floats(min_value=0, max_value=100))
def test_k6_percentile_equals_numpy_linear(values: list[float], p: float) -> None:
    ordered = sorted(values)
    expected = float(np.percentile(np.array(values), p, method="linear"))
    # numpy computes the rank as n·q + (1 − q) − 1 and interpolates from the upper side
    # when the fraction is ≥ 0.5; k6 uses q·(n−1) and the lower side. Same formula, so
    # they agree up to a few ulps of the value range.
    scale = max(1.0, ordered[-1] - ordered[0], abs(ordered[0]), abs(ordered[-1]))
    assert abs(k6_percentile(ordered, p) - expected) <= 1e-12 * scale


@given(st.lists(finite, min_size=1, max_size=200), st.floats(0, 100), st.floats(0, 100))
def test_k6_percentile_is_monotone_in_p(values: list[float], p: float, q: float) -> None:
    ordered = sorted(values)
    low, high = sorted((p, q))
    assert k6_percentile(ordered, low) <= k6_percentile(ordered, high)
    assert ordered[0] <= k6_percentile(ordered, low) <= ordered[-1]


@pytest.mark.parametrize(
    ("expression", "values", "crossed"),
    [
        ("p(95)<420", {"p(95)": 30.9}, False),
        ("p(95) < 420", {"p(95)": 430.0}, True),
        ("p(99.9)<2000", {"p(99.9)": 1.0}, False),
        ("rate<0.01", {"rate": 0.049}, True),
        ("rate==0", {"rate": 0.0}, False),
        ("count>=10", {"count": 10.0}, False),
        ("value<1000", {"value": 1000.0}, True),
        ("med<100", {"p(50)": 50.0}, False),
        ("p(90)<1", {"avg": 0.5}, None),
        ("rate<0.01 && avg<3", {"rate": 0.0}, None),
    ],
)
def test_threshold_evaluation(expression: str, values: dict[str, float], crossed: bool | None) -> None:
    assert is_crossed(expression, values) is crossed
