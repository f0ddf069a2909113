"""The one k6 threshold-expression parser that healing and the explanation guardrails share."""

from __future__ import annotations

import pytest

from perfgate.core.expressions import format_number, parse_expression, with_limit
from perfgate.core.heal.targets import Target, classify
from perfgate.models import Policy


@pytest.mark.parametrize(
    ("text", "aggregation", "canonical", "operator", "limit"),
    [
        ("p(95)<420", "p(95)", "p(95)", "<", 420.0),
        (" p( 99.90 ) <= 4e2 ", "p(99.90)", "p(99.9)", "<=", 400.0),
        ("rate>0.99", "rate", "rate", ">", 0.99),
        ("count===0", "count", "count", "===", 0.0),
        ("value!=3", "value", "value", "!=", 3.0),
    ],
)
def test_k6_grammar(text: str, aggregation: str, canonical: str, operator: str, limit: float) -> None:
    parsed = parse_expression(text)
    assert parsed is not None
    assert (parsed.aggregation, parsed.canonical_aggregation, parsed.operator, parsed.limit) == (
        aggregation,
        canonical,
        operator,
        limit,
    )


@pytest.mark.parametrize(
    "text",
    ["p95<1", "foo<1", "p(95)<", "p(95)<1; rm -rf /", "p(95)<1e999", "p(95) < 1" + "0" * 20, "rate=>1", ""],
)
def test_anything_else_is_refused(text: str) -> None:
    assert parse_expression(text) is None


def test_with_limit_keeps_the_authors_spacing() -> None:
    parsed = parse_expression("p(95) <  100")
    assert parsed is not None
    assert with_limit(parsed, 120.5) == "p(95) <  120.5"
    assert format_number(1e-7) == "0.0000001"


@pytest.mark.parametrize("text", ["count==0", "count===0", "value!=3"])
def test_healing_leaves_equality_thresholds_alone(text: str) -> None:
    assert isinstance(classify("dropped_iterations", text, Policy(), []), str)
    assert isinstance(classify("dropped_iterations", "count<5", Policy(), []), Target)
