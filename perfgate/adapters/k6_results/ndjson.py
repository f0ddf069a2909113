"""`--out json` (NDJSON, plain or gzip) streamed block by block into a `PointConsumer` (an
`Aggregator` or `PointSeries`).

Two paths give the same result (tested):
- fast: one compiled regular expression splits a whole block (about a megabyte of lines) into
  (metric, time, value, tags) for every line in the exact layout k6 writes
  (`{"metric":"..","type":"Point","data":{"time":"..","value":..,"tags":{..}}}`), in C. The tags
  text is decoded (and checked to be a flat object of strings) once per distinct text and its
  sink cached, so a line costs a tuple unpack, two dict gets and a `list.append` of the value's
  bytes; the values of a block are converted with one `map(float, ...)` per sink, and the
  block's distinct timestamps are parsed once each. Points whose consumer needs their own
  time (gauges: `vus`, `vus_max`, ...; every kept point of a `PointSeries`) are routed one by one.
- json: `json.loads` + pydantic for every line the fast path does not recognise (Metric
  lines, `metadata`, escapes, other key orders, numbers out of JSON's grammar) and for all
  lines with `fast=False`. Errors are reported by this path, with the line number.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import ValidationError

from perfgate.adapters.json_text import JsonTextError, parse_json
from perfgate.adapters.k6_results.points import PointConsumer
from perfgate.adapters.k6_results.shapes import MetricLine, PointLine
from perfgate.adapters.k6_results.sources import (
    ByteStream,
    describe,
    iter_byte_blocks,
)
from perfgate.adapters.k6_results.stats import Sink
from perfgate.adapters.k6_results.timestamps import TimestampError
from perfgate.errors import InputDataError

# One match per line: a k6 Point line split into its fields, or (group 5) any other line.
_POINT = re.compile(
    rb'^(?:\{"metric":"([^"\\\n]*)","type":"Point","data":\{"time":"([^"\\\n]*)",'
    rb'"value":(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?),"tags":(\{[^\n]*\}|null)\}\}|(.*))$',
    re.MULTILINE,
)
_MAX_ROUTES = 50_000
Appender = Callable[[bytes], None]
BulkSink = Callable[[Iterable[float]], None]


class NdjsonReader:
    def __init__(self, path: Path, aggregator: PointConsumer, *, fast: bool = True) -> None:
        self.path = path
        self.aggregator = aggregator
        self.fast = fast
        self.lines = 0
        self._routes: dict[bytes, dict[bytes, Appender]] = {}
        self._timed: dict[bytes, dict[bytes, Sink]] = {}
        self._pending: list[tuple[list[bytes], BulkSink]] = []
        self._count = 0

    def read(self, stream: ByteStream) -> None:
        for block in iter_byte_blocks(self.path, stream):
            if self.fast:
                self._fast_block(block)
            else:
                for line in block.split(b"\n"):
                    self.lines += 1
                    self._json_line(line)
            self.aggregator.flush()

    def _fast_block(self, block: bytes) -> None:
        found = _POINT.findall(block)
        first = self.lines
        self._note_times(found, first)
        routes = self._routes
        for index, (metric, when, value, tags, other) in enumerate(found):
            sinks = routes.get(metric)
            append = sinks.get(tags) if sinks is not None else None
            if append is not None:
                append(value)
            elif metric:
                self._route(first + index + 1, metric, when, value, tags)
            elif other.strip():
                self._fallback(other, first + index + 1)
        self.lines = first + len(found)
        self._convert(first)

    def _note_times(self, found: list[tuple[bytes, ...]], first: int) -> None:
        """Every distinct timestamp of the block, parsed once (the run's first and last point)."""
        for when in {match[1] for match in found}:
            if when:
                try:
                    self.aggregator.note_time(when)
                except TimestampError as exc:
                    line = first + 1 + next(i for i, match in enumerate(found) if match[1] == when)
                    raise InputDataError(self.path, f"line {line}: {exc}") from exc

    def _route(self, lineno: int, metric: bytes, when: bytes, value: bytes, tags: bytes) -> None:
        """A Point line with no batched route: a new (metric, tags) pair, or a point whose consumer
        needs its own time (`needs_time`: noted, then sunk at once)."""
        number = float(value)
        timed = self._timed.get(metric, {}).get(tags)
        if timed is not None and math.isfinite(number):
            self.aggregator.note_time(when)
            timed(number)
            return
        decoded = _decode_tags(tags)
        if decoded is None or not metric.isascii() or not math.isfinite(number):
            self._fallback(_line(metric, when, value, tags), lineno)
            return
        name = metric.decode("ascii")
        sink = self.aggregator.sink(name, decoded)
        if self._count >= _MAX_ROUTES:  # high-cardinality tags (e.g. raw URLs): stay flat
            self._convert(lineno)
            self._routes, self._timed, self._pending, self._count = {}, {}, [], 0
        self._count += 1
        if self.aggregator.needs_time(name):
            self._timed.setdefault(metric, {})[tags] = sink
            self.aggregator.note_time(when)
            sink(number)
            return
        values = [value]
        self._pending.append((values, _bulk(sink)))
        self._routes.setdefault(metric, {})[tags] = values.append

    def _convert(self, first: int) -> None:
        """The block's values, bytes → floats, into their sinks (one C-level map per sink)."""
        for values, bulk in self._pending:
            if values:
                numbers = array("d", map(float, values))
                total = sum(numbers)
                if total - total != 0.0 and not all(math.isfinite(v) for v in numbers):
                    raise InputDataError(self.path, f"after line {first}: a value out of range (inf)")
                bulk(numbers)
                values.clear()

    def _fallback(self, line: bytes, lineno: int) -> None:
        """The json path for one line, after the values read before it (their order is kept)."""
        self._convert(lineno)
        self.lines = lineno
        self._json_line(line)

    def _json_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            record = parse_json(line)
        except JsonTextError as exc:
            raise InputDataError(self.path, f"line {self.lines}: {exc}") from None
        except ValueError as exc:
            raise InputDataError(self.path, f"line {self.lines}: not JSON ({_short(exc)})") from None
        kind = record.get("type") if isinstance(record, dict) else None
        try:
            if kind == "Point":
                self._json_point(PointLine.model_validate(record))
            elif kind == "Metric":
                self._declare(MetricLine.model_validate(record))
            else:
                raise InputDataError(self.path, f"line {self.lines}: not a k6 Metric or Point line")
        except ValidationError as exc:
            raise InputDataError(self.path, f"line {self.lines}: {kind} line: {describe(exc)}") from exc

    def _json_point(self, point: PointLine) -> None:
        try:
            self.aggregator.note_time(point.data.time.encode())
        except TimestampError as exc:
            raise InputDataError(self.path, f"line {self.lines}: {exc}") from exc
        self.aggregator.sink(point.metric, point.data.tags or {})(point.data.value)

    def _declare(self, line: MetricLine) -> None:
        info = line.data
        submetrics = {sub.name: sub.tags for sub in info.submetrics or ()}
        self.aggregator.declare(line.metric, info.type, info.contains, info.thresholds or [], submetrics)
        self._routes.pop(line.metric.encode(), None)
        self._timed.pop(line.metric.encode(), None)


def _decode_tags(tags: bytes) -> dict[str, str] | None:
    """The tags object, or None when the text is not exactly a flat object of strings."""
    try:
        decoded = parse_json(tags)
    except ValueError:
        return None
    if decoded is None:
        return {}
    if isinstance(decoded, dict) and all(isinstance(value, str) for value in decoded.values()):
        return decoded
    return None


def _bulk(sink: Sink) -> BulkSink:
    """Many values into `sink` at once: `array.extend` when the sink is a plain `array.append`."""
    target = getattr(sink, "__self__", None)
    if isinstance(target, array) and getattr(sink, "__name__", "") == "append":
        return target.extend

    def each(values: Iterable[float]) -> None:
        for value in values:
            sink(value)

    return each


def _line(metric: bytes, when: bytes, value: bytes, tags: bytes) -> bytes:
    """The k6 line the fast path split (for the json path, which reports errors)."""
    return (
        b'{"metric":"' + metric + b'","type":"Point","data":{"time":"' + when
        + b'","value":' + value + b',"tags":' + tags + b"}}"
    )  # fmt: skip


def _short(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}, column {exc.colno}"
    return str(exc)
