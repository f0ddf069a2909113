"""k6 threshold expressions: the one parser healing and the explanation guardrails share.

A k6 threshold is `aggregation operator number` (spaces allowed): `p(95)<420`, `rate<0.01`,
`rate>0.99`, `count<250`. The grammar is k6's (k6-facts section 5): aggregations `avg min max
med count rate value p(N)`, operators `< <= > >= == === !=`, a plain or exponent number. The
pattern is anchored and every part bounded, because the text may come from a model's reply.

`parse_expression` splits one; `with_limit` swaps the number and keeps every other character, so
`p(95) < 100` stays spaced as the author wrote it; `format_number` writes a limit as the
shortest plain decimal; `render_expression` writes a suggested one canonically (`p(99.9)<=400`).

`nice_limit` rounds a computed limit to a number a person would write: 2 significant figures
(417.38 → 420) when that moves it by at most `NICE_TOLERANCE`, else the half step (104.3 → 105),
else 3 significant figures. Rounding is to the nearest value, so it never adds a systematic
margin of its own (the margin is decided by the bound, see `core.heal.bounds`).

Which aggregations fit a metric (k6-facts section 5): trend `avg min max med p(N)`; rate `rate`;
counter `count`, `rate`; gauge `value`. perfgate knows a gated metric's unit, not k6's type, so the
unit stands in for it: ms → trend, ratio → rate, per_s and count → counter.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, cast

Operator = Literal["<", "<=", ">", ">=", "==", "===", "!="]
UPPER_OPS: Final = frozenset({"<", "<="})
LOWER_OPS: Final = frozenset({">", ">="})

_EXPRESSION = re.compile(
    r"^\s*(?P<agg>avg|min|max|med|count|rate|value|p\(\s*(?P<pct>\d{1,2}(?:\.\d{1,4})?|100)\s*\))"
    r"\s*(?P<op><=|>=|===|==|!=|<|>)\s*"
    r"(?P<number>[-+]?(?:\d{1,15}(?:\.\d{0,12})?|\.\d{1,12})(?:[eE][-+]?\d{1,3})?)\s*$"
)


@dataclass(frozen=True)
class Expression:
    """One parsed threshold: `p(95) < 100` → aggregation `p(95)`, operator `<`, limit 100."""

    text: str
    aggregation: str  # as written, without spaces: `p(99.90)`
    operator: Operator
    limit: float
    number_span: tuple[int, int]  # where the number sits in `text`

    @property
    def upper(self) -> bool:
        """An upper limit (`<`, `<=`: higher is worse)."""
        return self.operator in UPPER_OPS

    @property
    def lower(self) -> bool:
        """A lower limit (`>`, `>=`: lower is worse)."""
        return self.operator in LOWER_OPS

    @property
    def canonical_aggregation(self) -> str:
        """`p(99.90)` → `p(99.9)`; other aggregations as they are."""
        if self.aggregation.startswith("p("):
            return f"p({float(self.aggregation[2:-1]):g})"
        return self.aggregation


def parse_expression(text: str) -> Expression | None:
    """The parts of a k6 threshold expression, or None when it is not `agg op number`."""
    match = _EXPRESSION.match(text)
    if match is None:
        return None
    limit = float(match.group("number"))
    if not math.isfinite(limit):
        return None
    return Expression(
        text=text,
        aggregation=re.sub(r"\s+", "", match.group("agg")),
        operator=cast(Operator, match.group("op")),
        limit=limit,
        number_span=match.span("number"),
    )


def with_limit(expression: Expression, limit: float) -> str:
    """The expression text with its number replaced by `limit` (formatted by `format_number`)."""
    start, end = expression.number_span
    return expression.text[:start] + format_number(limit) + expression.text[end:]


def format_number(value: float) -> str:
    """Shortest plain decimal text: 420, 0.012, 13.5 (no exponent, no trailing zeros)."""
    if value == 0:
        return "0"
    text = format(Decimal(repr(float(value))).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_limit(value: float) -> str:
    """Shortest faithful text for a limit to 6 significant figures: `40`, `0.01`, `412.5`."""
    return format_number(float(f"{value:.6g}"))


def render_expression(expression: Expression, limit: float | None = None) -> str:
    """`p(99.90) <= 4e2` → `p(99.9)<=400`, with `limit` in place of its number when given."""
    value = expression.limit if limit is None else limit
    return f"{expression.canonical_aggregation}{expression.operator}{format_limit(value)}"


NICE_TOLERANCE = 0.025


def _round_to(value: float, step: float) -> float:
    return float(Decimal(str(round(value / step))) * Decimal(repr(step)))


def nice_limit(value: float) -> float:
    """`value` rounded to a readable number (see the module docstring); 0 stays 0."""
    if value == 0 or not math.isfinite(value):
        return value
    sign = -1.0 if value < 0 else 1.0
    magnitude = abs(value)
    exponent = math.floor(math.log10(magnitude))
    for step in (10.0 ** (exponent - 1), 5 * 10.0 ** (exponent - 2)):
        rounded = _round_to(magnitude, step)
        if rounded > 0 and abs(rounded - magnitude) / magnitude <= NICE_TOLERANCE:
            return sign * rounded
    return sign * _round_to(magnitude, 10.0 ** (exponent - 2))


_TREND: Final = frozenset({"avg", "min", "max", "med"})
AGGREGATIONS_BY_UNIT: Final[dict[str, frozenset[str]]] = {
    "ms": _TREND,
    "ratio": frozenset({"rate"}),
    "per_s": frozenset({"count", "rate"}),
    "count": frozenset({"count", "rate"}),
    "score": _TREND,
}


def aggregation_fits(aggregation: str, unit: str) -> bool:
    """Whether k6 accepts `aggregation` on a metric of perfgate's `unit`."""
    if unit == "ms" and aggregation.startswith("p("):
        return True
    return aggregation in AGGREGATIONS_BY_UNIT.get(unit, frozenset())
