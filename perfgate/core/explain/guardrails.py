"""What perfgate keeps of a model's reply: suggestions checked against its own evidence.

A threshold suggestion survives only if it parses as a k6 expression (`expressions`), names a
metric and aggregation perfgate has evidence for, uses an aggregation k6 accepts for the metric
and an operator that limits the bad direction. Its limit is then held inside a window:

- tight end: perfgate's history bound (the plan's robust upper prediction bound, else the
  history baseline): a limit tighter than it fails ordinary runs;
- loose end: `MAX_OVER_HISTORY_BOUND` (1.25) × that bound (÷ for lower-is-worse metrics), at
  least the bound ± the rule's `min_change_abs`, never past the policy ceiling, within 0-1 for
  ratios. 1.25 leaves the model a little room above perfgate's own headroom (1.15 by default)
  and no more.

While the verdict is a regression nothing may loosen: a suggestion looser than the current limit,
or one the regressed value would pass, is dropped, and stage changes and removals are dropped.
Stage removals also need `healing.allow_stage_removal`. Every dropped or clamped item is listed.
The model's `regression` opinion is reported beside perfgate's verdict, never instead of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from perfgate.core.explain.names import clean_text, safe_name
from perfgate.core.explain.targets import Target, collect_targets, metric_index
from perfgate.core.expressions import (
    LOWER_OPS,
    UPPER_OPS,
    aggregation_fits,
    parse_expression,
    render_expression,
)
from perfgate.models import HealPlan, Policy, StageStats, Verdict
from perfgate.models.explain import ExplainerReply, GuardedExplanation, GuardedThreshold, StageAdjustment

MAX_OVER_HISTORY_BOUND: Final = 1.25
MAX_EXPRESSIONS_PER_METRIC: Final = 4
STAGE_KINDS: Final = frozenset({"lengthen_ramp", "step_load", "remove_stage"})


@dataclass(frozen=True)
class _Outcome:
    kept: GuardedThreshold | None
    note: str | None


def _window(target: Target) -> tuple[float, float]:
    """(tight, loose) limits allowed for `target`, in the metric's unit."""
    sign = target.sign
    bound = target.bound
    scaled = bound * MAX_OVER_HISTORY_BOUND if sign > 0 else bound / MAX_OVER_HISTORY_BOUND
    loose = max(scaled, bound + sign * target.min_change_abs, key=lambda v: sign * v)
    if target.ceiling is not None:
        loose = min(loose, target.ceiling, key=lambda v: sign * v)
    if target.unit == "ratio":
        loose = min(max(loose, 0.0), 1.0)
    return bound, loose


def _regression_block(target: Target, limit: float, regression: bool) -> str | None:
    if not regression:
        return None
    sign = target.sign
    if target.current is not None and sign * limit > sign * target.current:
        return f"would loosen the current limit {target.current:g} while the verdict is a regression"
    if target.regressed and target.observed is not None and sign * limit >= sign * target.observed:
        return f"the regressed value {target.observed:g} would pass it"
    return None


def _check(target: Target, text: str, regression: bool) -> _Outcome:
    label = f"{safe_name(target.metric)} {safe_name(text, 40)}"
    parsed = parse_expression(text)
    if parsed is None or parsed.canonical_aggregation != target.aggregation:
        return _Outcome(None, f"dropped {label}: not a k6 threshold on {target.aggregation}")
    ops = UPPER_OPS if target.sign > 0 else LOWER_OPS
    if parsed.operator not in ops:
        return _Outcome(None, f"dropped {label}: operator {parsed.operator} does not limit the bad direction")
    blocked = _regression_block(target, parsed.limit, regression)
    if blocked is not None:
        return _Outcome(None, f"dropped {label}: {blocked}")
    tight, loose = _window(target)
    if target.sign * loose < target.sign * tight:
        return _Outcome(None, f"dropped {label}: no limit fits between {tight:g} and {loose:g}")
    limit = min(max(parsed.limit, min(tight, loose)), max(tight, loose))
    kept = GuardedThreshold(
        metric=target.metric,
        expression=render_expression(parsed, limit),
        aggregation=parsed.canonical_aggregation,
        limit=limit,
        suggested=parsed.limit,
        clamped=limit != parsed.limit,
    )
    note = f"clamped {label} to {kept.expression} (allowed {tight:g}-{loose:g})" if kept.clamped else None
    return _Outcome(kept, note)


def _aggregation_of(text: str) -> str | None:
    parsed = parse_expression(text)
    return None if parsed is None else parsed.canonical_aggregation


