"""Stage proposals from per-stage numbers (`RunRecord.stages`, from the raw k6 points).

Over the newest `STAGE_RUNS` runs with per-stage numbers (at least `MIN_STAGE_RUNS`), each
stage of each ramping scenario is judged against the profile's own targets: the loosest
`http_req_duration` p(95) limit and the loosest `http_req_failed` rate limit ("breaks" = a
stage's p95 or error rate is past them). In order, the first rule that applies:

- spike (a steep up-ramp to ≥ `SPIKE_FACTOR`× the load held in the stage before) that breaks the
  targets in ≥ `PERSISTENT` of the runs → `step_load`: the same climb in at most `MAX_STEPS`
  equal increments, each ramp followed by a hold of the same duration;
- steep up-ramp (more than `STEEP_SLOPE` of the peak per second) whose errors or p95 are
  concentrated there (error rate ≥ 2× and ≥ 0.01 above the other stages', or p95 ≥
  `CONCENTRATION`× their median) in ≥ `PERSISTENT` of the runs → `lengthen_ramp`: twice as long;
- flaky (breaks the targets in some runs but not most, while no other stage ever does) →
  `remove_stage` when `policy.healing.allow_stage_removal`, else a notice.

A changed stage list is a new load model: the next run starts a new baseline.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from perfgate.core.expressions import format_number, parse_expression
from perfgate.core.heal.targets import threshold_expressions
from perfgate.models import Policy, RunRecord, Stage, StageChange, StageStats

STAGE_RUNS = 10
MIN_STAGE_RUNS = 3
PERSISTENT = 0.6
FLAKY_RANGE = (0.2, 0.6)
SPIKE_FACTOR = 3.0
STEEP_SLOPE = 0.1
CONCENTRATION = 1.5
MAX_STEPS = 4
_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Targets:
    p95_ms: float | None
    error_rate: float | None

    def broken(self, stats: StageStats) -> bool:
        slow = self.p95_ms is not None and stats.p95_ms is not None and stats.p95_ms > self.p95_ms
        failing = self.error_rate is not None and stats.error_rate > self.error_rate
        return slow or failing


@dataclass(frozen=True)
class ScenarioStages:
    name: str
    start: float
    stages: list[Stage]

    def previous(self, index: int) -> float:
        return self.start if index == 0 else self.stages[index - 1].target

    @property
    def peak(self) -> float:
        return max([self.start, *(stage.target for stage in self.stages)])


def duration_s(text: str | float) -> float:
    """A k6 duration ("1m30s", "500ms", or a number of milliseconds) in seconds."""
    if isinstance(text, int | float):
        return float(text) / 1000.0
    parts = _DURATION_RE.findall(text.strip())
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """Seconds as a short k6 duration: 10s, 1m, 1m30s, 2.5s."""
    if seconds >= 60 and seconds == int(seconds):
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes}m" + (f"{rest}s" if rest else "")
    return f"{format_number(round(seconds, 3))}s"


def scenario_stages(options: Mapping[str, Any]) -> list[ScenarioStages]:
    """Every ramping scenario of k6 options (top-level `stages` is the scenario `default`)."""
    found = []
    if isinstance(options.get("stages"), list):
        found.append(ScenarioStages("default", float(options.get("vus", 1)), _stages(options["stages"])))
    for name, scenario in (options.get("scenarios") or {}).items():
        if isinstance(scenario, Mapping) and isinstance(scenario.get("stages"), list):
            start = scenario.get("startRate", 0) if "arrival" in str(scenario.get("executor")) else None
            start = scenario.get("startVUs", 1) if start is None else start
            found.append(ScenarioStages(str(name), float(start), _stages(scenario["stages"])))
    return found


def _stages(items: list[Any]) -> list[Stage]:
    return [Stage(duration=str(item["duration"]), target=float(item.get("target", 0))) for item in items]


def profile_targets(options: Mapping[str, Any]) -> Targets:
    latency: list[float] = []
    errors: list[float] = []
    for metric, text in threshold_expressions(options):
        expression = parse_expression(text)
        if expression is None or not expression.upper:
            continue
        if metric.startswith("http_req_duration") and expression.aggregation == "p(95)":
            latency.append(expression.limit)
        elif metric.startswith("http_req_failed") and expression.aggregation == "rate":
            errors.append(expression.limit)
    return Targets(max(latency, default=None), max(errors, default=None))


def _per_run(runs: Sequence[RunRecord], scenario: str) -> list[dict[int, StageStats]]:
    tables = [{s.stage: s for s in run.stages if s.scenario == scenario} for run in runs]
    return [table for table in tables if table][-STAGE_RUNS:]


def _concentrated(table: Mapping[int, StageStats], index: int) -> bool:
    stage = table[index]
    others = [s for i, s in table.items() if i != index and s.requests > 0]
    if not others or stage.requests == 0:
        return False
    worst_other = max(s.error_rate for s in others)
    if stage.error_rate >= max(2 * worst_other, worst_other + 0.01):
        return True
    other_p95 = [s.p95_ms for s in others if s.p95_ms is not None]
    return (
        stage.p95_ms is not None
        and bool(other_p95)
        and stage.p95_ms >= CONCENTRATION * statistics.median(other_p95)
    )


def _share(tables: Sequence[Mapping[int, StageStats]], index: int, test: Any) -> float:
    with_stage = [table for table in tables if index in table]
    return sum(1 for table in with_stage if test(table)) / len(with_stage) if with_stage else 0.0


def _evidence(tables: Sequence[Mapping[int, StageStats]], index: int) -> list[StageStats]:
    return [table[index] for table in tables if index in table]


def _numbers(stats: Sequence[StageStats]) -> str:
    p95 = [s.p95_ms for s in stats if s.p95_ms is not None]
    errors = [s.error_rate for s in stats]
    p95_text = f"p95 median {statistics.median(p95):.1f} ms" if p95 else "p95 unknown"
    return f"{p95_text}, error rate median {statistics.median(errors):.2%} over {len(stats)} runs"


def _step_load(scenario: ScenarioStages, index: int) -> list[Stage]:
    low, high = scenario.previous(index), scenario.stages[index].target
    steps = min(MAX_STEPS, max(2, math.ceil((high - low) / max(low, 1.0))))
    duration = scenario.stages[index].duration
    whole = low == int(low) and high == int(high)
    levels = [low + (high - low) * (step + 1) / steps for step in range(steps)]
    levels = [float(math.ceil(level)) if whole else round(level, 3) for level in levels]
    out: list[Stage] = []
    for level in levels:
        out.append(Stage(duration=duration, target=level))
        if level != levels[-1]:
            out.append(Stage(duration=duration, target=level))
    return out


StageKind = Literal["lengthen_ramp", "step_load", "remove_stage"]


def _change(
    scenario: ScenarioStages, index: int, kind: StageKind, new: list[Stage], reason: str, ev: list[StageStats]
) -> StageChange:
    return StageChange(
        kind=kind,
        scenario=scenario.name,
        stage=index,
        old=[scenario.stages[index]],
        new=new,
        reason=reason,
        evidence=ev,
    )


def _slope(scenario: ScenarioStages, index: int) -> float:
    """Change of target per second, as a fraction of the scenario's peak (negative: ramp down)."""
    seconds = max(duration_s(scenario.stages[index].duration), 0.001)
    rise = scenario.stages[index].target - scenario.previous(index)
    return rise / max(scenario.peak, 1e-9) / seconds


