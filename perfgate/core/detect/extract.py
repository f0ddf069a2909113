"""From `RunRecord`s to the arrays the detectors judge.

A *target* is one gated (metric, stat) pair: a metric key of the candidate matched by a policy
rule, and one of that rule's stats the candidate has. Values are put into a *judging space*
where the noise is roughly additive and larger is always worse:

- ms and per_s: natural log (latencies are multiplicative; a slow runner scales them),
- ratio and count: raw,

then multiplied by -1 when the rule says lower is worse.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from perfgate.core.detect.robust import FloatArray
from perfgate.models import MetricKey, MetricRule, MetricSeries, Policy, RunRecord

LOG_UNITS = frozenset({"ms", "per_s"})
LATENCY_METRIC = "http_req_duration"
LOG_EPSILON = 1e-3

# An endpoint's *typical* latency: the geometric mean of k6's mean (`avg`) and median (`med`).
# A shift of the whole distribution moves both; the pair is steadier from run to run than either
# alone and far steadier than p95 (bench/corpus: a +15 % one-endpoint fault reads z ≈ 3.6 on it
# against 3.9/2.9 on avg/med alone and 1.7 on p90, with clean runs no higher). Runs without `med`
# fall back to `avg`.
LOCATION_STAT = "typical"

# Noise floors in judging space: the smallest sigma we ever assume (a constant history has MAD 0).
SCALE_FLOOR = {"ms": 0.01, "per_s": 0.01, "ratio": 0.002, "count": 0.5, "score": 0.005}


@dataclass(frozen=True)
class Target:
    metric: str
    stat: str
    rule: MetricRule
    endpoint: str | None

    @property
    def sign(self) -> float:
        return 1.0 if self.rule.direction == "higher_is_worse" else -1.0

    @property
    def log_space(self) -> bool:
        return self.rule.unit in LOG_UNITS

    @property
    def is_endpoint_latency(self) -> bool:
        return self.rule.unit == "ms" and self.endpoint is not None and self.name == LATENCY_METRIC

    @property
    def name(self) -> str:
        return MetricKey.parse(self.metric).name

    @property
    def scale_floor(self) -> float:
        return SCALE_FLOOR[self.rule.unit]

    @property
    def label(self) -> str:
        return f"{self.metric} {self.stat}"


def gated_targets(
    candidate: RunRecord, policy: Policy, rule_for: Callable[[str], MetricRule | None] | None = None
) -> list[Target]:
    """Every (metric, stat) of the candidate that a policy rule gates, in a stable order. `rule_for`:
    `policy.rule_for`, memoized by a caller that asks for thousands of runs."""
    targets = []
    for metric in sorted(candidate.metrics):
        rule = (rule_for or policy.rule_for)(metric)
        if rule is None or candidate.alias_of(metric) or not gateable(candidate, metric, rule):
            continue
        endpoint = MetricKey.parse(metric).tag("name")
        for stat in rule.stats:
            if candidate.value(metric, stat) is not None:
                targets.append(Target(metric=metric, stat=stat, rule=rule, endpoint=endpoint))
    return targets


def has_samples(series: MetricSeries) -> bool:
    """False for a sub-metric k6 exported without a single sample (every stat 0, no trials)."""
    values = series.values
    if "count" in values and series.type != "counter":
        return values["count"] > 0
    if "passes" in values or "fails" in values:
        return values.get("passes", 0.0) + values.get("fails", 0.0) > 0
    return any(value != 0 for value in values.values())


def gateable(candidate: RunRecord, metric: str, rule: MetricRule) -> bool:
    """The rule applies to this run: the metric has samples, and no metric it stands in for exists."""
    if rule.unless_present is not None and any(
        fnmatch.fnmatchcase(key, rule.unless_present) and has_samples(series)
        for key, series in candidate.metrics.items()
    ):
        return False
    return has_samples(candidate.metrics[metric])


def raw_values(runs: Sequence[RunRecord], target: Target) -> FloatArray:
    """The target's value in each run, NaN where the run lacks it (one pass; histories run to thousands)."""
    metric, stat = target.metric, target.stat
    out = np.full(len(runs), np.nan)
    for i, run in enumerate(runs):
        series = run.metrics.get(metric)
        value = None if series is None else _stat(series.values, stat)
        if value is not None and math.isfinite(value):
            out[i] = value
    return out


