"""`propose_heal`: the whole healing proposal for one profile, pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfgate.core.heal.percentiles import order_percentiles, rank
from perfgate.core.heal.stages import propose_stage_changes
from perfgate.core.heal.suggest import starter_thresholds
from perfgate.core.heal.targets import classify, history_values, threshold_expressions
from perfgate.core.heal.thresholds import propose_threshold
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
    plan = {"scenario": scenario, "profile": profile_name, "verdict": verdict}
    if verdict == "regression":
        refused = (
            "The candidate run is a regression: healing never moves thresholds or stages to fit a "
            "regression. Fix it (or acknowledge it in the policy file) first."
        )
        return HealPlan(**plan, refused=refused)
    runs = list(history)
    if len(runs) < policy.history.min_runs:
        notice = (
            f"{len(runs)} comparable run(s) of scenario '{scenario}'; healing needs at least "
            f"{policy.history.min_runs} (policy history.min_runs): nothing proposed."
        )
        return HealPlan(**plan, notices=[notice])
    thresholds, notices = _thresholds(options, runs, policy, verdict)
    if not threshold_expressions(options) and (starter := starter_thresholds(runs, policy, profile_name)):
        notices.append(starter)
    stage_runs = [*runs, candidate] if candidate is not None else runs
    stages, stage_notices = propose_stage_changes(options, stage_runs, policy)
    notices += stage_notices
    if verdict == "warn":
        notices.append("The candidate's verdict is warn: thresholds may tighten but not loosen.")
    return HealPlan(**plan, thresholds=thresholds, stages=stages, notices=notices)


def _thresholds(
    options: Mapping[str, Any], runs: Sequence[RunRecord], policy: Policy, verdict: VerdictKind | None
) -> tuple[list[ThresholdChange], list[str]]:
    changes: list[ThresholdChange] = []
    notices: list[str] = []
    for metric, text in threshold_expressions(options):
        target = classify(metric, text, policy, runs)
        if isinstance(target, str):
            notices.append(f"{metric}: threshold {text!r} left as it is: {target}.")
            continue
        values, empty = history_values(runs, target)
        if len(values) < policy.history.min_runs:
            notices.append(_missing(metric, text, target.stat, len(values), empty, len(runs)))
            continue
        change = propose_threshold(target, values, policy, verdict)
        if isinstance(change, str):
            notices.append(change)
        elif change is not None:
            changes.append(change)
    return order_percentiles(options, changes), notices


def _missing(metric: str, text: str, stat: str, found: int, empty: int, runs: int) -> str:
    if empty and not found:
        return (
            f"{metric}: threshold {text!r} left as it is: the (sub-)metric never received a sample in "
            f"{empty} of {runs} runs (k6 exports it as zeros; does the script produce that tag?)."
        )
    hint = ""
    if rank(stat) is not None and stat not in ("med", "max"):
        hint = f" (k6 exports only its summaryTrendStats: add '{stat}' there, or record raw NDJSON points)"
    return f"{metric}: {stat} is in {found} of {runs} runs{hint}; threshold {text!r} left as it is."
