"""Threshold proposals: one `ThresholdChange` per k6 expression the evidence says should move.

For each expression already in the profile (`p(95)<100`, `rate<0.01`, `rate>0.99`, ...):

1. the history's values of that (metric, aggregation) → `bounds.fit_limit` → a readable limit
   (`expressions.nice_limit`), never past the policy ceiling of the matching rule;
2. the ratchet (`_decide`):
   - over the ceiling now → back to the ceiling (always);
   - tighter: only when every one of the newest `RECENT_RUNS` runs is better than the level the
     current limit implies (the limit minus the margin): sustained improvement, never one lucky
     run; and never below the recent runs' median (a drift past the anchored limit is left to
     the gate to catch, not written into a threshold the current state already fails);
   - looser: only when the noise says so (a noise run at the long-run level would cross the
     current limit more than `LOOSEN_CROSSING` of the time) and never while the verdict is
     `warn`, nor while every one of the newest runs is worse than the long-run baseline (a drift
     upward moves the anchor not at all and the noise estimate only by chance: it cannot loosen);
   - changes under `MIN_RELATIVE_CHANGE` are not worth a commit.

Ceilings (`MetricRule.ceiling`) apply when the rule matches the metric and lists the
aggregation: an upper limit never above it, a lower limit (`rate>`) never below it.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfgate.core.expressions import Expression, format_number, nice_limit, parse_expression, with_limit
from perfgate.core.heal.bounds import LimitModel, MetricSpace, fit_limit
from perfgate.models import MetricRule, Policy, RunRecord, ThresholdChange, ThresholdEvidence, VerdictKind

LOOSEN_CROSSING = 0.05
MIN_RELATIVE_CHANGE = 0.05
TREND_STATS = ("avg", "min", "med", "max")
_UNIT_TEXT = {"ms": " ms", "per_s": "/s", "ratio": "", "count": ""}


@dataclass(frozen=True)
class Target:
    metric: str
    expression: Expression
    rule: MetricRule | None
    unit: str
    space: MetricSpace

    @property
    def ceiling(self) -> float | None:
        return self.rule.ceiling if self.rule is not None else None


def threshold_expressions(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(metric, expression text) for every threshold in k6 options, object form included."""
    found: list[tuple[str, str]] = []
    thresholds = options.get("thresholds")
    if not isinstance(thresholds, Mapping):
        return found
    for metric, items in thresholds.items():
        for item in items if isinstance(items, list) else []:
            text = item.get("threshold") if isinstance(item, Mapping) else item
            if isinstance(text, str):
                found.append((str(metric), text))
    return found


def _series_type(history: Sequence[RunRecord], metric: str) -> str | None:
    return next((run.metrics[metric].type for run in reversed(history) if metric in run.metrics), None)


def _unit(metric: str, aggregation: str, rule: MetricRule | None, kind: str | None) -> str:
    if rule is not None:
        return rule.unit
    if aggregation.startswith("p(") or aggregation in TREND_STATS:
        return "ms"
    if kind == "rate" or (aggregation == "rate" and kind is None and not metric.startswith("http_reqs")):
        return "ratio"
    return "per_s" if aggregation == "rate" else "count"


def make_target(metric: str, text: str, policy: Policy, history: Sequence[RunRecord]) -> Target | None:
    expression = parse_expression(text)
    if expression is None or not (expression.upper or expression.lower):
        return None
    rule = policy.rule_for(metric)
    if rule is not None and expression.aggregation not in rule.stats:
        rule = None
    unit = _unit(metric, expression.aggregation, rule, _series_type(history, metric))
    space = MetricSpace(log=unit in ("ms", "per_s"), upper=expression.upper, ratio=unit == "ratio")
    return Target(metric=metric, expression=expression, rule=rule, unit=unit, space=space)


