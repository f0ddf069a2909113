"""A trend's values as an HDR histogram, where keeping every value would not fit in memory.

Exact percentiles need every value (8 bytes a point). Past `RawOptions.exact_points` points a
trend accumulator records its values into an HDR histogram (`hdrhistogram` on PyPI, chosen by
`bench/sketch.py` over DDSketch: 10× smaller error at the same cost):
- values are recorded in millionths of their unit (ns for ms), 3 significant digits: a value's
  bucket spans at most 1/1024 of it, from 0 to 2^62 millionths (larger values count as that),
  432 KB a histogram however many points; negative values go to a second histogram of their
  magnitudes; values are added to the counts with numpy, not one `record_value` call each;
- `percentile` applies k6's rule (linear interpolation at rank `p/100·(n−1)`) to the order
  statistics, each taken as the middle of its bucket: within half a bucket, ≤ 0.05 % of the value
  (plus the rounding to a millionth; relative to the larger of the two statistics interpolated):
  `ERROR_BOUND` (0.1 %) is what perfgate states;
- histograms merge by adding counts, so the result depends only on the values, never on where
  the switch happened or in which order parts or byte ranges are merged.
The library is imported when the first histogram is made, not before.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram

FloatArray = npt.NDArray[np.float64]

SIGNIFICANT_DIGITS = 3
SCALE = 1_000_000
HIGHEST = 2**62
ERROR_BOUND = 0.001


def sketch_note(metric: str, points: int, cap: int, *, submetrics: int, stages: bool) -> str:
    """The run's note on a metric whose percentiles come from histograms, with the error bound."""
    also = [f"{submetrics} sub-metric{'s' if submetrics != 1 else ''}"] if submetrics else []
    also += ["the stages' p95/p99"] if stages else []
    return (
        f"{metric}: {points:,} points (more than {cap:,} kept exactly): HDR histogram, "
        f"{SIGNIFICANT_DIGITS} significant digits, percentile error ≤ {ERROR_BOUND:.1%} "
        f"(med and p(N){''.join(', ' + item for item in also)}; count, avg, min and max exact)"
    )


def _histogram() -> HdrHistogram:
    from hdrh.histogram import HdrHistogram

    return HdrHistogram(1, HIGHEST, SIGNIFICANT_DIGITS)


def _record(histogram: HdrHistogram, magnitudes: FloatArray) -> None:
    """Record non-negative values at numpy speed: the library's own bucket index, vectorised, and its
    count, min and max kept as `record_value` keeps them (a test checks it against `record_value`)."""
    scaled = np.rint(np.minimum(magnitudes * SCALE, float(HIGHEST))).astype(np.int64)  # 2^62: exact
    if not len(scaled):
        return
    half = histogram.sub_bucket_half_count_magnitude
    unit = histogram.unit_magnitude
    bucket = _bit_length(scaled | histogram.sub_bucket_mask) - unit - (half + 1)
    index = ((bucket + 1) << half) + (scaled >> (bucket + unit)) - histogram.sub_bucket_half_count
    np.add.at(np.ctypeslib.as_array(histogram.counts), index, 1)
    histogram.total_count += len(scaled)
    histogram.min_value = min(histogram.min_value, int(scaled.min()))
    histogram.max_value = max(histogram.max_value, int(scaled.max()))


def _bit_length(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Bits of each positive value; log2 in floats, corrected where it rounded across a power of 2."""
    bits = np.floor(np.log2(values.astype(np.float64))).astype(np.int64) + 1
    bits -= (values >> (bits - 1)) == 0
    bits += (values >> bits) > 0
    return bits


def _buckets(histogram: HdrHistogram | None) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Each non-empty bucket's middle (in the values' unit) and its count, ascending."""
    if histogram is None or histogram.get_total_count() == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    counts = np.ctypeslib.as_array(histogram.counts)
    indices = np.flatnonzero(counts)
    middles = []
    for index in indices.tolist():
        low = histogram.get_value_from_index(index)
        middles.append((low + histogram.get_highest_equivalent_value(low)) / 2)
    return np.asarray(middles, dtype=np.float64) / SCALE, counts[indices].astype(np.int64)


class Sketch:
    """The values of one accumulator as HDR histograms (non-negative and negative magnitudes)."""

    def __init__(self) -> None:
        self.positive: HdrHistogram | None = None
        self.negative: HdrHistogram | None = None

    def record(self, values: FloatArray) -> None:
        finite = values[np.isfinite(values)]
        below = finite < 0
        if below.any():
            self.negative = self.negative or _histogram()
            _record(self.negative, -finite[below])
        if not below.all():
            self.positive = self.positive or _histogram()
            _record(self.positive, finite[~below])

    def add(self, other: Sketch) -> None:
        for side in ("positive", "negative"):
            theirs = getattr(other, side)
            if theirs is None:
                continue
            mine = getattr(self, side) or _histogram()
            mine.add(theirs)
            setattr(self, side, mine)

    def percentiles(self, wanted: list[float]) -> list[float]:
        """k6's `p(N)` for each N in `wanted`, on the buckets' middles."""
        low_values, low_counts = _buckets(self.negative)
        high_values, high_counts = _buckets(self.positive)
        values = np.concatenate([-low_values[::-1], high_values])
        ends = np.cumsum(np.concatenate([low_counts[::-1], high_counts]))
        total = int(ends[-1]) if len(ends) else 0
        return [_percentile(values, ends, total, p) for p in wanted]

    def __getstate__(self) -> dict[str, Any]:
        """Picklable for byte ranges read by other processes: each histogram as its encoded text."""
        return {side: None if h is None else h.encode() for side, h in vars(self).items()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        from hdrh.histogram import HdrHistogram

        for side, encoded in state.items():
            setattr(self, side, None if encoded is None else HdrHistogram.decode(encoded))


def _percentile(values: FloatArray, ends: npt.NDArray[np.int64], total: int, p: float) -> float:
    if total == 0:
        return 0.0
    rank = (p / 100.0) * (total - 1.0)
    low = math.floor(rank)
    below = float(values[np.searchsorted(ends, low, side="right")])
    above = float(values[np.searchsorted(ends, math.ceil(rank), side="right")])
    return below + (above - below) * (rank - low)
