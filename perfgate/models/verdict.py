"""Analyzer output: findings per metric and the run's verdict."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from perfgate.models.base import Strict

VerdictKind = Literal["pass", "improvement", "noise", "warn", "regression", "no_baseline", "broken"]
Classification = Literal["pass", "improvement", "noise", "warn", "regression", "no_baseline"]
FAILING_VERDICTS = frozenset({"regression", "broken"})
Direction = Literal["higher_is_worse", "lower_is_worse"]

VERDICT_SEVERITY: dict[str, int] = {
    "no_baseline": 0,
    "pass": 1,
    "improvement": 2,
    "noise": 3,
    "warn": 4,
    "regression": 5,
    "broken": 6,
}


class Finding(Strict):
    """The evidence for one gated metric."""

    metric: str = Field(description="k6 selector, e.g. http_req_duration{name:create_note}")
    stat: str = Field(description="k6 stat, e.g. p(95) or rate")
    endpoint: str | None = None
    direction: Direction
    unit: Literal["ms", "ratio", "per_s", "count", "score"]
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
    expected_level_ratio: float | None = Field(
        default=None,
        description="observed / baseline at the level the runner's measured load predicts; set when a "
        "global shift judged at that level decided (the value as measured can be below its baseline "
        "on a runner measured faster than usual)",
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


class CrossedThreshold(Strict):
    """One k6 threshold k6 itself judged crossed."""

    metric: str = Field(description="k6 selector, e.g. http_req_duration{name:login}")
    expression: str = Field(description="as written in the options, e.g. p(95)<500")
    observed: float | None = Field(default=None, description="the run's value of that stat, when known")


class K6Outcome(Strict):
    """k6's own verdict on the run: its exit code and the thresholds it found crossed."""

    exit_code: int | None = None
    meaning: str | None = Field(default=None, description="what k6's exit code means, in words")
    version: str | None = None
    crossed: list[CrossedThreshold] = Field(default_factory=list)
    log_tail: list[str] = Field(
        default_factory=list,
        description="the last lines of k6's stderr when k6 stopped the run (k6's own text, shown as data)",
    )
    gating: bool = Field(
        default=True, description="crossed thresholds fail the gate (policy `k6_thresholds: gate`)"
    )

    @property
    def fails_gate(self) -> bool:
        return self.gating and bool(self.crossed)


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
    k6: K6Outcome = Field(
        default_factory=K6Outcome, description="k6's own verdict: exit code, crossed thresholds"
    )
    gated: list[str] = Field(default_factory=list, description="the metrics and stats this verdict gated")
    not_gated: list[str] = Field(
        default_factory=list, description="metrics of the run left out of the gate, each with why"
    )

    @property
    def exit_code(self) -> int:
        """1 for a regression, a broken run, or k6 thresholds crossed (unless advisory); else 0."""
        return 1 if self.verdict in FAILING_VERDICTS or self.k6.fails_gate else 0
