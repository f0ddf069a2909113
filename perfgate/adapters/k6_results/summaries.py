"""k6's three end-of-test summary files → the parts of a `RunRecord`.

Normalised on the way in (k6 writes these objects in random Go map order, so
thresholds are sorted by expression): Rate ratio under `rate` (the export calls it `value`),
threshold `crossed` (export `true` = crossed, handleSummary `ok: true` = passed), metric
keys with sorted tags (`MetricKey`), and counter `rate` per second everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from perfgate.adapters.k6_results.catalog import BUILTIN_METRICS, Contains, as_contains, builtin_contains
from perfgate.adapters.k6_results.shapes import (
    ExportGroup,
    ExportSummary,
    HandleSummary,
    MachineMetric,
    MachineSummary,
    SummaryGroup,
)
from perfgate.models.run import CheckResult, MetricKey, MetricSeries, MetricType, RunContext, ThresholdResult

SUPPORTED_MACHINE_MAJOR = "1"


@dataclass
class SummaryRun:
    metrics: dict[str, MetricSeries]
    checks: list[CheckResult] = field(default_factory=list)
    context: RunContext = field(default_factory=RunContext)


def normalise_key(text: str) -> str | None:
    """`http_req_duration{status:200,method:GET}` → tags sorted; None if not a selector."""
    try:
        return str(MetricKey.parse(text))
    except ValueError:
        return None


def from_export(shape: ExportSummary) -> SummaryRun:
    metrics: dict[str, MetricSeries] = {}
    for raw_key, flat in shape.metrics.items():
        key = normalise_key(raw_key)
        if key is None:
            continue
        values = {stat: float(v) for stat, v in flat.items() if not isinstance(v, dict)}
        verdicts = flat.get("thresholds")
        kind = _kind(key, values)
        if kind == "rate" and "value" in values:
            values["rate"] = values.pop("value")
        thresholds = [
            ThresholdResult(expression=expr, crossed=crossed, judged_by="k6")
            for expr, crossed in sorted(verdicts.items() if isinstance(verdicts, dict) else ())
        ]
        metrics[key] = MetricSeries(type=kind, contains=_contains(key), values=values, thresholds=thresholds)
    checks = list(_export_checks(shape.root_group)) if shape.root_group else []
    return SummaryRun(metrics, checks, _context(metrics, _duration_from_counters(metrics)))


def from_handle_summary(shape: HandleSummary) -> SummaryRun:
    metrics: dict[str, MetricSeries] = {}
    for raw_key, metric in shape.metrics.items():
        key = normalise_key(raw_key)
        if key is None:
            continue
        thresholds = [
            ThresholdResult(expression=expr, crossed=not verdict.ok, judged_by="k6")
            for expr, verdict in sorted(metric.thresholds.items())
        ]
        metrics[key] = MetricSeries(
            type=metric.type,
            contains=as_contains(metric.contains),
            values=dict(metric.values),
            thresholds=thresholds,
        )
    checks = list(_summary_checks(shape.root_group)) if shape.root_group else []
    run_ms = shape.state.testRunDurationMs if shape.state else None
    duration = run_ms / 1000.0 if run_ms is not None else _duration_from_counters(metrics)
    return SummaryRun(metrics, checks, _context(metrics, duration))


def machine_major(version: str) -> str:
    return version.strip().split(".", 1)[0]


def from_machine_summary(shape: MachineSummary) -> SummaryRun:
    duration = shape.config.duration if shape.config else None
    metrics: dict[str, MetricSeries] = {}
    extra = shape.results.checks.metrics if shape.results.checks else []
    for metric in [*shape.results.metrics, *extra]:
        key = normalise_key(metric.name)
        if key is not None:
            metrics[key] = _machine_series(metric, duration)
    succeeded = metrics.get("checks_succeeded")
    if "checks" not in metrics and succeeded is not None:
        metrics["checks"] = succeeded.model_copy(deep=True)
    checks = [
        CheckResult(name=check.name, passes=check.passes, fails=check.fails)
        for check in (shape.results.checks.results if shape.results.checks else [])
    ]
    context = _context(metrics, duration)
    if shape.metadata is not None:
        context = context.model_copy(update={"k6_version": shape.metadata.k6Version})
    return SummaryRun(metrics, checks, context)


def _machine_series(metric: MachineMetric, duration: float | None) -> MetricSeries:
    values = dict(metric.values)
    if metric.type == "rate":
        matches = values.pop("matches", 0.0)
        total = values.pop("total", matches)
        values.update({"passes": matches, "fails": total - matches})
        values.setdefault("rate", matches / total if total else 0.0)
    elif metric.type == "counter" and "rate" not in values and duration:
        values["rate"] = values.get("count", 0.0) / duration
    return MetricSeries(type=metric.type, contains=as_contains(metric.contains), values=values)


def _kind(key: str, values: Mapping[str, float]) -> MetricType | None:
    builtin = BUILTIN_METRICS.get(MetricKey.parse(key).name)
    if builtin is not None:
        return builtin[0]
    stats = set(values)
    if stats & {"passes", "fails"}:
        return "rate"
    if stats == {"count", "rate"}:
        return "counter"
    if "value" in stats and stats <= {"value", "min", "max"}:
        return "gauge"
    return "trend" if stats else None


def _contains(key: str) -> Contains | None:
    return builtin_contains(MetricKey.parse(key).name)


def _export_checks(group: ExportGroup) -> Iterator[CheckResult]:
    for check in group.checks.values():
        yield CheckResult(name=check.name, path=check.path, passes=check.passes, fails=check.fails)
    for child in group.groups.values():
        yield from _export_checks(child)


def _summary_checks(group: SummaryGroup) -> Iterator[CheckResult]:
    for check in group.checks:
        yield CheckResult(name=check.name, path=check.path, passes=check.passes, fails=check.fails)
    for child in group.groups:
        yield from _summary_checks(child)


def _duration_from_counters(metrics: Mapping[str, MetricSeries]) -> float | None:
    """k6 computes a counter's rate as count / test duration, so count / rate gives it back."""
    for key in ("http_reqs", "iterations", "data_sent"):
        series = metrics.get(key)
        if series is not None:
            count, rate = series.values.get("count"), series.values.get("rate")
            if count and rate:
                return count / rate
    return None


def _context(metrics: Mapping[str, MetricSeries], duration: float | None) -> RunContext:
    def stat(key: str, *names: str) -> float | None:
        series = metrics.get(key)
        for name in names:
            if series is not None and name in series.values:
                return series.values[name]
        return None

    vus_max = stat("vus_max", "max", "value")
    iterations = stat("iterations", "count")
    http_reqs = stat("http_reqs", "count")
    return RunContext(
        duration_s=duration,
        vus_max=round(vus_max) if vus_max is not None else None,
        iterations=round(iterations) if iterations is not None else None,
        dropped_iterations=round(stat("dropped_iterations", "count") or 0),
        http_reqs=round(http_reqs) if http_reqs is not None else None,
        http_reqs_per_s=stat("http_reqs", "rate"),
    )
