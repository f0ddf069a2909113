"""Raw points (NDJSON or CSV) → metrics, checks, per-stage stats and run context.

Readers call `sink(metric, tags)` once per distinct (metric, tags) and cache the returned
callable; the hot loop then only calls `sink(value)`. `note_time(text)` is given the times that
can be the run's first or last (the NDJSON reader: a block's earliest and latest) and, right
before their value, each point of a metric that `needs_time`; `flush()` is called once per block.

Run duration: k6 writes no start record. `vus`/`vus_max` points come once per second from
1 s after the start, so the start is taken as the earlier of the first point and the first
`vus_max` point minus 1 s; the end is the last point. Counter `rate` is count / duration,
as k6 computes it (k6 divides by its own test duration, a few ms longer).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from perfgate.adapters.k6_results.catalog import (
    BREAKDOWN_TRENDS,
    BUILTIN_METRICS,
    Contains,
    RawOptions,
    as_contains,
)
from perfgate.adapters.k6_results.cells import check_result, sketch_notes, stage_stats
from perfgate.adapters.k6_results.routing import OTHER_NAME, CheckCell, Router, Signature, StageCell
from perfgate.adapters.k6_results.stats import Accumulator, GaugeAccumulator, Sink, summarize
from perfgate.adapters.k6_results.thresholds import is_crossed, percentile_stat
from perfgate.adapters.k6_results.timestamps import EpochParser, epoch_to_datetime
from perfgate.models.run import (
    CheckResult,
    MetricSeries,
    MetricType,
    RunContext,
    StageStats,
    ThresholdResult,
)


@dataclass
class MetricMeta:
    kind: MetricType | None
    contains: Contains | None
    thresholds: list[str] = field(default_factory=list)


@dataclass
class RawRun:
    metrics: dict[str, MetricSeries]
    checks: list[CheckResult]
    stages: list[StageStats]
    context: RunContext
    notes: list[str] = field(default_factory=list)


class Aggregator:
    def __init__(self, options: RawOptions) -> None:
        self.options = options
        self.router = Router(max_names=options.max_names)
        self._meta: dict[str, MetricMeta] = {}
        self._parts: dict[tuple[str, Signature], Accumulator] = {}
        self._sinks: dict[tuple[str, tuple[str | None, ...]], Sink] = {}
        self._order = itertools.count()
        self._epoch = EpochParser()
        self.now = math.nan
        self.first = math.inf
        self.last = -math.inf
        self._first_vus_max: float | None = None

    def declare(
        self,
        metric: str,
        kind: MetricType,
        contains: str | None,
        thresholds: Sequence[str],
        submetrics: Mapping[str, Mapping[str, str]],
    ) -> None:
        """What an NDJSON `Metric` line says; applies to the metric's later points."""
        known = self._meta.get(metric)
        self._meta[metric] = MetricMeta(
            known.kind if known else kind, as_contains(contains), list(thresholds)
        )
        self.router.declare(metric, submetrics)
        self._sinks = {key: sink for key, sink in self._sinks.items() if key[0] != metric}

    def note_time(self, text: bytes) -> None:
        now = self._epoch(text)
        self.now = now
        if now < self.first:
            self.first = now
        if now > self.last:
            self.last = now

    def sink(self, metric: str, tags: Mapping[str, str]) -> Sink:
        cache_key = self._cache_key(metric, tags)
        found = self._sinks.get(cache_key)
        if found is not None:
            return found
        if len(self._sinks) > 50_000:
            self._sinks.clear()
        signature = self.router.signature(metric, tags)
        part = self._parts.get((metric, signature))
        if part is None:
            part = self._new_part(metric)
            self._parts[(metric, signature)] = part
        sink = self._vus_max_sink(part.sink) if metric == "vus_max" else part.sink
        self._sinks[cache_key] = sink
        return sink

    def _cache_key(self, metric: str, tags: Mapping[str, str]) -> tuple[str, tuple[str | None, ...]]:
        return (metric, self.router.projection(metric, tags))

    def needs_time(self, metric: str) -> bool:
        """Gauge points need their own time (last value, `vus_max` start): never batched."""
        return self._meta_for(metric).kind == "gauge"

    def reads_url_tags(self) -> bool:
        return self.router.url_tags_declared

    def flush(self) -> None:
        """Fold the block's points; a metric past `exact_points` kept points switches every one of its
        accumulators to an HDR histogram (so does a later one: the switch depends on the total only)."""
        kept: dict[str, int] = defaultdict(int)
        for (metric, _), part in self._parts.items():
            part.flush()
            if part.keep_values:
                kept[metric] += part.count + len(part.buffer)
        over = {metric for metric, points in kept.items() if points > self.options.exact_points}
        for (metric, _), part in self._parts.items() if over else ():
            if metric in over:
                part.to_sketch()

    @property
    def has_points(self) -> bool:
        return any(part.count or len(part.buffer) for part in self._parts.values())

    def finish(self) -> RawRun:
        self.flush()
        keys, stage_parts, check_parts = self._assemble()
        duration = self._duration()
        metrics = {key: self._series(metric, key, parts, duration) for key, (metric, parts) in keys.items()}
        return RawRun(
            metrics=dict(sorted(metrics.items())),
            checks=[check_result(cell, parts) for cell, parts in check_parts.items()],
            stages=[stage_stats(cell, parts) for cell, parts in sorted(stage_parts.items())],
            context=self._context(metrics, duration),
            notes=[*self._notes(metrics), *sketch_notes(keys, stage_parts, self.options.exact_points)],
        )

    def _notes(self, metrics: Mapping[str, MetricSeries]) -> list[str]:
        folded = metrics.get(f"http_reqs{{name:{OTHER_NAME}}}")
        if folded is None:
            return []
        return [
            f"more than {self.router.max_names} endpoint names: the requests of later names "
            f"({folded.values.get('count', 0):.0f}) are summed up under name {OTHER_NAME}"
        ]

    def _meta_for(self, metric: str) -> MetricMeta:
        meta = self._meta.get(metric)
        if meta is None:
            kind = self.options.metric_types.get(metric)
            builtin = BUILTIN_METRICS.get(metric)
            meta = MetricMeta(kind or (builtin[0] if builtin else None), builtin[1] if builtin else None)
            self._meta[metric] = meta
        return meta

    def _new_part(self, metric: str) -> Accumulator:
        kind = self._meta_for(metric).kind
        if kind == "gauge":
            return GaugeAccumulator(self._order)
        keep = kind in ("trend", None) and (
            metric not in BREAKDOWN_TRENDS or self.options.keep_breakdown_values
        )
        return Accumulator(kind, keep_values=keep)

    def _vus_max_sink(self, sink: Sink) -> Sink:
        def record(value: float) -> None:
            if self._first_vus_max is None:
                self._first_vus_max = self.now
            sink(value)

        return record

    def _assemble(
        self,
    ) -> tuple[
        dict[str, tuple[str, list[Accumulator]]],
        dict[StageCell, dict[str, list[Accumulator]]],
        dict[CheckCell, list[Accumulator]],
    ]:
        keys: dict[str, tuple[str, list[Accumulator]]] = {}
        stages: dict[StageCell, dict[str, list[Accumulator]]] = defaultdict(lambda: defaultdict(list))
        checks: dict[CheckCell, list[Accumulator]] = defaultdict(list)
        for metric, entries in self.router.declared.items():
            for key, _ in entries:
                keys[key] = (metric, [])
        for (metric, signature), part in self._parts.items():
            for target in signature:
                if isinstance(target, str):
                    keys.setdefault(target, (metric, []))[1].append(part)
                elif isinstance(target, StageCell):
                    stages[target][metric].append(part)
                else:
                    checks[target].append(part)
        return keys, stages, checks

    def _duration(self) -> float:
        if not math.isfinite(self.first):
            return 0.0
        return self.last - self._start()

    def _start(self) -> float:
        if self._first_vus_max is None:
            return self.first
        return min(self.first, self._first_vus_max - 1.0)

    def _series(self, metric: str, key: str, parts: Sequence[Accumulator], duration: float) -> MetricSeries:
        meta = self._meta_for(metric)
        own = meta.thresholds if key == metric else []
        stats = _with_percentiles(self.options.trend_stats, own)
        values = summarize(meta.kind, parts, stats)
        if meta.kind == "counter" and duration > 0:
            values["rate"] = values["count"] / duration
        evaluate = self.options.evaluate_thresholds
        thresholds = [
            ThresholdResult(expression=e, crossed=crossed, judged_by=None if crossed is None else "perfgate")
            for e in own
            for crossed in [is_crossed(e, values) if evaluate else None]
        ]
        return MetricSeries(type=meta.kind, contains=meta.contains, values=values, thresholds=thresholds)

    def _context(self, metrics: Mapping[str, MetricSeries], duration: float) -> RunContext:
        def stat(key: str, name: str) -> float | None:
            series = metrics.get(key)
            return series.values.get(name) if series is not None else None

        vus_max = stat("vus_max", "max") or stat("vus", "max")
        http_reqs = stat("http_reqs", "count")
        iterations = stat("iterations", "count")
        return RunContext(
            duration_s=duration if math.isfinite(self.first) else None,
            vus_max=round(vus_max) if vus_max is not None else None,
            iterations=round(iterations) if iterations is not None else None,
            dropped_iterations=round(stat("dropped_iterations", "count") or 0),
            http_reqs=round(http_reqs) if http_reqs is not None else None,
            http_reqs_per_s=stat("http_reqs", "rate"),
            started_at=epoch_to_datetime(self._start()) if math.isfinite(self.first) else None,
        )


def _with_percentiles(trend_stats: Iterable[str], thresholds: Iterable[str]) -> list[str]:
    stats = list(trend_stats)
    for expression in thresholds:
        wanted = percentile_stat(expression)
        if wanted is not None and wanted not in stats:
            stats.append(wanted)
    return stats
