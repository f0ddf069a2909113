"""Healing: proposed threshold and stage changes, each with the evidence behind it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from perfgate.models.base import Strict
from perfgate.models.run import Stage, StageStats
from perfgate.models.verdict import VerdictKind


class ThresholdEvidence(Strict):
    history_runs: int = Field(ge=0, description="comparable runs the limit was computed from")
    median: float = Field(description="history median of the metric, in the metric's unit")
    spread: float = Field(ge=0, description="robust spread (scaled MAD) of the history")
    upper_bound: float = Field(description="robust upper prediction bound before headroom")
    anchor: float | None = Field(default=None, description="long-run baseline the limit is anchored to")
    headroom: float = Field(ge=1.0)
    ceiling: float | None = Field(default=None, description="policy hard limit (SLO), if any")


class ThresholdChange(Strict):
    metric: str = Field(description="k6 selector, e.g. http_req_duration{name:get_note}")
    aggregation: str = Field(description="k6 aggregation, e.g. p(95) or rate")
    old: str | None = Field(default=None, description="the k6 expression before, e.g. p(95)<150")
    new: str = Field(description="the k6 expression after, e.g. p(95)<40")
    old_limit: float | None = None
    new_limit: float
    direction: Literal["tighten", "loosen", "add"]
    reason: str
    evidence: ThresholdEvidence


class StageChange(Strict):
    kind: Literal["lengthen_ramp", "step_load", "remove_stage"]
    scenario: str
    stage: int = Field(ge=0, description="index of the stage in the scenario as it was")
    old: list[Stage]
    new: list[Stage]
    reason: str
    evidence: list[StageStats] = Field(default_factory=list)


class HealPlan(Strict):
    """What `perfgate heal` proposes. `refused` is set when healing must not happen (e.g. a regression)."""

    schema_version: Literal[1] = 1
    scenario: str
    profile: str = Field(description="file the plan applies to")
    verdict: VerdictKind | None = None
    refused: str | None = None
    thresholds: list[ThresholdChange] = Field(default_factory=list)
    stages: list[StageChange] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.refused is None and bool(self.thresholds or self.stages)


PublishOperation = Literal["created", "updated", "unchanged", "committed", "skipped"]


class PublishResult(Strict):
    operation: PublishOperation
    branch: str | None = None
    commit: str | None = None
    pr_url: str | None = None
    pr_number: int | None = None
    notice: str | None = None
