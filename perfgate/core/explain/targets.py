"""What perfgate knows about each (metric, aggregation) a model may suggest a threshold for.

Built from the verdict's findings (observed value, history baseline, whether it regressed) and
the HealPlan's threshold changes (current limit, history median and bound, ceiling). A metric
that is in neither is unknown to perfgate, and a suggestion on it is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from perfgate.core.explain.names import safe_name
from perfgate.models import Direction, Finding, HealPlan, Policy, ThresholdChange, Verdict


@dataclass(frozen=True)
class Target:
    metric: str
    aggregation: str
    unit: str
    direction: Direction
    bound: float = 0.0
    min_change_abs: float = 0.0
    ceiling: float | None = None
    current: float | None = None
    observed: float | None = None
    regressed: bool = False
    has_bound: bool = False

    @property
    def sign(self) -> int:
        """+1 when a higher value is worse (limits are upper limits), -1 otherwise."""
        return 1 if self.direction == "higher_is_worse" else -1


def _from_finding(finding: Finding, policy: Policy) -> Target:
    rule = policy.rule_for(finding.metric)
    return Target(
        metric=finding.metric,
        aggregation=finding.stat,
        unit=finding.unit,
        direction=finding.direction,
        bound=finding.baseline if finding.baseline is not None else 0.0,
        has_bound=finding.baseline is not None,
        min_change_abs=rule.min_change_abs if rule is not None else 0.0,
        ceiling=rule.ceiling if rule is not None else None,
        observed=finding.observed,
        regressed=finding.classification == "regression",
    )


def _with_change(known: Target | None, change: ThresholdChange, policy: Policy) -> Target | None:
    rule = policy.rule_for(change.metric)
    if known is not None:
        base = known
    elif rule is not None:
        base = Target(change.metric, change.aggregation, unit=rule.unit, direction=rule.direction)
    else:
        return None  # neither a finding nor a rule says which way is worse
    ceiling = change.evidence.ceiling if change.evidence.ceiling is not None else base.ceiling
    return replace(
        base,
        bound=change.evidence.upper_bound,
        has_bound=True,
        ceiling=ceiling,
        current=change.old_limit,
        min_change_abs=rule.min_change_abs if rule is not None else base.min_change_abs,
    )


def collect_targets(verdict: Verdict, plan: HealPlan | None, policy: Policy) -> dict[tuple[str, str], Target]:
    targets = {(f.metric, f.stat): _from_finding(f, policy) for f in verdict.findings}
    for change in plan.thresholds if plan is not None else []:
        key = (change.metric, change.aggregation)
        merged = _with_change(targets.get(key), change, policy)
        if merged is not None:
            targets[key] = merged
    return {key: target for key, target in targets.items() if target.has_bound}


def metric_index(targets: Iterable[Target]) -> dict[str, str]:
    """Name the model may use (the real name or its prompt-safe form) → the real metric name."""
    index: dict[str, str] = {}
    for target in targets:
        index.setdefault(safe_name(target.metric), target.metric)
        index[target.metric] = target.metric
    return index
