"""k6 threshold expressions and readable numbers.

A k6 threshold is `aggregation operator number` (spaces allowed): `p(95)<420`, `rate<0.01`,
`rate>0.99`, `count<250`. `parse_expression` splits one; `with_limit` swaps the number and keeps
every other character, so `p(95) < 100` stays spaced as the author wrote it.

`nice_limit` rounds a computed limit to a number a person would write: 2 significant figures
(417.38 → 420) when that moves it by at most `NICE_TOLERANCE`, else the half step (104.3 → 105),
else 3 significant figures. Rounding is to the nearest value, so it never adds a systematic
margin of its own (the margin is decided by the bound, see `bounds`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

Operator = Literal["<", "<=", ">", ">=", "=="]
NICE_TOLERANCE = 0.025
_EXPR_RE = re.compile(
    r"^\s*(?P<agg>[A-Za-z]+(?:\(\s*[0-9.]+\s*\))?)\s*(?P<op><=|>=|==|<|>)\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Expression:
    """One parsed threshold: `p(95)<100` → aggregation `p(95)`, operator `<`, limit 100."""

    text: str
    aggregation: str
    operator: Operator
    limit: float
    number_span: tuple[int, int]

    @property
    def upper(self) -> bool:
        """True for an upper limit (`<`, `<=`: higher is worse)."""
        return self.operator in ("<", "<=")


def parse_expression(text: str) -> Expression | None:
    """The parts of a k6 threshold expression, or None when it is not `agg op number`."""
    match = _EXPR_RE.match(text)
    if match is None:
        return None
    aggregation = re.sub(r"\s+", "", match.group("agg"))
    operator = cast(Operator, match.group("op"))
    return Expression(
        text=text,
        aggregation=aggregation,
        operator=operator,
        limit=float(match.group("num")),
        number_span=match.span("num"),
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
