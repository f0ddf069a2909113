"""k6 threshold expressions (`aggregation operator number`) as the model may suggest them.

Aggregations by metric type (k6-facts section 5): trend `avg min max med p(N)`; rate `rate`;
counter `count`, `rate`; gauge `value`. perfgate knows a gated metric's unit, not k6's type, so
the unit stands in for it: ms → trend, ratio → rate, per_s and count → counter. Every k6
operator parses; the guardrails keep only `<`/`<=` (or `>`/`>=` where lower is worse).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

_EXPRESSION = re.compile(
    r"^\s*(?P<agg>avg|min|max|med|count|rate|value|p\(\s*(?P<pct>\d{1,2}(?:\.\d{1,4})?|100)\s*\))"
    r"\s*(?P<op><=|>=|===|==|!=|<|>)\s*"
    r"(?P<number>[-+]?(?:\d{1,15}(?:\.\d{0,12})?|\.\d{1,12})(?:[eE][-+]?\d{1,3})?)\s*$"
)
_TREND: Final = frozenset({"avg", "min", "max", "med"})
AGGREGATIONS_BY_UNIT: Final[dict[str, frozenset[str]]] = {
    "ms": _TREND,
    "ratio": frozenset({"rate"}),
    "per_s": frozenset({"count", "rate"}),
    "count": frozenset({"count", "rate"}),
}
UPPER_OPS: Final = frozenset({"<", "<="})
LOWER_OPS: Final = frozenset({">", ">="})


@dataclass(frozen=True)
class Expression:
    aggregation: str
    op: str
    limit: float

    def render(self, limit: float | None = None) -> str:
        return f"{self.aggregation}{self.op}{format_limit(self.limit if limit is None else limit)}"


def format_limit(value: float) -> str:
    """Shortest faithful text for a limit: `40`, `0.01`, `412.5`."""
    text = f"{value:.6g}"
    return text if "e" not in text else f"{float(text):.12f}".rstrip("0").rstrip(".")


def parse_expression(text: str) -> Expression | None:
    """`p(95) < 420` → Expression('p(95)', '<', 420.0); None when it is not that simple form."""
    match = _EXPRESSION.match(text)
    if match is None:
        return None
    limit = float(match.group("number"))
    if not math.isfinite(limit):
        return None
    pct = match.group("pct")
    aggregation = f"p({float(pct):g})" if pct is not None else match.group("agg")
    return Expression(aggregation, match.group("op"), limit)


def aggregation_fits(aggregation: str, unit: str) -> bool:
    """Whether k6 accepts `aggregation` on a metric of perfgate's `unit`."""
    if unit == "ms" and aggregation.startswith("p("):
        return True
    return aggregation in AGGREGATIONS_BY_UNIT.get(unit, frozenset())