def _is_spike(scenario: ScenarioStages, index: int) -> bool:
    """A jump to ≥ SPIKE_FACTOR× a load that was held for the stage before (not a ramp from idle)."""
    before = scenario.previous(index)
    held = index >= 1 and scenario.stages[index - 1].target == scenario.previous(index - 1)
    return held and before > 0 and scenario.stages[index].target >= SPIKE_FACTOR * before


def _judge(
    scenario: ScenarioStages,
    index: int,
    tables: Sequence[Mapping[int, StageStats]],
    targets: Targets,
    policy: Policy,
) -> StageChange | str | None:
    """The change for one stage, a notice (str), or None."""
    stage, before = scenario.stages[index], scenario.previous(index)
    evidence = _evidence(tables, index)
    breaks = _share(tables, index, lambda t: targets.broken(t[index]))
    steep = _slope(scenario, index) > STEEP_SLOPE
    where = f"scenario {scenario.name} stage {index} ({before:g}→{stage.target:g} in {stage.duration})"
    if steep and _is_spike(scenario, index):
        if breaks >= PERSISTENT:
            new = _step_load(scenario, index)
            reason = f"{where}: the spike breaks the targets in {breaks:.0%} of runs ({_numbers(evidence)}); step the load up in {len(new) // 2 + 1} increments"
            return _change(scenario, index, "step_load", new, reason, evidence)
        return None
    if steep and _share(tables, index, lambda t: _concentrated(t, index)) >= PERSISTENT:
        longer = format_duration(2 * duration_s(stage.duration))
        reason = f"{where}: errors or latency concentrate in this steep ramp ({_numbers(evidence)}); ramp over {longer}"
        return _change(
            scenario, index, "lengthen_ramp", [Stage(duration=longer, target=stage.target)], reason, evidence
        )
    others_break = any(targets.broken(s) for t in tables for i, s in t.items() if i != index)
    if FLAKY_RANGE[0] <= breaks < FLAKY_RANGE[1] and not others_break and len(scenario.stages) > 1:
        reason = f"{where}: flaky, breaks the targets in {breaks:.0%} of runs while no other stage does ({_numbers(evidence)})"
        if policy.healing.allow_stage_removal:
            return _change(scenario, index, "remove_stage", [], reason, evidence)
        return f"{reason}; removal not proposed (policy healing.allow_stage_removal is false)"
    return None


def propose_stage_changes(
    options: Mapping[str, Any], runs: Sequence[RunRecord], policy: Policy
) -> tuple[list[StageChange], list[str]]:
    """Stage changes (and notices) for every ramping scenario in `options`; `runs` oldest first."""
    targets = profile_targets(options)
    changes: list[StageChange] = []
    notices: list[str] = []
    for scenario in scenario_stages(options):
        count = len(scenario.stages)
        tables = [{i: s for i, s in t.items() if i < count} for t in _per_run(runs, scenario.name)]
        if len(tables) < MIN_STAGE_RUNS:
            continue
        for index in range(len(scenario.stages)):
            outcome = _judge(scenario, index, tables, targets, policy)
            if isinstance(outcome, StageChange):
                changes.append(outcome)
            elif outcome:
                notices.append(outcome)
    if changes:
        notices.append("Stage changes give a new load model: the next run starts a new baseline.")
    return changes, notices
