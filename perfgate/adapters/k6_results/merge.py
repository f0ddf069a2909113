"""Raw points of several k6 processes (execution segments, k6-operator runners) read as one run.

Every part streams into one `Aggregator`, so the merge is exact by construction:
- counters are summed and rates combined by their counts (the accumulators add up);
- trends keep every value, so `p(N)` and `med` are k6's rule over the union of all points
  (never an average of per-part percentiles, which k6-facts §8 shows is wrong both ways); past
  `RawOptions.exact_points` points of a metric, its HDR histograms are added up instead (`sketch`);
- checks, per-endpoint (`name`) and per-stage cells are unions too;
- gauges are combined *by time*: `vus` and `vus_max` of the whole test are the sum of the parts'
  last values in each second (parts run side by side), other gauges keep the latest value by
  timestamp and the overall min and max.
The run's duration spans the earliest start to the latest point, so counter rates are the
whole test's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfgate.adapters.k6_results.aggregate import Aggregator, RawRun
from perfgate.adapters.k6_results.catalog import RawOptions
from perfgate.adapters.k6_results.csv_points import CsvReader
from perfgate.adapters.k6_results.ndjson import NdjsonReader
from perfgate.adapters.k6_results.sources import RawFormat, open_stream, sniff
from perfgate.adapters.k6_results.stats import Sink
from perfgate.errors import InputDataError
from perfgate.models.run import MetricSeries

SUMMED_GAUGES = frozenset({"vus", "vus_max"})
PART_COUNTERS = ("http_reqs", "iterations")
_PER_PART = SUMMED_GAUGES | set(PART_COUNTERS)


@dataclass
class _Timeline:
    """Per part, the last value of a gauge in each whole second."""

    by_part: list[dict[int, float]] = field(default_factory=list)

    def sink(self, aggregator: Aggregator, part: int) -> Sink:
        while len(self.by_part) <= part:
            self.by_part.append({})
        seconds = self.by_part[part]

        def record(value: float) -> None:
            seconds[math.floor(aggregator.now)] = value

        return record

    def summed(self) -> dict[str, float] | None:
        """Sum over parts, each carrying its latest value forward while it is still reporting."""
        seconds = sorted({second for part in self.by_part for second in part})
        if not seconds:
            return None
        totals = dict.fromkeys(seconds, 0.0)
        for part in self.by_part:
            if not part:
                continue
            own = sorted(part.items())
            index, last = 0, own[0][1]
            for second in seconds:
                if second < own[0][0] or second > own[-1][0]:
                    continue
                while index < len(own) and own[index][0] <= second:
                    last = own[index][1]
                    index += 1
                totals[second] += last
        ordered = list(totals.values())
        return {"value": ordered[-1], "min": min(ordered), "max": max(ordered)}


class MergingAggregator(Aggregator):
    """An `Aggregator` fed by several parts in turn (`begin_part`): sums `vus`/`vus_max` by time
    and counts each part's requests and iterations (so the report can show the sum)."""

    def __init__(self, options: RawOptions) -> None:
        super().__init__(options)
        self.part = -1
        self.part_counts: list[dict[str, float]] = []
        self._timelines: dict[str, _Timeline] = defaultdict(_Timeline)
        self._per_part: dict[tuple[str, tuple[str | None, ...]], Sink] = {}

    def begin_part(self, index: int) -> None:
        self.part = index
        self.part_counts.append(dict.fromkeys(PART_COUNTERS, 0.0))
        self._per_part = {}

    def sink(self, metric: str, tags: Mapping[str, str]) -> Sink:
        inner = super().sink(metric, tags)
        if metric not in _PER_PART:
            return inner
        key = self._cache_key(metric, tags)
        found = self._per_part.get(key)
        if found is not None:
            return found
        if metric in SUMMED_GAUGES:
            extra = self._timelines[metric].sink(self, self.part)
        else:
            extra = self._counter(self.part_counts[self.part], metric)

        def both(value: float) -> None:
            inner(value)
            extra(value)

        self._per_part[key] = both
        return both

    @staticmethod
    def _counter(counts: dict[str, float], metric: str) -> Sink:
        def add(value: float) -> None:
            counts[metric] += value

        return add

    def finish(self) -> RawRun:
        run = super().finish()
        metrics = dict(run.metrics)
        for metric, timeline in self._timelines.items():
            summed = timeline.summed()
            if summed is not None and metric in metrics:
                metrics[metric] = metrics[metric].model_copy(update={"values": summed})
        context = run.context.model_copy(update=_vus_context(metrics))
        return RawRun(metrics=metrics, checks=run.checks, stages=run.stages, context=context, notes=run.notes)


def _vus_context(metrics: Mapping[str, MetricSeries]) -> dict[str, int]:
    series = metrics.get("vus_max") or metrics.get("vus")
    peak = series.values.get("max") if series is not None else None
    return {"vus_max": round(peak)} if peak is not None else {}


@dataclass(frozen=True)
class MergedRaw:
    run: RawRun
    part_counts: list[dict[str, float]]


def read_parts(
    paths: Sequence[Path], options: RawOptions, *, submetrics: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> MergedRaw:
    """The union of the raw points in `paths` (NDJSON or CSV, plain or gzip) as one run.

    `submetrics` (metric → selector → tags) are split out as k6 would for a threshold on them,
    whether or not the NDJSON declares them (k6 v1.1.0 does not write sub-metric thresholds).
    """
    aggregator = MergingAggregator(options)
    for metric, declared in submetrics.items():
        aggregator.router.declare(metric, declared)
    for index, path in enumerate(paths):
        kind = sniff(path)
        if kind is RawFormat.DOCUMENT:
            raise InputDataError(
                path, "a summary, not raw points: merging needs each part's --out json (NDJSON) or CSV"
            )
        aggregator.begin_part(index)
        reader = NdjsonReader(path, aggregator) if kind is RawFormat.NDJSON else CsvReader(path, aggregator)
        with open_stream(path) as stream:
            reader.read(stream)
    if not aggregator.has_points:
        raise InputDataError(paths[0], "no data points in any part")
    return MergedRaw(aggregator.finish(), aggregator.part_counts)
