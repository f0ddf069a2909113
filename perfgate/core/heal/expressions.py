"""Readable limits for healed thresholds (the expression parser is `perfgate.core.expressions`).

`nice_limit` rounds a computed limit to a number a person would write: 2 significant figures
(417.38 → 420) when that moves it by at most `NICE_TOLERANCE`, else the half step (104.3 → 105),
else 3 significant figures. Rounding is to the nearest value, so it never adds a systematic
margin of its own (the margin is decided by the bound, see `bounds`).
"""

from __future__ import annotations

import math
from decimal import Decimal

from perfgate.core.expressions import Expression, format_number, parse_expression, with_limit

__all__ = ["NICE_TOLERANCE", "Expression", "format_number", "nice_limit", "parse_expression", "with_limit"]

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