def _guard_metric(
    metric: str, expressions: Sequence[str], targets: dict[tuple[str, str], Target], regression: bool
) -> tuple[list[GuardedThreshold], list[str]]:
    kept: list[GuardedThreshold] = []
    notes: list[str] = []
    seen: set[str] = set()
    for index, text in enumerate(expressions):
        label = f"{safe_name(metric)} {safe_name(text, 40)}"
        aggregation = _aggregation_of(text)
        if index >= MAX_EXPRESSIONS_PER_METRIC:
            notes.append(f"dropped {label}: more than {MAX_EXPRESSIONS_PER_METRIC} expressions")
        elif aggregation is None:
            notes.append(f"dropped {label}: not a k6 threshold expression (aggregation operator number)")
        elif aggregation in seen:
            notes.append(f"dropped {label}: a second threshold on {aggregation}")
        elif (metric, aggregation) not in targets:
            notes.append(f"dropped {label}: perfgate has no evidence for {aggregation} on this metric")
        else:
            seen.add(aggregation)
            target = targets[(metric, aggregation)]
            outcome = (
                _check(target, text, regression)
                if aggregation_fits(aggregation, target.unit)
                else _Outcome(None, f"dropped {label}: k6 has no {aggregation} for a {target.unit} metric")
            )
            kept += [outcome.kept] if outcome.kept is not None else []
            notes += [outcome.note] if outcome.note is not None else []
    return kept, notes


def _guard_thresholds(
    reply: ExplainerReply, verdict: Verdict, plan: HealPlan | None, policy: Policy
) -> tuple[list[GuardedThreshold], list[str]]:
    targets = collect_targets(verdict, plan, policy)
    index = metric_index(targets.values())
    regression = verdict.verdict == "regression"
    kept: list[GuardedThreshold] = []
    notes: list[str] = []
    for name, expressions in reply.new_thresholds.items():
        metric = index.get(name)
        if metric is None:
            notes.append(f"dropped thresholds on {safe_name(name)}: not a metric perfgate measured")
            continue
        more, why = _guard_metric(metric, expressions, targets, regression)
        kept += more
        notes += why
    return kept, notes


def _guard_stages(reply: ExplainerReply, regression: bool) -> tuple[list[StageAdjustment], list[str]]:
    kept: list[StageAdjustment] = []
    notes: list[str] = []
    for item in reply.stage_adjustments:
        label = safe_name(item.type, 32)
        if regression:
            notes.append(
                f"dropped stage adjustment {label}: no load changes while the verdict is a regression"
            )
        elif item.type not in STAGE_KINDS:
            notes.append(f"dropped stage adjustment {label}: unknown kind")
        else:
            kept.append(
                StageAdjustment(
                    type=item.type, reason=clean_text(item.reason), change=clean_text(item.change, 500)
                )
            )
    return kept, notes


def _guard_removals(
    names: Iterable[str], known: set[str], regression: bool, allowed: bool
) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    notes: list[str] = []
    for name in names:
        label = safe_name(name, 48)
        if regression:
            notes.append(f"dropped removal of {label}: no load changes while the verdict is a regression")
        elif not allowed:
            notes.append(f"dropped removal of {label}: the policy does not allow stage removal")
        elif name not in known:
            notes.append(f"dropped removal of {label}: no such stage")
        elif name not in kept:
            kept.append(name)
    return kept, notes


def _stage_names(plan: HealPlan | None, stages: Sequence[StageStats]) -> set[str]:
    names = {f"{safe_name(s.scenario, 40)}:{s.stage}" for s in stages}
    if plan is not None:
        names |= {f"{safe_name(change.scenario, 40)}:{change.stage}" for change in plan.stages}
    return names


def apply_guardrails(
    reply: ExplainerReply,
    verdict: Verdict,
    plan: HealPlan | None,
    policy: Policy,
    stages: Sequence[StageStats] = (),
) -> GuardedExplanation:
    """Keep what perfgate can vouch for; clamp or drop the rest and say so."""
    regression = verdict.verdict == "regression"
    thresholds, threshold_notes = _guard_thresholds(reply, verdict, plan, policy)
    adjustments, stage_notes = _guard_stages(reply, regression)
    known = _stage_names(plan, stages)
    removals, removal_notes = _guard_removals(
        reply.remove, known, regression, policy.healing.allow_stage_removal
    )
    return GuardedExplanation(
        model_regression=reply.regression,
        agrees_with_verdict=reply.regression == regression,
        reason=clean_text(reply.reason),
        confidence=reply.confidence,
        thresholds=thresholds,
        stage_adjustments=adjustments,
        remove=removals,
        dropped=[*threshold_notes, *stage_notes, *removal_notes],
    )
