"""Threshold proposals: one `ThresholdChange` per k6 expression the evidence says should move.

For each expression already in the profile (`p(95)<100`, `rate<0.01`, `rate>0.99`, ...) whose
unit is known (`targets.classify`):

1. a threshold the newest runs already cross (more than half of the newest `RECENT_RUNS`, by
   k6's own comparison) is the test failing: it is never loosened (nor tightened), and the plan
   says so and why;
2. the history's values of that (metric, aggregation) → `bounds.fit_limit` → a readable limit
   (`expressions.nice_limit`), then the guards (`_guarded`), in this order:
   - never tighter than the worst of the newest `RECENT_RUNS` runs plus `FLOOR_ROOM` (a limit
     the recent clean history itself crosses would fail the next clean run);
   - one heal moves a limit at most half of the way to zero (an upper bound to ≥ old/2, a lower
     bound to ≤ old + |old|/2, a ratio floor at most half-way to 1): the rest waits for later
     heals on more evidence;
   - ratios stay in [0, 1], times, counts and throughput ≥ 0; a lower bound that would reach 0
     would always pass, and is left as it is;
   - never past the policy ceiling of the matching rule;
3. the ratchet (`_decide`):
   - over the ceiling now → back to the ceiling (always);
   - tighter: only when every one of the newest `RECENT_RUNS` runs is better than the level the
     current limit implies (the limit minus the margin): sustained improvement, never one lucky
     run;
   - looser: only when the noise says so (a noise run at the long-run level would cross the
     current limit more than `LOOSEN_CROSSING` of the time) and never while the verdict is
     `warn`, nor while every one of the newest runs is worse than the long-run baseline (a drift
     upward moves the anchor not at all and the noise estimate only by chance: it cannot loosen);
   - changes under `MIN_RELATIVE_CHANGE` are not worth a commit.

Repeated heals on unchanged evidence converge: each step only tightens (or only loosens), the
step cap shrinks geometrically, and at the fixed point the change is under `MIN_RELATIVE_CHANGE`
(tests/test_heal_soundness.py checks it as a property).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from perfgate.core.expressions import Expression, format_number, nice_limit, with_limit
from perfgate.core.heal.bounds import RECENT_RUNS, LimitModel, fit_limit
from perfgate.core.heal.targets import Target
from perfgate.models import Policy, ThresholdChange, ThresholdEvidence, VerdictKind

LOOSEN_CROSSING = 0.05
MIN_RELATIVE_CHANGE = 0.05
MAX_STEP = 0.5
FLOOR_ROOM = 0.05  # ×1.05 in log space, +5 % of the value (at least min_change_abs) in raw space
_LEAST_ROOM = {"ratio": 0.001, "count": 1.0}
_UNIT_TEXT = {"ms": " ms", "per_s": "/s", "ratio": "", "count": "", "value": "", "score": ""}


def crosses(expression: Expression, value: float) -> bool:
    """k6's verdict on one value: True when `value` fails `expression`."""
    limit = expression.limit
    passes = {
        "<": value < limit,
        "<=": value <= limit,
        ">": value > limit,
        ">=": value >= limit,
    }.get(expression.operator, True)
    return not passes


def failing_note(target: Target, values: Sequence[float]) -> str | None:
    """A sentence when more than half of the newest runs already cross the threshold, else None."""
    recent = list(values[-RECENT_RUNS:])
    crossed = [value for value in recent if crosses(target.expression, value)]
    if not recent or 2 * len(crossed) <= len(recent):
        return None
    shown = ", ".join(_num(value, target.unit) for value in recent)
    return (
        f"{target.metric}: {target.expression.text!r} is already crossed by {len(crossed)} of the newest "
        f"{len(recent)} runs ({target.stat}: {shown}): the test is failing. Healing never loosens a "
        "failing threshold; fix the cause, or change the limit by hand if the new level is intended."
    )


def _round_looser(target: Target, value: float, digits: int = 3) -> float:
    """`value` to `digits` significant figures, rounded in the looser direction."""
    if value == 0 or not math.isfinite(value):
        return value
    step = Decimal(1).scaleb(math.floor(math.log10(abs(value))) - digits + 1)
    rounding = ROUND_CEILING if target.space.upper else ROUND_FLOOR
    return float((Decimal(repr(value)) / step).to_integral_value(rounding) * step)


def _looser(target: Target, a: float, b: float) -> float:
    return max(a, b) if target.space.upper else min(a, b)


def recent_floor(target: Target, values: Sequence[float], min_abs: float) -> float:
    """The tightest limit the newest runs allow: their worst value plus `FLOOR_ROOM` (room taken
    on the failure fraction for a ratio, so checks at 1.0 leave room for 1 % of failures)."""
    space = target.space
    recent = values[-RECENT_RUNS:]
    worst = max(recent) if space.upper else min(recent)
    if space.log:
        floor = worst * (1 + FLOOR_ROOM) if space.upper else worst / (1 + FLOOR_ROOM)
    else:
        worst_b = space.one(worst)
        room = max(FLOOR_ROOM * abs(worst_b), min_abs, _LEAST_ROOM.get(target.unit, 1e-9))
        floor = space.from_badness(worst_b + room)
    return _round_looser(target, floor)


