"""Exact trend values (8 bytes a point) vs mergeable sketches: memory and p50/p95/p99 error.

    python bench/sketch.py                 # 5 M and 50 M points
    python bench/sketch.py --points 1e6
    python bench/sketch.py --points --reader 2e6 20e6   # perfgate's own switch only

The second table is perfgate's reader itself (`Aggregator`, `RawOptions.exact_points`): one
trend metric fed N points (20 endpoint names) in blocks, each configuration in a fresh child
process: peak RSS growth over the process after imports, p95/p99 against the exact reading, and
whether the exact values' memory grows with N while the HDR fallback's stays flat.

perfgate keeps every kept trend value so `med` and `p(N)` are k6's rule over all points. Where
that would not fit in memory a mergeable sketch could stand in; this measures the candidates on
k6-like latencies (log-normal around 20 ms, a 1 % slow tail ten times slower, 6 decimals as k6
writes them), fed in blocks of a million as a reader would, and merged from two halves as the
parts of a split test (or byte ranges) would be:
- HDR histogram (`hdrhistogram` on PyPI), 3 significant digits, values in µs from 1 µs to 1 h:
  a value's bucket is within 0.1 % of it;
- DDSketch (`ddsketch` on PyPI), relative accuracy 1 %: a quantile within 1 % of the true value.
Both are fed µs-rounded values with counts (`np.unique` per block), since their Python APIs take
one value per call. Errors are relative to k6's percentile of all points.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from ddsketch import DDSketch
from hdrh.histogram import HdrHistogram

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perfgate.adapters.k6_results import RawOptions, k6_percentile
from perfgate.adapters.k6_results.aggregate import Aggregator

BLOCK = 1_000_000
QUANTILES = (50.0, 95.0, 99.0)


def latencies(count: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(np.log(20.0), 0.5, count)
    slow = rng.random(count) < 0.01
    values[slow] *= 10.0
    return np.round(values, 6)


def feed_hdr(values: np.ndarray) -> HdrHistogram:
    histogram = HdrHistogram(1, 3_600_000_000, 3)
    for start in range(0, len(values), BLOCK):
        micros, counts = np.unique(
            np.rint(values[start : start + BLOCK] * 1000).astype(np.int64), return_counts=True
        )
        for value, count in zip(micros.tolist(), counts.tolist(), strict=True):
            histogram.record_value(max(value, 1), count)
    return histogram


def feed_dd(values: np.ndarray) -> DDSketch:
    sketch = DDSketch(relative_accuracy=0.01)
    for start in range(0, len(values), BLOCK):
        micros, counts = np.unique(np.rint(values[start : start + BLOCK] * 1000), return_counts=True)
        for value, count in zip((micros / 1000).tolist(), counts.tolist(), strict=True):
            sketch.add(value, count)
    return sketch


def dd_bytes(sketch: DDSketch) -> int:
    stores = [sketch._store, sketch._negative_store]  # the size of what it keeps
    return sum(len(store.bins) * 8 for store in stores)


def row(
    label: str, quantiles: dict[float, float], exact: dict[float, float], size: int, seconds: float
) -> str:
    errors = "  ".join(
        f"p{q:g} {quantiles[q]:9.3f} ({(quantiles[q] - exact[q]) / exact[q]:+.3%})" for q in QUANTILES
    )
    return f"  {label:<26} {size / 1e6:9.3f} MB  {seconds:6.1f} s  {errors}"


def measure(count: int) -> None:
    values = latencies(count)
    print(f"{count / 1e6:g} M points")
    started = time.process_time()
    ordered = np.sort(values)
    exact = {q: k6_percentile(ordered, q) for q in QUANTILES}
    print(row("exact (k6 rule)", exact, exact, values.nbytes, time.process_time() - started))
    del ordered
    half = count // 2
    started = time.process_time()
    hdr = feed_hdr(values)
    hdr_q = {q: hdr.get_value_at_percentile(q) / 1000 for q in QUANTILES}
    print(row("HDR 3 digits", hdr_q, exact, hdr.counts_len * hdr.word_size, time.process_time() - started))
    merged = feed_hdr(values[:half])
    merged.add(feed_hdr(values[half:]))
    merged_q = {q: merged.get_value_at_percentile(q) / 1000 for q in QUANTILES}
    print(row("HDR merged from 2 halves", merged_q, exact, len(merged.encode()), 0.0) + "  (size: encoded)")
    started = time.process_time()
    dd = feed_dd(values)
    dd_q = {q: float(dd.get_quantile_value(q / 100)) for q in QUANTILES}
    print(row("DDSketch 1 %", dd_q, exact, dd_bytes(dd), time.process_time() - started))
    merged_dd = feed_dd(values[:half])
    merged_dd.merge(feed_dd(values[half:]))
    merged_dd_q = {q: float(merged_dd.get_quantile_value(q / 100)) for q in QUANTILES}
    print(row("DDSketch merged from 2", merged_dd_q, exact, dd_bytes(merged_dd), 0.0))


def reader_child(count: int, cap: int) -> dict[str, float | list[str]]:
    """Feed perfgate's aggregator `count` latencies of 20 names in blocks; its result and RSS growth."""
    aggregator = Aggregator(RawOptions(exact_points=cap))
    sinks = [aggregator.sink("http_req_duration", {"name": f"endpoint_{n}"}) for n in range(20)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    rng = np.random.default_rng(5)
    for start in range(0, count, 100_000):
        block = np.round(rng.lognormal(np.log(20.0), 0.5, min(100_000, count - start)), 6).tolist()
        for index, sink in enumerate(sinks):
            collections.deque(map(sink, block[index::20]), 0)
        aggregator.flush()
    run = aggregator.finish()
    values = run.metrics["http_req_duration"].values
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {**values, "rss_mb": grown, "cpu_s": time.process_time() - started, "notes": run.notes}


def measure_reader(count: int, cap: int) -> None:
    results = {}
    for label, limit in (("exact", 10**12), (f"HDR past {cap:,}", cap)):
        argv = [sys.executable, __file__, "--child", str(count), str(limit)]
        results[label] = json.loads(subprocess.run(argv, capture_output=True, check=True, text=True).stdout)
    exact = results["exact"]
    for label, found in results.items():
        errors = "  ".join(
            f"{stat} {found[stat]:8.3f} ({(found[stat] - exact[stat]) / exact[stat]:+.4%})"
            for stat in ("med", "p(95)", "p(99)")
        )
        print(
            f"  {count / 1e6:5g} M  {label:<18} peak RSS +{found['rss_mb']:6.1f} MB  {found['cpu_s']:5.1f} s  {errors}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=float, nargs="*", default=[5e6, 50e6])
    parser.add_argument("--reader", type=float, nargs="*", default=[2e6, 20e6])
    parser.add_argument("--cap", type=int, default=1_000_000, help="exact_points for the reader table")
    parser.add_argument("--child", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(reader_child(*args.child)))
        return
    if args.points:
        print("memory kept for one trend series, CPU seconds to feed it, quantiles in ms (error vs exact)")
    for count in args.points:
        measure(int(count))
    if args.reader:
        print("perfgate's reader: one trend metric, 20 names; peak RSS growth, CPU, stats (error vs exact)")
    for count in args.reader:
        measure_reader(int(count), args.cap)


if __name__ == "__main__":
    main()
