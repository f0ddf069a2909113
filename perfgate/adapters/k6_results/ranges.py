"""A large plain NDJSON file read as byte ranges by several processes, merged exactly.

Each range starts where one reading of the whole file starts a block (after the last newline
before a multiple of `BLOCK_BYTES`) and is read in the same blocks, so every accumulator gets
the same values, counts and block sums (`stats`); the ranges are merged in file order. What a
range cannot see in its own bytes is handed to it, or checked afterwards; when a check fails
the file is read again by one process, which gives the one-reading result (and its errors):
- the `Metric` lines before it: those of the file's first `PREFIX_BYTES` (k6 declares a metric
  at its first point, nearly always in the first seconds) are handed to every range; the ranges
  before it then tell which it met, and a range handed fewer is read again, here, with them all;
- the `name` values split out (`RawOptions.max_names`: the first ones in file order);
- a metric whose points came before its `Metric` line (its type then comes from the defaults).
Any error in a range (a bad line, whose number only a whole reading knows) is left to that one
reading too. Ranges run in forked processes, and only from a process with no other threads.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from perfgate.adapters.json_text import parse_json
from perfgate.adapters.k6_results.aggregate import Aggregator, MetricMeta
from perfgate.adapters.k6_results.catalog import RawOptions
from perfgate.adapters.k6_results.ndjson import NdjsonReader
from perfgate.adapters.k6_results.routing import Signature
from perfgate.adapters.k6_results.sources import BLOCK_BYTES, GZIP_MAGIC, iter_byte_blocks
from perfgate.adapters.k6_results.stats import Accumulator, GaugeAccumulator

MIN_RANGE_BYTES = 16 << 20  # below this a range costs more to start than it saves (35 MB: 0.08 s vs 0.10 s)
PREFIX_BYTES = 16 << 20  # where the Metric lines handed to every range are looked for
MAX_WORKERS = 4


@dataclass(frozen=True)
class Range:
    start: int  # first byte (a line start)
    first_read: int  # the read of `block_bytes` it begins with (start is in the one before, or at it)
    reads: int | None  # None: to the end of the file
    block_bytes: int


@dataclass
class RangeState:
    """What one range's reading leaves, in a picklable form."""

    parts: list[tuple[tuple[str, Signature], Accumulator]]
    names: list[str]
    refused: int
    first: float
    last: float
    first_vus_max: float | None
    defaulted: set[str]
    metric_lines: list[bytes]  # the range's own, in order


class RangeAggregator(Aggregator):
    """An `Aggregator` for one range (`state()`), or merging the ranges' states (`absorb`)."""

    def __init__(self, options: RawOptions) -> None:
        super().__init__(options)
        self.defaulted: set[str] = set()

    def _meta_for(self, metric: str) -> MetricMeta:
        if metric not in self._meta:
            self.defaulted.add(metric)
        return super()._meta_for(metric)

    def state(self, metric_lines: list[bytes]) -> RangeState:
        self.flush()
        return RangeState(
            parts=list(self._parts.items()),
            names=list(self.router.names),
            refused=self.router.refused,
            first=self.first,
            last=self.last,
            first_vus_max=self._first_vus_max,
            defaulted=self.defaulted,
            metric_lines=metric_lines,
        )

    def absorb(self, state: RangeState) -> bool:
        """Add the next range; False when its `name` split cannot be one reading's."""
        names = self.router.names
        if state.refused and names:  # it refused names that an earlier range may have split
            return False
        for name in state.names:
            if name not in names:
                if len(names) >= self.router.max_names:
                    return False
                names[name] = None
        gauges = [part for _, part in state.parts if isinstance(part, GaugeAccumulator) and part.count]
        for part in sorted(gauges, key=lambda gauge: gauge.last_seen):
            part.last_seen = next(self._order)
        for key, accumulator in state.parts:
            known = self._parts.get(key)
            if known is None:
                self._parts[key] = accumulator
            else:
                known.absorb(accumulator)
        self.first, self.last = min(self.first, state.first), max(self.last, state.last)
        if self._first_vus_max is None:
            self._first_vus_max = state.first_vus_max
        return True


@dataclass(frozen=True)
class Declaration:
    at: int  # offset of the line
    metric: str
    line: bytes