def step_cap(target: Target) -> float:
    """The tightest limit one heal may set: half of the way to zero (to 1 for a ratio floor),
    rounded to 2 significant figures on the loose side (1000 → 500 → 250 → 130)."""
    old = target.expression.limit
    if target.space.upper:
        return _round_looser(target, old - abs(old) * MAX_STEP, digits=2)
    room = (1.0 - old) if target.space.ratio else abs(old)
    return _round_looser(target, old + room * MAX_STEP, digits=2)


def _domain(target: Target, value: float) -> float:
    if target.space.ratio:
        return min(max(value, 0.0), 1.0)
    return max(value, 0.0) if target.non_negative else value


def _clamp_ceiling(target: Target, limit: float) -> float:
    ceiling = target.ceiling
    if ceiling is None:
        return limit
    return min(limit, ceiling) if target.space.upper else max(limit, ceiling)


def _past_ceiling(target: Target, limit: float) -> bool:
    ceiling = target.ceiling
    return ceiling is not None and (limit > ceiling if target.space.upper else limit < ceiling)


def _tighter(target: Target, new: float, old: float) -> bool:
    return new < old if target.space.upper else new > old


def _guarded(target: Target, proposed: float, values: Sequence[float], min_abs: float) -> float:
    """`proposed` after the floor, the step cap, the value domain and the ceiling (docstring, 2)."""
    new = _looser(target, proposed, recent_floor(target, values, min_abs))
    if _tighter(target, new, target.expression.limit):
        new = _looser(target, new, step_cap(target))
    return _clamp_ceiling(target, _domain(target, new))


def _small_change(target: Target, new: float, old: float) -> bool:
    """Under `MIN_RELATIVE_CHANGE`, measured on the failure fraction for a ratio floor (0.94 →
    0.97 halves the failures allowed: not small)."""
    if target.space.ratio:
        new, old = target.space.one(new), target.space.one(old)
    return abs(new - old) <= MIN_RELATIVE_CHANGE * max(abs(old), 1e-12)


def _decide(target: Target, model: LimitModel, new: float, verdict: VerdictKind | None) -> str | None:
    """The direction of the change ('tighten' or 'loosen'), or None to keep the current limit."""
    space, old = target.space, target.expression.limit
    if _past_ceiling(target, old):
        return "tighten"
    if _small_change(target, new, old):
        return None
    recent = [space.one(value) for value in model.recent]
    if _tighter(target, new, old):
        implied = space.one(old) - model.margin_b
        sustained = bool(recent) and all(r < implied for r in recent)
        return "tighten" if sustained else None
    noisy = model.noise_crossing(space, old) > LOOSEN_CROSSING
    worsening = bool(recent) and all(r > model.anchor_b for r in recent)
    return "loosen" if noisy and not worsening and verdict not in ("warn", "regression") else None


def _num(value: float, unit: str) -> str:
    digits = 3 if unit in ("ratio",) else 2
    return format_number(float(f"{value:.{digits}g}")) + _UNIT_TEXT.get(unit, "")


def _reason(target: Target, model: LimitModel, direction: str, new: float, evidence_limit: float) -> str:
    agg, unit = target.expression.aggregation, target.unit
    head = f"{agg} history {_num(model.median, unit)} ± {_num(model.spread, unit)} over {model.runs} runs"
    base = "recent runs all better than the long-run baseline" if model.improved else "long-run baseline"
    text = f"{head}; {base} {_num(model.level, unit)}, noise bound {_num(model.upper_bound, unit)}"
    if _past_ceiling(target, target.expression.limit) or new == target.ceiling:
        text += f"; held to the policy ceiling {_num(target.ceiling or new, unit)}"
    elif direction == "tighten" and _tighter(target, evidence_limit, new):
        text += f"; the evidence points to {_num(evidence_limit, unit)}: one heal moves at most half way"
    if direction == "loosen":
        crossing = model.noise_crossing(target.space, target.expression.limit)
        text += f"; noise would cross the old limit in {crossing:.0%} of runs"
    return text


def propose_threshold(
    target: Target, values: Sequence[float], policy: Policy, verdict: VerdictKind | None
) -> ThresholdChange | str | None:
    """The change for one expression, a sentence when it must stay as it is for a reason the
    report should give (failing, vacuous), or None when the current limit is simply right."""
    old = target.expression.limit
    if not _past_ceiling(target, old) and (note := failing_note(target, values)) is not None:
        return note
    min_abs = target.min_change_abs
    model = fit_limit(values, target.space, headroom=policy.healing.headroom, min_change_abs=min_abs)
    evidence_limit = nice_limit(model.limit)
    new = _guarded(target, evidence_limit, values, min_abs)
    if not target.space.upper and target.non_negative and new <= 0 < old:
        return f"{target.metric}: {target.expression.text!r} kept: the noise would take this lower bound to 0 (always passing)."
    direction = _decide(target, model, new, verdict)
    if direction is None or new == old:
        return None
    return ThresholdChange(
        metric=target.metric,
        aggregation=target.expression.aggregation,
        old=target.expression.text,
        new=with_limit(target.expression, new),
        old_limit=old,
        new_limit=new,
        direction="tighten" if direction == "tighten" else "loosen",
        reason=_reason(target, model, direction, new, evidence_limit),
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
