"""Result objects of the detection package (strict pydantic, JSON-ready)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from perfgate.models.base import Strict
from perfgate.models.verdict import Direction, Finding, VerdictKind


class Detection(Strict):
    """What `detect_regressions` returns: the pipeline wraps it into a `Verdict`."""

    verdict: VerdictKind
    reason: str = Field(description="one sentence")
    findings: list[Finding] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    history_runs: int = Field(ge=0, description="comparable runs the verdict was based on")
    environment: dict[str, float] = Field(
        default_factory=dict,
        description="shared latency multiplier per stat ('factor|p(95)'), k6's runner-contention z "
        "('contention_z') and the runner's probe time against the history's ('probe_ratio')",
    )
    advice: str = Field(default="", description="the one next step for this verdict")
    confidence: float = Field(default=0.0, ge=0, le=1, description="how likely the verdict is right")

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "regression" else 0


class ChangePoint(Strict):
    """One change in a metric's history: it starts at run `run_id` (the first run of the new level)."""

    run_id: str
    index: int = Field(ge=0, description="position of that run in the scanned history, oldest = 0")
    mean_before: float
    mean_after: float
    change_ratio: float | None = Field(description="mean_after / mean_before (None when mean_before is 0)")
    classification: VerdictKind = Field(description="regression, improvement, or noise when below the floors")
    space: Literal["raw", "relative"] = Field(
        default="raw", description="found in the values as measured, or relative to the run's other endpoints"
    )


class MetricTrend(Strict):
    metric: str
    stat: str
    direction: Direction
    runs: int = Field(ge=0)
    change_points: list[ChangePoint] = Field(default_factory=list)


class TrendReport(Strict):
    runs: int = Field(ge=0)
    penalty_rule: str = Field(description="how the change-point penalty was chosen")
    metrics: list[MetricTrend] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
