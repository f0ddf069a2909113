"""k6 threshold expressions: the one parser healing and the explanation guardrails share.

A k6 threshold is `aggregation operator number` (spaces allowed): `p(95)<420`, `rate<0.01`,
`rate>0.99`, `count<250`. The grammar is k6's (k6-facts section 5): aggregations `avg min max
med count rate value p(N)`, operators `< <= > >= == === !=`, a plain or exponent number. The
pattern is anchored and every part bounded, because the text may come from a model's reply.

`parse_expression` splits one; `with_limit` swaps the number and keeps every other character, so
`p(95) < 100` stays spaced as the author wrote it; `format_number` writes a limit as the
shortest plain decimal.
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
