"""Raw points kept as time series, for windowed analyses such as the capacity study.

`PointSeries` is a `PointConsumer` that keeps, for a few chosen metrics, every point's time
(epoch seconds) and value in flat `array('d')`s, 16 bytes a point; setup and teardown points
(k6's `group` tag `::setup`/`::teardown`) are left out.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perfgate.adapters.k6_results.csv_points import CsvReader
from perfgate.adapters.k6_results.ndjson import NdjsonReader
from perfgate.adapters.k6_results.sources import RawFormat, open_stream, sniff
from perfgate.adapters.k6_results.stats import FloatArray, Sink
from perfgate.adapters.k6_results.timestamps import EpochParser
from perfgate.errors import InputDataError
from perfgate.models.run import MetricType

_SKIPPED_GROUPS = frozenset({"::setup", "::teardown"})


@dataclass
class Series:
    times: array[float] = field(default_factory=lambda: array("d"))
    values: array[float] = field(default_factory=lambda: array("d"))

    def as_arrays(self) -> tuple[FloatArray, FloatArray]:
        return np.frombuffer(self.times, dtype=np.float64), np.frombuffer(self.values, dtype=np.float64)


def _ignore(_value: float) -> None:
    return None


class PointSeries:
    """A `PointConsumer` keeping (time, value) of every point of `metrics`."""

    def __init__(self, metrics: Iterable[str]) -> None:
        self.series = {metric: Series() for metric in metrics}
        self._epoch = EpochParser()
        self.now = math.nan
        self.first = math.inf

    def declare(
        self,
        metric: str,
        kind: MetricType,
        contains: str | None,
        thresholds: Sequence[str],
        submetrics: Mapping[str, Mapping[str, str]],
    ) -> None:
        return None

    def note_time(self, text: bytes) -> None:
        self.now = self._epoch(text)
        self.first = min(self.first, self.now)

    def sink(self, metric: str, tags: Mapping[str, str]) -> Sink:
        series = self.series.get(metric)
        if series is None or tags.get("group") in _SKIPPED_GROUPS:
            return _ignore
        times, values = series.times, series.values

        def keep(value: float) -> None:
            times.append(self.now)
            values.append(value)

        return keep

    def flush(self) -> None:
        return None

    def needs_time(self, metric: str) -> bool:
        return metric in self.series

    def reads_url_tags(self) -> bool:
        return False


def read_point_series(path: Path, metrics: Iterable[str]) -> PointSeries:
    """Every point of `metrics` in a raw NDJSON or CSV file (plain or gzip)."""
    kind = sniff(path)
    if kind is RawFormat.DOCUMENT:
        raise InputDataError(path, "a summary has no points over time: give raw output (--out json or csv)")
    collected = PointSeries(metrics)
    reader = NdjsonReader(path, collected) if kind is RawFormat.NDJSON else CsvReader(path, collected)
    with open_stream(path) as stream:
        reader.read(stream)
    return collected
