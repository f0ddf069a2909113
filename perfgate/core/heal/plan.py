"""`propose_heal`: the whole healing proposal for one profile, pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfgate.core.expressions import parse_expression
from perfgate.core.heal.stages import propose_stage_changes
from perfgate.core.heal.thresholds import (
    history_values,
    make_target,
    propose_threshold,
    threshold_expressions,
)
from perfgate.models import HealPlan, Policy, RunRecord, ThresholdChange, VerdictKind


def propose_heal(
    *,
    scenario: str,
    profile_name: str,
    options: Mapping[str, Any],
    history: Sequence[RunRecord],
    verdict: VerdictKind | None,
    policy: Policy,
    candidate: RunRecord | None = None,
) -> HealPlan:
    """New thresholds and stages for `options`, each with its evidence.

    `history`: comparable, valid, non-regression runs, oldest first. `verdict`: the candidate's
    verdict when there is one; healing is refused while it is `regression` (healing never
    normalises a regression). `candidate` adds its per-stage numbers to the stage evidence.
    Nothing is proposed before `policy.history.min_runs` runs.
    """
    plan = HealPlan(scenario=scenario, profile=profile_name, verdict=verdict)
    if verdict == "regression":
        plan.refused = (
            "The candidate run is a regression: healing never moves thresholds or stages to fit a "
            "regression. Fix it (or acknowledge it in the policy file) first."
        )
        return plan
    runs = list(history)
    if len(runs) < policy.history.min_runs:
        plan.notices.append(
            f"{len(runs)} comparable run(s) of scenario '{scenario}'; healing needs at least "
            f"{policy.history.min_runs} (policy history.min_runs): nothing proposed."
        )
        return plan
    plan.thresholds, skipped = _thresholds(options, runs, policy, verdict)
    plan.notices.extend(skipped)
    stage_runs = [*runs, candidate] if candidate is not None else runs
    plan.stages, stage_notices = propose_stage_changes(options, stage_runs, policy)
    plan.notices.extend(stage_notices)
    if verdict == "warn":
        plan.notices.append("The candidate's verdict is warn: thresholds may tighten but not loosen.")
    return plan


def _thresholds(
    options: Mapping[str, Any], runs: Sequence[RunRecord], policy: Policy, verdict: VerdictKind | None
) -> tuple[list[ThresholdChange], list[str]]:
    changes: list[ThresholdChange] = []
    notices: list[str] = []
    for metric, text in threshold_expressions(options):
        target = make_target(metric, text, policy, runs)
        if target is None:
            notices.append(f"{metric}: threshold {text!r} left as it is (not `aggregation < or > number`).")
            continue
        values = history_values(runs, target)
        if len(values) < policy.history.min_runs:
            notices.append(
                f"{metric}: {target.expression.aggregation} is in {len(values)} of {len(runs)} runs; "
                f"threshold {text!r} left as it is."
            )
            continue
        change = propose_threshold(target, values, policy, verdict)
        if change is not None:
            changes.append(change)
    return _ordered_percentiles(options, changes, notices), notices


def _percentile(aggregation: str) -> float | None:
    if aggregation.startswith("p(") and aggregation.endswith(")"):
        return float(aggregation[2:-1])
    return None


def _ordered_percentiles(
    options: Mapping[str, Any], changes: list[ThresholdChange], notices: list[str]
) -> list[ThresholdChange]:
    """Drop a change that would put a higher percentile's upper limit below a lower one's."""
    limits: dict[tuple[str, float], float] = {}
    for metric, text in threshold_expressions(options):
        expression = parse_expression(text)
        rank = _percentile(expression.aggregation) if expression and expression.upper else None
        if expression is not None and rank is not None:
            limits[(metric, rank)] = expression.limit
    for change in changes:
        rank = _percentile(change.aggregation)
        if rank is not None and (change.metric, rank) in limits:
            limits[(change.metric, rank)] = change.new_limit
    kept = []
    for change in changes:
        rank = _percentile(change.aggregation)
        lower = [v for (m, r), v in limits.items() if m == change.metric and rank is not None and r < rank]
        if lower and change.direction != "loosen" and change.new_limit < max(lower):
            notices.append(
                f"{change.metric}: {change.new} would sit below a lower percentile's limit; kept {change.old}."
            )
            continue
        kept.append(change)
    return kept
