"""Which k6 threshold expressions fit a metric, and how a suggested one is written back.

Parsing is `perfgate.core.expressions` (k6's whole grammar, anchored and bounded). Aggregations by
metric type (k6-facts section 5): trend `avg min max med p(N)`; rate `rate`; counter `count`,
`rate`; gauge `value`. perfgate knows a gated metric's unit, not k6's type, so the unit stands in
for it: ms → trend, ratio → rate, per_s and count → counter. Every k6 operator parses; the
guardrails keep only `<`/`<=` (or `>`/`>=` where lower is worse).
"""

from __future__ import annotations

from typing import Final

from perfgate.core.expressions import LOWER_OPS, UPPER_OPS, Expression, parse_expression

__all__ = ["LOWER_OPS", "UPPER_OPS", "aggregation_fits", "format_limit", "parse_expression", "render"]

_TREND: Final = frozenset({"avg", "min", "max", "med"})
AGGREGATIONS_BY_UNIT: Final[dict[str, frozenset[str]]] = {
    "ms": _TREND,
    "ratio": frozenset({"rate"}),
    "per_s": frozenset({"count", "rate"}),
    "count": frozenset({"count", "rate"}),
}


def format_limit(value: float) -> str:
    """Shortest faithful text for a limit to 6 significant figures: `40`, `0.01`, `412.5`."""
    text = f"{value:.6g}"
    return text if "e" not in text else f"{float(text):.12f}".rstrip("0").rstrip(".")


def render(expression: Expression, limit: float | None = None) -> str:
    """`p(99.90) <= 4e2` → `p(99.9)<=400`, with `limit` in place of its number when given."""
    value = expression.limit if limit is None else limit
    return f"{expression.canonical_aggregation}{expression.operator}{format_limit(value)}"


def aggregation_fits(aggregation: str, unit: str) -> bool:
    """Whether k6 accepts `aggregation` on a metric of perfgate's `unit`."""
    if unit == "ms" and aggregation.startswith("p("):
        return True
    return aggregation in AGGREGATIONS_BY_UNIT.get(unit, frozenset())
