"""Streaming accumulators for raw k6 points, and k6's own percentile rule.

One accumulator per *signature* (the set of metric keys a point feeds, see `routing`), not per
key: a point is stored once, the keys are assembled from signatures at the end. Values arrive
through `sink(value)` (mostly `array.append`, C speed); `flush()` folds the buffer into running
partials once per block of lines, so memory stays flat. Kept trend values are never folded: exact
percentiles need every value (8 bytes each) — until their metric passes `RawOptions.exact_points`
and they switch to an HDR histogram (`to_sketch`; percentiles within `sketch.ERROR_BOUND`, count,
sum, min and max exact: kept values remember their blocks' ends, so the sums are the same).

A sum is the exactly rounded sum (`fsum`) of each block's values, added up block by block in
file order; each block's sum is kept (8 bytes a block), so accumulators of consecutive byte
ranges read apart (`absorb`) give the very same float as one reading of the whole file.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from perfgate.adapters.k6_results.sketch import Sketch
from perfgate.models.run import MetricType

Sink = Callable[[float], None]
FloatArray = npt.NDArray[np.float64]


def k6_percentile(sorted_values: Sequence[float] | FloatArray, p: float) -> float:
    """k6's `p(N)`: linear interpolation at rank `N/100·(n−1)` of the sorted values.

    Mirrors k6's TrendSink.P: `i = (p/100)·(n−1)`, `v[⌊i⌋] + (v[⌈i⌉] − v[⌊i⌋])·(i − ⌊i⌋)`,
    0 for no values. The arithmetic order is kept so results match k6 bit for bit.
    """
    n = len(sorted_values)
    if n == 0:
        return 0.0
    if n == 1:
        return float(sorted_values[0])
    rank = (p / 100.0) * (n - 1.0)
    low = math.floor(rank)
    below = float(sorted_values[low])
    above = float(sorted_values[math.ceil(rank)])
    return below + (above - below) * (rank - low)


class Accumulator:
    """The points of one signature of one metric."""

    def __init__(self, kind: MetricType | None, keep_values: bool) -> None:
        self.kind = kind
        self.keep_values = keep_values
        self.sketch: Sketch | None = None
        self.buffer = array("d")
        self.block_ends = array("q")  # kept values: where each block's values end in `buffer`
        self.count = 0
        self.block_sums = array("d")
        self.nonzero = 0
        self.low = math.inf
        self.high = -math.inf
        self.sink: Sink = self.buffer.append

    def __getstate__(self) -> dict[str, object]:
        """Picklable (a byte range read by another process): the sink is made anew."""
        return {key: value for key, value in self.__dict__.items() if key not in ("sink", "_order")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.sink = self.buffer.append

    @property
    def exact(self) -> bool:
        """Every value kept (percentiles by k6's rule over all of them)."""
        return self.keep_values and self.sketch is None

    def flush(self) -> None:
        buffer = self.buffer
        if not buffer:
            return
        if self.exact:
            if not self.block_ends or self.block_ends[-1] != len(buffer):
                self.block_ends.append(len(buffer))
            return
        self._fold(buffer)
        if self.sketch is not None:
            self.sketch.record(np.frombuffer(buffer, dtype=np.float64))
        del buffer[:]

    def _fold(self, block: array[float]) -> None:
        """One block's values into the running count, sum, passes, min and max."""
        self.count += len(block)
        self.block_sums.append(math.fsum(block))  # exactly rounded: order within a block does not matter
        if self.kind == "rate":
            self.nonzero += len(block) - block.count(0.0)
        elif self.kind != "counter":
            low, high = _extremes(block)
            self.low = min(self.low, low)
            self.high = max(self.high, high)

    def to_sketch(self) -> None:
        """Kept values → HDR histogram, block by block as if never kept."""
        if not self.exact:
            return
        start = 0
        for end in self.block_ends:
            self._fold(self.buffer[start:end])
            start = end
        self.sketch = Sketch()
        self.sketch.record(self.values())
        del self.buffer[:]
        self.block_ends = array("q")

    @property
    def total(self) -> float:
        """The blocks' sums added in file order."""
        total = 0.0
        for block in self.block_sums:
            total += block
        return total

    def values(self) -> FloatArray:
        return np.frombuffer(self.buffer, dtype=np.float64)

    def absorb(self, other: Accumulator) -> None:
        """Add the flushed points of `other`, read from the bytes right after this one's."""
        if self.exact and other.exact:
            offset = len(self.buffer)
            self.buffer.extend(other.buffer)
            self.block_ends.extend(offset + end for end in other.block_ends)
            return
        self.to_sketch()
        other.to_sketch()
        if self.sketch is not None and other.sketch is not None:
            self.sketch.add(other.sketch)
        self.buffer.extend(other.buffer)
        self.count += other.count
        self.block_sums.extend(other.block_sums)
        self.nonzero += other.nonzero
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)


