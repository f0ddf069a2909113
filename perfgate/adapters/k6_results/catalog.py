"""What perfgate knows about k6's built-in metrics, and the reading options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from perfgate.models.run import MetricType

Contains = Literal["time", "data", "default"]

BUILTIN_METRICS: Mapping[str, tuple[MetricType, Contains]] = {
    "checks": ("rate", "default"),
    "data_received": ("counter", "data"),
    "data_sent": ("counter", "data"),
    "dropped_iterations": ("counter", "default"),
    "group_duration": ("trend", "time"),
    "http_req_blocked": ("trend", "time"),
    "http_req_connecting": ("trend", "time"),
    "http_req_duration": ("trend", "time"),
    "http_req_failed": ("rate", "default"),
    "http_req_receiving": ("trend", "time"),
    "http_req_sending": ("trend", "time"),
    "http_req_tls_handshaking": ("trend", "time"),
    "http_req_waiting": ("trend", "time"),
    "http_reqs": ("counter", "default"),
    "iteration_duration": ("trend", "time"),
    "iterations": ("counter", "default"),
    "vus": ("gauge", "default"),
    "vus_max": ("gauge", "default"),
}

# The per-phase breakdown of each request. Their raw values are not kept by default
# (they are two thirds of all points); count/avg/min/max are still computed exactly.
BREAKDOWN_TRENDS = frozenset(
    {
        "http_req_blocked",
        "http_req_connecting",
        "http_req_tls_handshaking",
        "http_req_sending",
        "http_req_waiting",
        "http_req_receiving",
    }
)

DEFAULT_TREND_STATS = ("avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count")


@dataclass(frozen=True)
class RawOptions:
    """How raw points (NDJSON, CSV) are summarised.

    keep_breakdown_values: also keep the raw values of `BREAKDOWN_TRENDS`, so they get
        med and percentiles too (costs 8 bytes per point for six extra metrics).
    trend_stats: the stats computed for trends whose values are kept.
    metric_types: types of custom metrics; CSV carries none, so a custom metric not named
        here is summarised like a trend and left with `type=None`.
    evaluate_thresholds (default on): fill `crossed` of the thresholds found in NDJSON `Metric` lines by
        evaluating `agg op number` against perfgate's own numbers (k6 writes no verdict there).
    max_names: at most this many distinct `name` tag values are split into sub-metrics.
    exact_points: a trend keeps at most this many values of one series (tag set) for exact
        percentiles; past it the series switches to an HDR histogram (`sketch`: med and p(N)
        within 0.1 %, count/avg/min/max still exact) and the run's notes say so.
    processes: how many processes read a plain NDJSON file (`ranges`); None: by the file's size
        (one per 16 MB) and the CPUs this process may use, at most 4; 1: this process alone.
    """

    keep_breakdown_values: bool = False
    trend_stats: tuple[str, ...] = DEFAULT_TREND_STATS
    metric_types: Mapping[str, MetricType] = field(default_factory=dict)
    evaluate_thresholds: bool = True
    max_names: int = 200
    processes: int | None = None
    exact_points: int = 10_000_000

    def __post_init__(self) -> None:
        if self.exact_points < 1:
            raise ValueError(f"exact_points must be at least 1, not {self.exact_points}")
        if self.processes is not None and self.processes < 1:
            raise ValueError(f"processes must be at least 1, not {self.processes}")
        unknown = [stat for stat in self.trend_stats if not _TREND_STAT.match(stat)]
        if unknown:
            raise ValueError(f"unknown trend stats {unknown}: use avg, min, med, max, count or p(N)")


_TREND_STAT = re.compile(r"^(avg|min|med|max|count|p\((100(\.0+)?|\d{1,2}(\.\d+)?)\))$")


def builtin_contains(name: str) -> Contains | None:
    entry = BUILTIN_METRICS.get(name)
    return entry[1] if entry else None


def as_contains(value: str | None) -> Contains | None:
    return cast(Contains, value) if value in ("time", "data", "default") else None