def history_values(history: Sequence[RunRecord], target: Target) -> list[float]:
    """The target's value per run, oldest first; a missing `dropped_iterations` counts as 0."""
    values = []
    for run in history:
        value = run.value(target.metric, target.expression.aggregation)
        if value is None and target.metric == "dropped_iterations":
            value = 0.0
        if value is not None:
            values.append(float(value))
    return values


def _clamp(target: Target, limit: float) -> float:
    ceiling = target.ceiling
    if ceiling is None:
        return limit
    return min(limit, ceiling) if target.space.upper else max(limit, ceiling)


def _past_ceiling(target: Target, limit: float) -> bool:
    ceiling = target.ceiling
    return ceiling is not None and (limit > ceiling if target.space.upper else limit < ceiling)


def _tighter(target: Target, new: float, old: float) -> bool:
    return new < old if target.space.upper else new > old


def _decide(target: Target, model: LimitModel, new: float, verdict: VerdictKind | None) -> str | None:
    """The direction of the change ('tighten' or 'loosen'), or None to keep the current limit."""
    space, old = target.space, target.expression.limit
    if _past_ceiling(target, old):
        return "tighten"
    if abs(new - old) <= MIN_RELATIVE_CHANGE * max(abs(old), 1e-12):
        return None
    recent = [space.one(value) for value in model.recent]
    if _tighter(target, new, old):
        implied = space.one(old) - model.margin_b
        sustained = bool(recent) and all(r < implied for r in recent)
        return "tighten" if sustained and statistics.median(recent) < space.one(new) else None
    noisy = model.noise_crossing(space, old) > LOOSEN_CROSSING
    worsening = bool(recent) and all(r > model.anchor_b for r in recent)
    return "loosen" if noisy and not worsening and verdict not in ("warn", "regression") else None


def _num(value: float, unit: str) -> str:
    digits = 3 if unit in ("ratio",) else 2
    return format_number(float(f"{value:.{digits}g}")) + _UNIT_TEXT.get(unit, "")


def _reason(target: Target, model: LimitModel, direction: str, new: float) -> str:
    agg, unit = target.expression.aggregation, target.unit
    head = f"{agg} history {_num(model.median, unit)} ± {_num(model.spread, unit)} over {model.runs} runs"
    base = "recent runs all better than the long-run baseline" if model.improved else "long-run baseline"
    text = f"{head}; {base} {_num(model.level, unit)}, noise bound {_num(model.upper_bound, unit)}"
    if _past_ceiling(target, target.expression.limit) or new == target.ceiling:
        text += f"; held to the policy ceiling {_num(target.ceiling or new, unit)}"
    if direction == "loosen":
        crossing = model.noise_crossing(target.space, target.expression.limit)
        text += f"; noise would cross the old limit in {crossing:.0%} of runs"
    return text


def propose_threshold(
    target: Target, values: Sequence[float], policy: Policy, verdict: VerdictKind | None
) -> ThresholdChange | None:
    """The change for one expression, or None when the current limit should stay."""
    min_abs = target.rule.min_change_abs if target.rule is not None else 0.0
    model = fit_limit(values, target.space, headroom=policy.healing.headroom, min_change_abs=min_abs)
    new = _clamp(target, nice_limit(model.limit))
    direction = _decide(target, model, new, verdict)
    if direction is None or new == target.expression.limit:
        return None
    return ThresholdChange(
        metric=target.metric,
        aggregation=target.expression.aggregation,
        old=target.expression.text,
        new=with_limit(target.expression, new),
        old_limit=target.expression.limit,
        new_limit=new,
        direction="tighten" if direction == "tighten" else "loosen",
        reason=_reason(target, model, direction, new),
        evidence=ThresholdEvidence(
            history_runs=model.runs,
            median=model.median,
            spread=model.spread,
            upper_bound=model.upper_bound,
            anchor=model.anchor,
            headroom=policy.healing.headroom,
            ceiling=target.ceiling,
        ),
    )
