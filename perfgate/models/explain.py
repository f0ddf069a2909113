"""The explainer's reply (what the model must send) and what perfgate keeps of it.

`ExplainerReply` is the seed's shape, validated strictly: unknown fields, wrong types and
out-of-range values are errors, so an invalid reply is retried once and then dropped.
`GuardedExplanation` is the reply after perfgate's guardrails; `Explanation` is what reports show.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from perfgate.models.base import Strict

_MAX_ITEMS = 50


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class StageAdjustment(_Reply):
    type: str = Field(max_length=64, description="lengthen_ramp, step_load or remove_stage")
    reason: str = Field(max_length=1000)
    change: str = Field(max_length=500, description="the change in words, e.g. '30s ramp instead of 10s'")


class ExplainerReply(_Reply):
    """What the model is asked to return (a JSON object, nothing else)."""

    regression: bool = Field(description="the model's opinion: is this a real regression?")
    reason: str = Field(max_length=1000, description="the explanation in plain words")
    new_thresholds: dict[str, list[str]] = Field(
        default_factory=dict, max_length=_MAX_ITEMS, description="metric → k6 expressions, e.g. p(95)<40"
    )
    stage_adjustments: list[StageAdjustment] = Field(default_factory=list, max_length=_MAX_ITEMS)
    remove: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS, description="stage names")
    confidence: float = Field(ge=0, le=1)


class GuardedThreshold(Strict):
    """A model-suggested threshold that passed the guardrails (possibly clamped)."""

    metric: str
    expression: str = Field(description="rebuilt by perfgate from the parsed parts, e.g. p(95)<42")
    aggregation: str
    limit: float
    suggested: float = Field(description="the limit the model asked for")
    clamped: bool = False


class GuardedExplanation(Strict):
    model_regression: bool
    agrees_with_verdict: bool
    reason: str = Field(description="model text, control characters removed; render escaped")
    confidence: float = Field(ge=0, le=1)
    thresholds: list[GuardedThreshold] = Field(default_factory=list)
    stage_adjustments: list[StageAdjustment] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="every dropped or clamped item, why")


class Explanation(Strict):
    """Words for humans beside the verdict. It never changes the verdict or the exit code."""

    text: str
    source: Literal["model", "deterministic"]
    model: str | None = None
    model_regression_opinion: bool | None = None
    agrees_with_verdict: bool | None = None
    model_confidence: float | None = Field(default=None, ge=0, le=1)
    guarded_thresholds: list[GuardedThreshold] = Field(default_factory=list)
    stage_suggestions: list[StageAdjustment] = Field(default_factory=list)
    remove_suggestions: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    notice: str | None = None
