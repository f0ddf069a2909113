"""Lenient pydantic models of what k6 writes (k6 adds fields between versions).

- `ExportSummary`: `--summary-export` (flat values, threshold `true` = crossed, groups and
  checks as objects keyed by name).
- `HandleSummary`: the `data` object given to `handleSummary()` (values under `values`,
  threshold `{"ok": true}` = passed, groups and checks as arrays).
- `MachineSummary`: k6's machine-readable summary, schema 1.0.0 (k6 >= 1.5). Shape taken
  from grafana/k6 `internal/lib/summary/machinereadable/types_gen.go` (generated from the
  schema; `SchemaVersion = "1.0.0"`) and `internal/lib/summary/machine_readable.go`:
  `{version, config: {duration (s), execution, script}, metadata: {generatedAt, k6Version},
  results: {metrics: [{name, type, contains, values}], checks: {metrics, results}}}`;
  counter values are `{count}`, rate values `{matches, total, rate}`, trend values at most
  avg/min/med/max/p(90)/p(95), gauge values `{value, min, max}`. No thresholds in 1.0.0.
- `MetricLine` / `PointLine`: the two line types of `--out json` (NDJSON).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, Strict, StrictBool, field_validator, model_validator

from perfgate.models.base import Lenient

Number = Annotated[float, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]
KindName = Literal["trend", "rate", "counter", "gauge"]


class Check(Lenient):
    """One k6 check, the same shape in the summary export and in handleSummary's JSON."""

    name: str
    path: str = ""
    passes: Count
    fails: Count


class ExportGroup(Lenient):
    name: str = ""
    path: str = ""
    groups: dict[str, ExportGroup] = Field(default_factory=dict)
    checks: dict[str, Check] = Field(default_factory=dict)


class ExportSummary(Lenient):
    metrics: dict[str, dict[str, Number | dict[str, StrictBool]]]
    root_group: ExportGroup | None = None


class SummaryThreshold(Lenient):
    ok: StrictBool


class SummaryMetric(Lenient):
    type: KindName
    contains: str | None = None
    values: dict[str, Number]
    thresholds: dict[str, SummaryThreshold] = Field(default_factory=dict)


class SummaryGroup(Lenient):
    name: str = ""
    path: str = ""
    groups: list[SummaryGroup] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)


class SummaryState(Lenient):
    testRunDurationMs: Number | None = Field(default=None, ge=0)


class SummaryOptions(Lenient):
    summaryTrendStats: list[str] | None = None


class HandleSummary(Lenient):
    metrics: dict[str, SummaryMetric]
    root_group: SummaryGroup | None = None
    state: SummaryState | None = None
    options: SummaryOptions | None = None


class MachineMetric(Lenient):
    name: str
    type: KindName
    contains: str | None = None
    values: dict[str, Number]

    @model_validator(mode="after")
    def _schema_limits(self) -> MachineMetric:
        """The constraints of schema 1.0.0 (`Validate()` in k6's generated code)."""
        values = self.values
        if self.type == "rate":
            matches, total = values.get("matches", 0.0), values.get("total", 0.0)
            if not 0 <= matches <= total or not 0 <= values.get("rate", 0.0) <= 1:
                raise ValueError("rate values need 0 <= matches <= total and 0 <= rate <= 1")
        elif self.type == "counter" and values.get("count", 0.0) < 0:
            raise ValueError("counter count must be >= 0")
        return self


class MachineCheck(Lenient):
    name: str
    passes: Count
    fails: Count


class MachineChecks(Lenient):
    metrics: list[MachineMetric] = Field(default_factory=list)
    results: list[MachineCheck] = Field(default_factory=list)


class MachineResults(Lenient):
    metrics: list[MachineMetric]
    checks: MachineChecks | None = None


class MachineConfig(Lenient):
    duration: Number = Field(ge=0)
    execution: str | None = None
    script: str | None = None


class MachineMetadata(Lenient):
    generatedAt: datetime | None = None
    k6Version: str | None = None


class MachineSummary(Lenient):
    version: str
    config: MachineConfig | None = None
    metadata: MachineMetadata | None = None
    results: MachineResults


class Submetric(Lenient):
    name: str
    tags: dict[str, str] = Field(default_factory=dict)


class MetricInfo(Lenient):
    name: str
    type: KindName
    contains: str | None = None
    thresholds: list[str] | None = None
    submetrics: list[Submetric] | None = None

    @field_validator("thresholds", mode="before")
    @classmethod
    def _threshold_text(cls, value: object) -> object:
        """k6 writes `{"threshold": "p(95)<500", "abortOnFail": true}` for the object form: keep the text."""
        if isinstance(value, list):
            return [item.get("threshold") if isinstance(item, dict) else item for item in value]
        return value


class MetricLine(Lenient):
    type: Literal["Metric"]
    metric: str
    data: MetricInfo


class PointData(Lenient):
    time: str
    value: Number
    tags: dict[str, str] | None = None


class PointLine(Lenient):
    type: Literal["Point"]
    metric: str
    data: PointData
