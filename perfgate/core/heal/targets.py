"""What one threshold expression heals against: its metric's unit, direction and history values.

A threshold is healed only when the unit of its values is known (`classify`):

- a policy rule that matches the metric and lists the aggregation says the unit (`ms`,
  `ratio`, `per_s`, `count`); a rule whose direction contradicts the operator (a `rate>0.2`
  lower bound on `http_req_failed`, which the policy calls higher-is-worse) is the author's
  intent, and is left alone with a note;
- else the metric's type as the runs recorded it: a Trend holding times (`contains: time`,
  k6's `new Trend(name, true)`) is `ms`, a Trend of plain values is `value`, a Rate is a
  `ratio` in [0, 1]; a Counter or Gauge without a rule, or a Trend whose files do not say what
  it holds (summary exports carry no types), is left alone with the reason.

`history_values` reads the expression's stat from each run, leaving out runs where the
(sub-)metric never received a sample: k6 exports a sub-metric whose tag value never occurs
with every stat 0 (k6-facts section 1), and those zeros are not evidence of anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfgate.core.expressions import Expression, parse_expression
from perfgate.core.heal.bounds import MetricSpace
from perfgate.models import MetricKey, MetricRule, MetricSeries, Policy, RunRecord

TREND_STATS = ("avg", "min", "med", "max")
NON_NEGATIVE_UNITS = ("ms", "per_s", "count", "ratio")


@dataclass(frozen=True)
class Target:
    metric: str
    expression: Expression
    rule: MetricRule | None
    unit: str  # ms | ratio | per_s | count | value (a Trend of plain numbers)
    space: MetricSpace

    @property
    def ceiling(self) -> float | None:
        return self.rule.ceiling if self.rule is not None else None

    @property
    def min_change_abs(self) -> float:
        """The rule's smallest absolute change (0 without a rule)."""
        return self.rule.min_change_abs if self.rule is not None else 0.0

    @property
    def stat(self) -> str:
        return self.expression.canonical_aggregation

    @property
    def non_negative(self) -> bool:
        return self.unit in NON_NEGATIVE_UNITS


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


def metric_key(metric: str) -> str:
    """The selector as runs store it (tags sorted, spaces trimmed); unparsable text as it is."""
    try:
        return str(MetricKey.parse(metric))
    except ValueError:
        return metric


def _series(history: Sequence[RunRecord], metric: str) -> MetricSeries | None:
    key = metric_key(metric)
    return next((run.metrics[key] for run in reversed(history) if key in run.metrics), None)


def _is_trend_stat(stat: str) -> bool:
    return stat.startswith("p(") or stat in TREND_STATS


def _rule_unit(rule: MetricRule, expression: Expression) -> str:
    against = (rule.direction == "higher_is_worse") != expression.upper
    if against:
        bound = "lower" if expression.lower else "upper"
        return (
            f"a {bound} bound on a metric the policy calls {rule.direction.replace('_', '-')} is "
            "the author's intent (e.g. a test that expects failures): left as it is"
        )
    return rule.unit


def _recorded_unit(series: MetricSeries | None, metric: str, stat: str) -> str:
    """The unit from the runs' own metric type, or a sentence saying why it is not known."""
    kind = series.type if series is not None else None
    if kind == "trend" and _is_trend_stat(stat):
        if series is not None and series.contains == "time":
            return "ms"
        if series is not None and series.contains == "default":
            return "value"
        return (
            "a Trend whose runs do not say whether it holds times or plain numbers (summary exports "
            "carry no metric types): record NDJSON or handleSummary runs, or add a policy rule with its unit"
        )
    if kind == "rate" and stat == "rate":
        return "ratio"
    if kind in ("counter", "gauge"):
        return (
            f"a {kind.capitalize()}: its values have no unit perfgate can heal safely "
            "(add a policy rule with its unit to heal it)"
        )
    if kind is None:
        return "its metric type is not in the runs (a custom metric read from CSV?): unit unknown"
    return f"{stat!r} is not a stat of a {kind}"


def classify(metric: str, text: str, policy: Policy, history: Sequence[RunRecord]) -> Target | str:
    """The target for one threshold, or the reason it is left as it is."""
    expression = parse_expression(text)
    if expression is None or not (expression.upper or expression.lower):
        return "not `aggregation < or > number`"
    rule = policy.rule_for(metric)
    if rule is not None and expression.canonical_aggregation not in rule.stats:
        rule = None
    series = _series(history, metric)
    if rule is not None:
        unit = _rule_unit(rule, expression)
    else:
        unit = _recorded_unit(series, metric, expression.canonical_aggregation)
    if unit not in ("ms", "ratio", "per_s", "count", "value"):
        return unit
    log = unit in ("ms", "per_s")
    space = MetricSpace(log=log, upper=expression.upper, ratio=unit == "ratio")
    return Target(metric=metric, expression=expression, rule=rule, unit=unit, space=space)


def sampled(series: MetricSeries) -> bool:
    """False for a (sub-)metric that never received a sample (k6 exports it as zeros)."""
    values = series.values
    if "count" in values and series.type in ("trend", None) and _has_trend_stats(values):
        return values["count"] > 0
    if series.type == "rate" and "passes" in values and "fails" in values:
        return values["passes"] + values["fails"] > 0
    if series.type in ("trend", None) and _has_trend_stats(values):
        return any(value != 0 for stat, value in values.items() if _is_trend_stat(stat))
    return True


def _has_trend_stats(values: Mapping[str, float]) -> bool:
    return any(_is_trend_stat(stat) for stat in values)


def history_values(history: Sequence[RunRecord], target: Target) -> tuple[list[float], int]:
    """The target's value per run, oldest first, and how many runs had it only as zeros (never
    sampled). A missing `dropped_iterations` counts as 0 (k6 leaves it out when nothing dropped)."""
    key = metric_key(target.metric)
    values: list[float] = []
    empty = 0
    for run in history:
        series = run.metrics.get(key)
        if series is None:
            if target.metric == "dropped_iterations":
                values.append(0.0)
            continue
        if not sampled(series):
            empty += 1
            continue
        value = series.values.get(target.stat)
        if value is not None:
            values.append(float(value))
    return values, empty
