"""`perfgate merge`: several parts of one load test (execution segments, k6-operator runners) → one run."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field

from perfgate.models.base import Frozen, Strict

_FROZEN = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class MergeRequest(Frozen):
    """What `perfgate merge` was asked to do (never written to a file)."""

    parts: tuple[Path, ...] = Field(min_length=1, description="run directories or raw NDJSON/CSV files")
    out: Path = Field(
        description="run directory to write (summary.json, raw points, run-meta.json, merge.json)"
    )
    script: Path | None = Field(
        default=None, description="the k6 script: its thresholds, sub-metrics included"
    )
    profile: Path | None = Field(
        default=None, description="k6 options the parts ran with (--config), thresholds included"
    )
    env: dict[str, str] = Field(default_factory=dict, description="-e KEY=VALUE for k6 inspect")
    k6: Path | None = None
    exact_points: int = Field(
        default=10_000_000,
        ge=1,
        description="a trend keeps this many points for exact percentiles; past it, an HDR histogram (≤ 0.1 %)",
    )


class ThresholdCheck(Strict):
    """One threshold evaluated once, on the merged points."""

    model_config = _FROZEN

    expression: str
    ok: bool | None = Field(description="true: passed; false: crossed; null: could not be evaluated")
    observed: float | None = Field(default=None, description="the merged value the expression reads")


class MergedPart(Strict):
    model_config = _FROZEN

    path: str
    points_file: str = Field(description="the raw points read for this part")
    segment: str | None = Field(default=None, description="k6 --execution-segment of the part, when recorded")
    http_reqs: int | None = None
    iterations: int | None = None


class MergeResult(Strict):
    """What `perfgate merge --format json` prints and writes as `merge.json`."""

    model_config = _FROZEN

    schema_version: int = 1
    out: str
    parts: list[MergedPart]
    metrics: dict[str, dict[str, float]] = Field(description="merged stats per metric key, k6 names")
    thresholds: dict[str, list[ThresholdCheck]] = Field(
        description="per metric key, evaluated on the merged data"
    )
    thresholds_source: str = Field(
        description="`script` (k6 inspect: every threshold) or `raw` (NDJSON Metric lines)"
    )
    crossed: int = Field(ge=0, description="how many thresholds the whole test crossed")
    broken: bool = Field(
        default=False,
        description="a part's k6 did not complete (exit 104/107/108/110): the merged run is broken",
    )
    notes: list[str] = Field(default_factory=list)