class GaugeAccumulator(Accumulator):
    """Gauges keep last/min/max; `order` ranks the last value across signatures."""

    def __init__(self, order: itertools.count[int]) -> None:
        super().__init__("gauge", keep_values=False)
        self._order = order
        self.last = 0.0
        self.last_seen = -1
        self.sink = self.add

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._order = itertools.count()  # no more points come: `last_seen` is renumbered on merge
        self.sink = self.add

    def add(self, value: float) -> None:
        self.count += 1
        self.last = value
        self.last_seen = next(self._order)
        self.low = min(self.low, value)
        self.high = max(self.high, value)

    def flush(self) -> None:
        return None

    def absorb(self, other: Accumulator) -> None:
        """`other`'s points came later: its last value wins (`last_seen` renumbered by the caller)."""
        if isinstance(other, GaugeAccumulator) and other.count:
            self.last, self.last_seen = other.last, other.last_seen
        self.count += other.count
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)


def _extremes(block: array[float]) -> tuple[float, float]:
    """min and max of a block; numpy past a few values (no float object per value)."""
    if len(block) <= 64:
        return min(block), max(block)
    view = np.frombuffer(block, dtype=np.float64)
    return float(view.min()), float(view.max())


def summarize(
    kind: MetricType | None, parts: Sequence[Accumulator], trend_stats: Iterable[str]
) -> dict[str, float]:
    """Merge the accumulators of one key into k6-named stats (`MetricSeries.values`)."""
    if kind == "counter":
        return {"count": sum(part.total for part in parts)}
    if kind == "rate":
        total = sum(part.count for part in parts)
        passes = sum(part.nonzero for part in parts)
        return {
            "rate": passes / total if total else 0.0,
            "passes": float(passes),
            "fails": float(total - passes),
        }
    if kind == "gauge":
        gauges = [part for part in parts if isinstance(part, GaugeAccumulator) and part.count]
        if not gauges:
            return {}
        latest = max(gauges, key=lambda part: part.last_seen)
        return {
            "value": latest.last,
            "min": min(part.low for part in gauges),
            "max": max(part.high for part in gauges),
        }
    if parts and all(part.exact for part in parts):
        return trend_from_values(np.sort(np.concatenate([part.values() for part in parts])), trend_stats)
    if parts and all(part.keep_values for part in parts):
        return _trend_from_sketch(parts, trend_stats)
    return _trend_from_partials(parts)


def sketched(parts: Iterable[Accumulator]) -> bool:
    """Whether these parts' percentiles come from an HDR histogram."""
    return any(part.sketch is not None for part in parts)


def percentiles(parts: Sequence[Accumulator], wanted: list[float]) -> list[float] | None:
    """k6's `p(N)` over the kept values of `parts`, exact or from their histograms; None: no values."""
    kept = [part for part in parts if part.keep_values]
    if not any(part.count or len(part.buffer) for part in kept):
        return None
    if not sketched(kept):
        ordered = np.sort(np.concatenate([part.values() for part in kept]))
        return [k6_percentile(ordered, p) for p in wanted]
    return _merged_sketch(kept).percentiles(wanted)


def _merged_sketch(parts: Iterable[Accumulator]) -> Sketch:
    merged = Sketch()
    for part in parts:
        if part.sketch is not None:
            merged.add(part.sketch)
        merged.record(part.values())
    return merged


def trend_from_values(ordered: FloatArray, trend_stats: Iterable[str]) -> dict[str, float]:
    """Trend stats from sorted values: any of avg, min, med, max, count, p(N)."""
    count = len(ordered)
    if count == 0:
        return {"count": 0.0}
    out: dict[str, float] = {}
    for stat in trend_stats:
        if stat == "count":
            out[stat] = float(count)
        elif stat == "avg":
            out[stat] = float(np.sum(ordered)) / count
        elif stat == "min":
            out[stat] = float(ordered[0])
        elif stat == "max":
            out[stat] = float(ordered[-1])
        elif stat == "med":
            out[stat] = k6_percentile(ordered, 50.0)
        elif stat.startswith("p(") and stat.endswith(")"):
            out[stat] = k6_percentile(ordered, float(stat[2:-1]))
    return out


def _trend_from_sketch(parts: Sequence[Accumulator], trend_stats: Iterable[str]) -> dict[str, float]:
    """Count, avg, min and max exact (kept values folded block by block, as a sketch's were);
    med and p(N) from the merged histogram."""
    partial = _trend_from_partials([_folded(part) for part in parts])
    if not partial["count"]:
        return partial
    stats = [stat for stat in trend_stats if stat in partial or stat == "med" or stat.startswith("p(")]
    ranked = [stat for stat in stats if stat not in partial]
    ranks = [50.0 if stat == "med" else float(stat[2:-1]) for stat in ranked]
    found = dict(zip(ranked, _merged_sketch(parts).percentiles(ranks), strict=True))
    return {stat: found[stat] if stat in found else partial[stat] for stat in stats}


def _folded(part: Accumulator) -> Accumulator:
    if not part.exact:
        return part
    folded = Accumulator(part.kind, keep_values=False)
    start = 0
    for end in part.block_ends:
        folded._fold(part.buffer[start:end])
        start = end
    return folded


def _trend_from_partials(parts: Sequence[Accumulator]) -> dict[str, float]:
    count = sum(part.count for part in parts)
    if count == 0:
        return {"count": 0.0}
    return {
        "avg": sum(part.total for part in parts) / count,
        "min": min(part.low for part in parts),
        "max": max(part.high for part in parts),
        "count": float(count),
    }
