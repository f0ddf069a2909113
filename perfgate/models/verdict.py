"""Analyzer output: findings per metric and the run's verdict."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from perfgate.models.base import Strict

VerdictKind = Literal["pass", "improvement", "noise", "warn", "regression", "no_baseline"]
Classification = Literal["pass", "improvement", "noise", "warn", "regression", "no_baseline"]
Direction = Literal["higher_is_worse", "lower_is_worse"]

VERDICT_SEVERITY: dict[str, int] = {
    "no_baseline": 0,
    "pass": 1,
    "improvement": 2,
    "noise": 3,
    "warn": 4,
    "regression": 5,
}


class Finding(Strict):
    """The evidence for one gated metric."""

    metric: str = Field(description="k6 selector, e.g. http_req_duration{name:create_note}")
    stat: str = Field(description="k6 stat, e.g. p(95) or rate")
    endpoint: str | None = None
    direction: Direction
    unit: Literal["ms", "ratio", "per_s", "count"]
    baseline: float | None = None
    observed: float
    change_ratio: float | None = Field(
        default=None, description="observed / baseline; 1.25 = 25 % higher than the baseline"
    )
    change_abs: float | None = None
    own_change_ratio: float | None = Field(
        default=None,
        description="endpoint latency against the other endpoints of the same run (runner speed removed); "
        "set when that, not the raw change, decided",
    )
    classification: Classification
    confidence: float = Field(ge=0, le=1)
    detectors: list[str] = Field(default_factory=list, description="detectors that flagged it")
    reason: str = ""


class RunSummaryRow(Strict):
    """Key numbers of one endpoint (or the whole run) for reports."""

    endpoint: str
    requests: int | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float | None = None
    rps: float | None = None
    checks_pass_rate: float | None = None


class Verdict(Strict):
    """What `analyze` returns (`--format json`)."""

    schema_version: Literal[1] = 1
    verdict: VerdictKind
    reason: str
    scenario: str
    source: str
    history_runs: int = Field(ge=0, description="comparable runs the verdict was based on")
    findings: list[Finding] = Field(default_factory=list)
    summary: list[RunSummaryRow] = Field(default_factory=list)
    resources: dict[str, float] = Field(
        default_factory=dict, description="cpu_peak_percent, cpu_mean_percent, rss_peak_mb, rss_mean_mb"
    )
    notices: list[str] = Field(default_factory=list)
    advice: str = Field(default="", description="the one next step for this verdict, computed once")
    confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="how likely the verdict is right (bench/verdicts.py: reliability)",
    )

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "regression" else 0