@dataclass(frozen=True)
class HistoryColumns:
    """The comparable history as columns: per (metric key, stat), its value in each of the `size`
    runs, oldest first, NaN where a run lacks it. The detector reads runs beyond its newest windows
    only through `raw_values`, so a long history need not be built into `RunRecord`s."""

    size: int
    values: Mapping[tuple[str, str], FloatArray]

    def raw_values(self, target: Target) -> FloatArray:
        """`raw_values` over all `size` runs: the same floats, the same NaNs."""
        if target.stat != LOCATION_STAT:
            return _finite(self._column(target.metric, target.stat))
        mean, median = self._column(target.metric, "avg"), self._column(target.metric, "med")
        with np.errstate(invalid="ignore", over="ignore"):
            own_median = np.isfinite(median) & (median > 0)
            typical = np.where(own_median, np.sqrt(mean * median), mean)
        return _finite(np.where(np.isfinite(mean) & (mean > 0), typical, np.nan))

    def _column(self, metric: str, stat: str) -> FloatArray:
        column = self.values.get((metric, stat))
        return np.full(self.size, np.nan) if column is None else column


def _finite(values: FloatArray) -> FloatArray:
    return np.where(np.isfinite(values), values, np.nan)


def stat_value(run: RunRecord, metric: str, stat: str) -> float | None:
    """A stat of a run's metric; `LOCATION_STAT` is derived from `avg` and `med`."""
    series = run.metrics.get(metric)
    return None if series is None else _stat(series.values, stat)


def _stat(values: dict[str, float], stat: str) -> float | None:
    if stat != LOCATION_STAT:
        return values.get(stat)
    mean, median = values.get("avg"), values.get("med")
    if mean is None or not math.isfinite(mean) or mean <= 0:
        return None
    if median is None or not math.isfinite(median) or median <= 0:
        return mean
    return math.sqrt(mean * median)


def to_space(values: FloatArray, target: Target) -> FloatArray:
    """Raw values into the judging space (log for ms/per_s, oriented so larger = worse)."""
    if target.log_space:
        values = np.log(np.maximum(values, LOG_EPSILON))
    return target.sign * values


def from_space(value: float, target: Target) -> float:
    raw = target.sign * value
    return math.exp(raw) if target.log_space else raw


def bad_events(run: RunRecord, target: Target) -> tuple[int, int] | None:
    """(bad events, trials) of a rate metric: failures for error rates, failed checks for checks."""
    series = run.metrics.get(target.metric)
    if series is None or target.rule.unit != "ratio":
        return None
    trials = series.values.get("passes", 0.0) + series.values.get("fails", 0.0)
    rate = series.values.get(target.stat)
    if trials <= 0 or rate is None:
        return None
    bad_fraction = rate if target.rule.direction == "higher_is_worse" else 1.0 - rate
    return round(bad_fraction * trials), round(trials)


def _avg(run: RunRecord, metric: str) -> float | None:
    return run.value(metric, "avg")


PROBE_SIGNAL = "probe_ms"


def run_signals(run: RunRecord) -> dict[str, float]:
    """Load and runner-speed signals of one run (absent ones are left out)."""
    ctx = run.context
    signals: dict[str, float] = {}
    rps = ctx.http_reqs_per_s if ctx.http_reqs_per_s is not None else run.value("http_reqs", "rate")
    for name, value in (
        ("http_reqs_per_s", rps),
        ("vus_max", ctx.vus_max),
        ("iterations", ctx.iterations),
        ("http_req_blocked_ms", _avg(run, "http_req_blocked")),
        ("http_req_sending_ms", _avg(run, "http_req_sending")),
        ("http_req_receiving_ms", _avg(run, "http_req_receiving")),
        ("k6_overhead_ms", _k6_overhead_ms(run)),
        ("cpu_mean_percent", run.resources.cpu_mean_percent if run.resources else None),
    ):
        if value is not None and math.isfinite(value):
            signals[name] = float(value)
    if "cpu_mean_percent" in signals and signals.get("http_reqs_per_s", 0.0) > 0:
        signals["cpu_per_req"] = signals["cpu_mean_percent"] / signals["http_reqs_per_s"]
    probes = probe_times(run)
    if probes:  # the calibration probe's slower timing, before or after k6
        signals[PROBE_SIGNAL] = max(probes)
    return signals


def probe_times(run: RunRecord) -> list[float]:
    """The calibration probe's timings (ms) recorded just before and just after k6, those it has."""
    runner = run.runner
    return [p for p in (runner.probe_before_ms, runner.probe_after_ms) if p] if runner else []


def _k6_overhead_ms(run: RunRecord) -> float | None:
    """Per-iteration time not spent in HTTP requests: JS, sleeps and k6's own scheduling."""
    iteration = _avg(run, "iteration_duration")
    request = _avg(run, LATENCY_METRIC)
    reqs = run.context.http_reqs or run.value("http_reqs", "count")
    iterations = run.context.iterations or run.value("iterations", "count")
    if iteration is None or request is None or not reqs or not iterations:
        return None
    return max(iteration - request * reqs / iterations, 0.0)
