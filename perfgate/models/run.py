"""The one model every k6 result format is read into: `RunRecord`.

Units: times in milliseconds, rates as fractions 0-1, counter `rate` per second.
Metrics are keyed by k6's own selector text, normalised (`MetricKey`):
`http_req_duration{name:create_note}` with tags sorted by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from perfgate.models.base import SAFE_NAME_PATTERN, Strict

MetricType = Literal["trend", "rate", "counter", "gauge"]
SourceFormat = Literal["summary-export", "handle-summary", "machine-summary", "ndjson", "csv"]

_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{12,}|(?=[^/]*\d)[A-Za-z0-9_-]{16,})$"
)


def templated_path(url: str) -> str:
    """A request URL as the endpoint name perfgate gives an untagged request: its path with ids
    templated (`http://host/notes/4711?x=1` → `/notes/{id}`: numbers, UUIDs and long hex or
    mixed-digit tokens become `{id}`; the query is left out)."""
    path = urlsplit(url).path or "/"
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


def _is_url(name: str) -> bool:
    return name.startswith(("http://", "https://"))


_KEY_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?:\{(?P<tags>.*)\})?$")


@dataclass(frozen=True, order=True)
class MetricKey:
    """A metric name plus the tag selector of a sub-metric, e.g. `http_req_duration{name:list}`."""

    name: str
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> MetricKey:
        """The key of `text` (parses kept: a long history repeats a few dozen keys thousands of times)."""
        return _parse_key(text)

    def tag(self, name: str) -> str | None:
        return dict(self.tags).get(name)

    def __str__(self) -> str:
        if not self.tags:
            return self.name
        return self.name + "{" + ",".join(f"{k}:{v}" for k, v in self.tags) + "}"


@lru_cache(maxsize=4096)
def _parse_key(text: str) -> MetricKey:
    match = _KEY_RE.match(text.strip())
    if match is None:
        raise ValueError(f"not a k6 metric selector: {text!r}")
    tags: list[tuple[str, str]] = []
    raw = match.group("tags")
    if raw:
        for part in raw.split(","):
            tag, sep, value = part.partition(":")
            if not sep or not tag.strip():
                raise ValueError(f"bad tag selector {part!r} in {text!r}")
            tags.append((tag.strip(), value.strip()))
    return MetricKey(match.group("name"), tuple(sorted(tags)))


class ThresholdResult(Strict):
    """One threshold expression and whether k6 judged it crossed (None: not known)."""

    expression: str
    crossed: bool | None = None
    judged_by: Literal["k6", "perfgate"] | None = Field(
        default=None, description="who decided `crossed`: k6 (summary files) or perfgate (from raw points)"
    )


class MetricSeries(Strict):
    """The aggregated values of one metric or sub-metric, keyed by k6 stat name.

    trend: avg, min, med, max, p(N), count (ms when `contains == "time"`)
    rate: rate (0-1), passes, fails   counter: count, rate (/s)   gauge: value, min, max
    """

    type: MetricType | None = None
    contains: Literal["time", "data", "default"] | None = None
    values: dict[str, float] = Field(default_factory=dict)
    thresholds: list[ThresholdResult] = Field(default_factory=list)


class CheckResult(Strict):
    name: str
    path: str = ""
    passes: int = Field(ge=0)
    fails: int = Field(ge=0)

    @property
    def pass_rate(self) -> float:
        total = self.passes + self.fails
        return self.passes / total if total else 1.0


class StageStats(Strict):
    """Per-stage numbers computed from raw points tagged `stage` by the script."""

    scenario: str
    stage: int
    requests: int = Field(ge=0)
    failed: int = Field(ge=0)
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float = Field(ge=0, le=1)


class ResourceSample(Strict):
    t_s: float = Field(ge=0, description="seconds since sampling started")
    cpu_percent: float = Field(ge=0, description="100 = one full core")
    rss_mb: float = Field(ge=0)


class ResourceUsage(Strict):
    """Resource utilisation of the target during the run."""

    source: str = Field(description="what was sampled: 'pid 1234 (+children)' or 'container NAME'")
    interval_s: float = Field(gt=0)
    samples: list[ResourceSample] = Field(default_factory=list)
    cpu_peak_percent: float | None = None
    cpu_mean_percent: float | None = None
    rss_peak_mb: float | None = None
    rss_mean_mb: float | None = None


class RunnerEvidence(Strict):
    """How busy the machine running k6 was: sampled during the run, plus a fixed calibration
    probe timed just before and just after k6. Evidence for "environment or code?" only: never
    used to rescale results."""

    cpus: int = Field(ge=1, description="logical CPUs of the runner")
    interval_s: float = Field(gt=0)
    samples: int = Field(default=0, ge=0)
    busy_percent_mean: float | None = Field(default=None, ge=0, description="whole machine, 100 = one core")
    steal_percent_mean: float | None = Field(default=None, ge=0, description="CPU stolen by the hypervisor")
    k6_cpu_percent_mean: float | None = Field(default=None, ge=0, description="k6's own CPU, 100 = one core")
    load1_max: float | None = Field(default=None, ge=0, description="1-minute load average, peak")
    probe_before_ms: float | None = Field(
        default=None, gt=0, description="fixed CPU probe before k6 (median)"
    )
    probe_after_ms: float | None = Field(default=None, gt=0, description="the same probe after k6")


class Stage(Strict):
    duration: str
    target: float


class LoadFingerprint(Strict):
    """Identity of a load model: runs compare only with runs of the same fingerprint.

    The load model is k6's consolidated execution options (scenarios, executors, stages, VUs,
    rates, durations, iterations). Thresholds and the script's text are not part of it: healing a
    threshold, or any edit that leaves the options alone, keeps the history comparable. `script`
    is kept as a note of which script text ran; `digest()` leaves it out.
    """

    executor: str
    stages: list[Stage] = Field(default_factory=list)
    vus: int | None = None
    rate: float | None = None
    time_unit: str | None = None
    duration: str | None = None
    iterations: int | None = None
    script: str | None = Field(
        default=None, description="sha256 of the script's text, 16 hex digits (a note; not in the digest)"
    )
    extra: str | None = Field(
        default=None,
        description="digest of load-model settings without a field here (other scenarios, startTime)",
    )

    def digest(self) -> str:
        import hashlib

        return hashlib.sha256(self.model_dump_json(exclude={"script"}).encode()).hexdigest()[:16]


class RunContext(Strict):
    duration_s: float | None = Field(default=None, ge=0)
    vus_max: int | None = Field(default=None, ge=0)
    iterations: int | None = Field(default=None, ge=0)
    dropped_iterations: int = Field(default=0, ge=0)
    http_reqs: int | None = Field(default=None, ge=0)
    http_reqs_per_s: float | None = Field(default=None, ge=0)
    k6_version: str | None = None
    started_at: datetime | None = None
    k6_exit_code: int | None = None
    profile: str | None = None


class RunRecord(Strict):
    """One k6 run, whatever file it was read from."""

    schema_version: Literal[1] = 1
    source_format: SourceFormat
    source: str = Field(description="file name the run was read from")
    metrics: dict[str, MetricSeries] = Field(default_factory=dict)
    checks: list[CheckResult] = Field(default_factory=list)
    context: RunContext = Field(default_factory=RunContext)
    fingerprint: LoadFingerprint | None = None
    stages: list[StageStats] = Field(default_factory=list)
    resources: ResourceUsage | None = None
    runner: RunnerEvidence | None = None
    notes: list[str] = Field(
        default_factory=list, description="what reading the raw points summed up or left out, in words"
    )

    def value(self, key: str | MetricKey, stat: str) -> float | None:
        series = self.metrics.get(str(key))
        if series is None:
            return None
        return series.values.get(stat)

    def endpoints(self) -> list[str]:
        """Names of `http_req_duration{name:X}` sub-metrics, sorted.

        A threshold on an untagged request names it by its full URL
        (`http_req_duration{name:http://host/post}`); raw points already give that request the
        templated name `/post`, so the URL-named sub-metric is the same endpoint again and is not
        counted twice (its thresholds are still healed and judged by k6)."""
        names = set()
        for text in self.metrics:
            key = MetricKey.parse(text)
            named = key.name == "http_req_duration" and dict(key.tags).keys() == {"name"}
            if named and self.alias_of(text) is None:
                names.add(dict(key.tags)["name"])
        return sorted(names)

    def alias_of(self, metric: str) -> str | None:
        """The key a URL-named sub-metric repeats: `m{name:http://host/post}` when this run also
        has `m{name:/post}` (raw points give an untagged request its templated name, and a
        threshold on the full URL selects the same requests again). None for any other key."""
        key = MetricKey.parse(metric)
        if not key.tags or dict(key.tags).keys() != {"name"}:
            return None
        name = dict(key.tags)["name"]
        if not _is_url(name):
            return None
        templated = str(MetricKey(key.name, (("name", templated_path(name)),)))
        return templated if templated in self.metrics else None


class RunMeta(Strict):
    """What the runner knows about a run beyond k6's own files: written as `run-meta.json`.

    A run directory holds `summary.json` (--summary-export), `raw.ndjson.gz` (--out json),
    `k6-config.json` (the profile as passed with --config), `k6.log` (stderr) and this file.
    """

    schema_version: Literal[1] = 1
    profile: str | None = Field(default=None, description="profile file name, e.g. smoke.yaml")
    scenario: str | None = Field(
        default=None, pattern=SAFE_NAME_PATTERN, description="history key, e.g. notes-smoke"
    )
    fingerprint: LoadFingerprint | None = None
    k6_version: str | None = None
    k6_exit_code: int
    started_at: datetime
    wall_s: float = Field(ge=0)
    base_url: str | None = None
    resources: ResourceUsage | None = None
    runner: RunnerEvidence | None = None
    execution_segment: str | None = Field(
        default=None, description="k6 --execution-segment of a part of a split test (perfgate run --segments)"
    )
    execution_segment_sequence: str | None = None
    k6_log_tail: list[str] = Field(
        default_factory=list,
        description="the last lines of k6's stderr when it did not complete (k6's own text, kept as data)",
    )
    exact_points: int | None = Field(
        default=None,
        ge=1,
        description="the raw points were summarised keeping at most this many exact points per series "
        "(perfgate merge --exact-points): re-reading them uses the same limit; None: the default",
    )
