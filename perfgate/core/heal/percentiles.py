"""Percentile limits of one metric stay ordered and move together.

For the upper bounds of one Trend (`med` = p(50), `p(N)`, `max` = p(100)), a higher rank's limit
is never below a lower rank's: p(90) ≤ p(95) ≤ p(99) ≤ max. After each threshold was healed on
its own evidence (`order_percentiles`):

- a higher rank proposed below a lower rank's new limit is raised to it (a p(99) value is never
  below the p(95) value of the same run, so the room p(95) needs, p(99) needs too); a change
  that ends where it started is dropped;
- a lower rank loosened past a higher rank's unchanged limit takes that limit along (the same
  argument), as a change of its own;
- a rank left without evidence (its stat is not in the runs: k6 exports only the configured
  `summaryTrendStats`) stays, and the plan's note names the fix (`plan._thresholds`).

Pairs the author wrote out of order are left as they are (nothing here reorders a file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perfgate.core.expressions import Expression, parse_expression, with_limit
from perfgate.core.heal.targets import threshold_expressions
from perfgate.models import ThresholdChange


def rank(aggregation: str) -> float | None:
    if aggregation == "med":
        return 50.0
    if aggregation == "max":
        return 100.0
    if aggregation.startswith("p(") and aggregation.endswith(")"):
        return float(aggregation[2:-1])
    return None


@dataclass
class _Limit:
    metric: str
    expression: Expression
    rank: float
    change: ThresholdChange | None

    @property
    def current(self) -> float:
        return self.change.new_limit if self.change is not None else self.expression.limit


def _limits(options: Mapping[str, Any], changes: list[ThresholdChange]) -> dict[str, list[_Limit]]:
    by_old = {(c.metric, c.old): c for c in changes}
    out: dict[str, list[_Limit]] = {}
    for metric, text in threshold_expressions(options):
        expression = parse_expression(text)
        position = rank(expression.canonical_aggregation) if expression is not None else None
        if expression is None or position is None or not expression.upper:
            continue
        out.setdefault(metric, []).append(_Limit(metric, expression, position, by_old.get((metric, text))))
    return out


def _moved(limit: _Limit, value: float, cause: _Limit) -> ThresholdChange:
    """`limit` raised to `value` because `cause` (a lower rank) moved there."""
    base = limit.change or cause.change
    assert base is not None
    old = limit.expression.limit
    return base.model_copy(
        update={
            "aggregation": limit.expression.aggregation,
            "old": limit.expression.text,
            "new": with_limit(limit.expression, value),
            "old_limit": old,
            "new_limit": value,
            "direction": "loosen" if value > old else "tighten",
            "reason": f"kept at or above {cause.expression.aggregation} (moved to {value:g}): "
            "a higher percentile's limit is never below a lower one's",
        }
    )


def order_percentiles(options: Mapping[str, Any], changes: list[ThresholdChange]) -> list[ThresholdChange]:
    """`changes` with the percentile limits of each metric kept ordered (module docstring)."""
    result = list(changes)
    for limits in _limits(options, changes).values():
        limits.sort(key=lambda item: item.rank)
        for low_index, low in enumerate(limits):
            for high in limits[low_index + 1 :]:
                if high.rank == low.rank or high.expression.limit < low.expression.limit:
                    continue  # the author's own order (or a duplicate) is left alone
                if high.current < low.current:
                    moved = _moved(high, low.current, low)
                    result = [c for c in result if c is not high.change]
                    if moved.new_limit != moved.old_limit:
                        result.append(moved)
                    high.change = moved
    return result
