"""k6 threshold expressions (`agg op number`) evaluated against computed stats.

Only used for raw points, where k6 writes the expressions but no verdict. The result is
perfgate's own evaluation, never k6's; it is None when the expression is not of the
simple `agg op number` form or the stat it needs is not available.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_EXPRESSION = re.compile(
    r"^\s*(?P<agg>avg|min|max|med|count|rate|value|p\(\s*(?P<pct>\d+(?:\.\d+)?)\s*\))"
    r"\s*(?P<op><=|>=|===|==|!=|<|>)\s*"
    r"(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)

_OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "===": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Threshold:
    stat: str
    op: str
    bound: float


def parse_threshold(expression: str) -> Threshold | None:
    match = _EXPRESSION.match(expression)
    if match is None:
        return None
    pct = match.group("pct")
    stat = f"p({_trim(pct)})" if pct is not None else match.group("agg")
    return Threshold(stat, match.group("op"), float(match.group("number")))


def percentile_stat(expression: str) -> str | None:
    """`p(N)` a threshold needs, normalised (`p(95.0)` → `p(95)`), or None."""
    parsed = parse_threshold(expression)
    return parsed.stat if parsed is not None and parsed.stat.startswith("p(") else None


def is_crossed(expression: str, values: Mapping[str, float]) -> bool | None:
    """True when the threshold fails on `values`; None when it cannot be evaluated."""
    parsed = parse_threshold(expression)
    if parsed is None:
        return None
    observed = values.get(parsed.stat)
    if observed is None and parsed.stat == "med":
        observed = values.get("p(50)")
    if observed is None:
        return None
    return not _OPERATORS[parsed.op](observed, parsed.bound)


def _trim(number: str) -> str:
    value = float(number)
    return str(int(value)) if value.is_integer() else number
