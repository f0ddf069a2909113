"""The repository's policy file (`perfgate.yml`): what is gated, how, and the hard limits."""

from __future__ import annotations

import fnmatch
from datetime import date
from typing import Literal

from pydantic import Field

from perfgate.models.base import Strict
from perfgate.models.verdict import Direction


class MetricRule(Strict):
    """How one family of metrics is gated. `match` is a glob over the k6 selector text."""

    match: str = Field(description="glob over metric keys, e.g. 'http_req_duration{name:*}'")
    stats: list[str] = Field(description="k6 stats to gate, e.g. ['p(95)', 'p(99)']")
    direction: Direction
    unit: Literal["ms", "ratio", "per_s", "count", "score"]
    min_change_ratio: float = Field(
        default=1.10, ge=1.0, description="smallest relative change that can fail the gate (1.10 = 10 %)"
    )
    min_change_abs: float = Field(
        default=0.0, ge=0.0, description="smallest absolute change that can fail the gate, in `unit`"
    )
    ceiling: float | None = Field(
        default=None, description="hard limit (SLO) in `unit`: healing never sets a threshold past it"
    )
    unless_present: str | None = Field(
        default=None,
        description="glob over metric keys: gate only runs without such a metric (with samples), e.g. the "
        "overall latency when no per-endpoint latency exists, iteration_duration when there is no HTTP",
    )

    def matches(self, metric: str) -> bool:
        return fnmatch.fnmatchcase(metric, self.match)


def default_rules() -> list[MetricRule]:
    return [
        _latency("http_req_duration{name:*}", ["p(95)", "p(99)"]),
        _latency("http_req_duration", ["p(95)", "p(99)"], unless_present="http_req_duration{name:*}"),
        MetricRule(
            match="http_req_failed{name:*}",
            stats=["rate"],
            direction="higher_is_worse",
            unit="ratio",
            min_change_ratio=1.0,
            min_change_abs=0.005,
        ),
        MetricRule(
            match="http_req_failed",
            stats=["rate"],
            direction="higher_is_worse",
            unit="ratio",
            min_change_ratio=1.0,
            min_change_abs=0.01,
        ),
        MetricRule(
            match="checks",
            stats=["rate"],
            direction="lower_is_worse",
            unit="ratio",
            min_change_ratio=1.0,
            min_change_abs=0.01,
        ),
        MetricRule(
            match="http_reqs",
            stats=["rate"],
            direction="lower_is_worse",
            unit="per_s",
            min_change_ratio=1.15,
        ),
        MetricRule(
            match="dropped_iterations",
            stats=["count"],
            direction="higher_is_worse",
            unit="count",
            min_change_ratio=1.0,
            min_change_abs=1.0,
        ),
        *_protocol_rules(),
    ]


def _latency(match: str, stats: list[str], unless_present: str | None = None) -> MetricRule:
    return MetricRule(
        match=match,
        stats=stats,
        direction="higher_is_worse",
        unit="ms",
        min_change_ratio=1.10,
        min_change_abs=1.0,
        unless_present=unless_present,
    )


def _protocol_rules() -> list[MetricRule]:
    """What a run without HTTP has: gRPC, WebSocket, browser web vitals (CLS is unitless), iterations."""
    vitals = [
        _latency(f"browser_web_vital_{vital}", ["p(95)"]) for vital in ("lcp", "fcp", "inp", "ttfb", "fid")
    ]
    cls = MetricRule(
        match="browser_web_vital_cls",
        stats=["p(95)"],
        direction="higher_is_worse",
        unit="score",
        min_change_ratio=1.10,
        min_change_abs=0.01,
    )
    return [
        _latency("grpc_req_duration", ["p(95)", "p(99)"]),
        _latency("grpc_req_duration{name:*}", ["p(95)", "p(99)"]),
        _latency("ws_connecting", ["p(95)"]),
        _latency("ws_session_duration", ["p(95)"]),
        *vitals,
        cls,
        _latency("iteration_duration", ["p(95)"], unless_present="http_req_duration"),
    ]


class Acknowledgement(Strict):
    """A known, accepted regression: stops failing the gate until `until`."""

    metric: str = Field(description="glob over metric keys")
    stat: str = "*"
    until: date
    reason: str = Field(min_length=1)


class HistoryPolicy(Strict):
    min_runs: int = Field(default=5, ge=2, description="comparable runs needed before gating statistically")
    keep_runs: int = Field(default=300, ge=10, description="newest runs kept per scenario by `prune`")
    compact_after: int | None = Field(
        default=None, ge=0, description="runs older than the newest N are compacted by `prune`"
    )


class HealingPolicy(Strict):
    mode: Literal["off", "commit", "pr"] = "off"
    headroom: float = Field(default=1.15, ge=1.0)
    allow_stage_removal: bool = False


class Policy(Strict):
    schema_version: Literal[1] = 1
    rules: list[MetricRule] = Field(default_factory=default_rules)
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    history: HistoryPolicy = Field(default_factory=HistoryPolicy)
    healing: HealingPolicy = Field(default_factory=HealingPolicy)
    k6_thresholds: Literal["gate", "advisory"] = Field(
        default="gate", description="thresholds k6 found crossed fail the gate (gate) or are only reported"
    )

    def rule_for(self, metric: str) -> MetricRule | None:
        return next((rule for rule in self.rules if rule.matches(metric)), None)