def read_in_ranges(
    path: Path,
    options: RawOptions,
    *,
    workers: int | None = None,
    block_bytes: int = BLOCK_BYTES,
    prefix_bytes: int = PREFIX_BYTES,
) -> Aggregator | None:
    """A large plain file read by `workers` processes (this one among them; default: by its size
    and the CPUs); None: read it in one (`NdjsonReader` with the same `block_bytes`)."""
    with path.open("rb") as stream:
        gzip = stream.read(2) == GZIP_MAGIC
    if workers is None:
        workers = worker_count(path.stat().st_size)
    ranges = cut(path, workers, block_bytes) if workers > 1 and not gzip else []
    if len(ranges) < 2:
        return None
    try:
        declarations = metric_lines(path, block_bytes, until=min(ranges[-1].start, prefix_bytes))
        handed = [[d.line for d in declarations if d.at < spot.start] for spot in ranges]
        with ProcessPoolExecutor(len(ranges) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            later = [
                pool.submit(read_range, path, options, *job)
                for job in zip(ranges[1:], handed[1:], strict=True)
            ]
            first = read_range(path, options, ranges[0], handed[0])
            states = [first, *(future.result() for future in later)]
        states = with_every_declaration(path, options, ranges, states, handed)
    except Exception:  # a bad line or a failed process: one reading reports it, or recovers
        return None
    return merge_states(path, options, states)


def worker_count(size: int) -> int:
    """How many ranges a plain file of `size` bytes is read in (1: one process)."""
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, size // MIN_RANGE_BYTES))


def read_range(path: Path, options: RawOptions, spot: Range, before: Sequence[bytes]) -> RangeState:
    aggregator = RangeAggregator(options)
    reader = NdjsonReader(path, aggregator)
    for line in before:
        reader.replay(line)
    counted = len(reader.metric_lines)
    with path.open("rb") as stream:
        stream.seek(spot.start)
        pending = stream.read(spot.first_read * spot.block_bytes - spot.start)
        blocks = iter_byte_blocks(path, stream, pending=pending, reads=spot.reads, size=spot.block_bytes)
        reader.read_blocks(blocks)
    return aggregator.state(reader.metric_lines[counted:])


def with_every_declaration(
    path: Path,
    options: RawOptions,
    ranges: Sequence[Range],
    states: Sequence[RangeState],
    handed: Sequence[Sequence[bytes]],
) -> list[RangeState]:
    """The states, each of a range read with every Metric line before it: the ranges before it
    met them all; a range handed fewer (one declared past the prefix) is read again, here."""
    states = list(states)
    for index, spot in enumerate(ranges):
        before = [line for state in states[:index] for line in state.metric_lines]
        if list(handed[index]) != before:
            states[index] = read_range(path, options, spot, before)
    return states


def merge_states(path: Path, options: RawOptions, states: Sequence[RangeState]) -> Aggregator | None:
    """The ranges' states in file order, or None when one of them cannot be one reading's."""
    for index, state in enumerate(states):
        declared_later = {_metric_of(line) for later in states[index:] for line in later.metric_lines}
        if state.defaulted & declared_later:
            return None
    merged = RangeAggregator(options)
    reader = NdjsonReader(path, merged)
    for line in [line for state in states for line in state.metric_lines]:
        reader.replay(line)
    if not all(merged.absorb(state) for state in states):
        return None
    return merged


def cut(path: Path, workers: int, block_bytes: int) -> list[Range]:
    """Ranges of about equal size, each starting where one reading starts a block (after the last
    newline before a read)."""
    reads = -(-path.stat().st_size // block_bytes)
    firsts = [0, *sorted({round(index * reads / workers) for index in range(1, workers)} - {0})]
    with path.open("rb") as stream:
        starts = [0, *(_line_start(stream, first * block_bytes, block_bytes) for first in firsts[1:])]
    if 0 in starts[1:] or len(set(starts)) < len(starts):
        return []
    follow: list[int | None] = [*firsts[1:], None]
    return [
        Range(start, first, None if after is None else after - first, block_bytes)
        for start, first, after in zip(starts, firsts, follow, strict=True)
    ]


def _line_start(stream: BinaryIO, offset: int, block_bytes: int) -> int:
    """Where the line holding byte `offset - 1` starts (0: at the file's start)."""
    while offset > 0:
        back = max(0, offset - block_bytes)
        stream.seek(back)
        newline = stream.read(offset - back).rfind(b"\n")
        if newline >= 0:
            return back + newline + 1
        offset = back
    return 0


def metric_lines(path: Path, block_bytes: int, *, until: int) -> list[Declaration]:
    """Every `Metric` line starting before `until`, with its offset. Read in blocks (a memory map
    would count the file as this process's memory); a `Metric` line holds `"Metric"`, and its
    `M` is found by `memchr` (rare in Point lines)."""
    found: list[Declaration] = []
    offset = 0
    with path.open("rb") as stream:
        for block in iter_byte_blocks(path, stream, size=block_bytes):
            at = block.find(b"M")
            while 0 <= at < until - offset:
                if not (at > 0 and block.startswith(b'"Metric"', at - 1)):
                    at = block.find(b"M", at + 1)
                    continue
                start = block.rfind(b"\n", 0, at) + 1
                end = block.find(b"\n", at)
                end = len(block) if end < 0 else end
                metric = _metric_of(block[start:end])
                if metric is not None and offset + start < until:
                    found.append(Declaration(offset + start, metric, block[start:end]))
                at = block.find(b"M", end)
            offset += len(block) + 1
            if offset >= until:
                break
    return found


def _metric_of(line: bytes) -> str | None:
    """The metric a `Metric` line declares, else None."""
    try:
        record = parse_json(line)
    except ValueError:
        return None
    if isinstance(record, dict) and record.get("type") == "Metric" and isinstance(record.get("metric"), str):
        return str(record["metric"])
    return None
