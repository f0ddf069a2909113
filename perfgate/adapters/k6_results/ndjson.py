"""`--out json` (NDJSON, plain or gzip) streamed block by block into a `PointConsumer` (an
`Aggregator` or `PointSeries`).

Two paths give the same result (tested):
- fast: one compiled regular expression splits a whole block (about a megabyte of lines, the
  cycle collector paused) into (metric, time, value, tags) for every line in k6's exact layout
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
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from perfgate.adapters.json_text import JsonTextError, parse_json
from perfgate.adapters.k6_results.point_lines import split_points
from perfgate.adapters.k6_results.points import PointConsumer
from perfgate.adapters.k6_results.routing import endpoint_name
from perfgate.adapters.k6_results.shapes import MetricLine, PointLine
from perfgate.adapters.k6_results.sources import (
    BLOCK_BYTES,
    ByteStream,
    describe,
    iter_byte_blocks,
    no_cycle_collection,
)
from perfgate.adapters.k6_results.stats import Sink
from perfgate.adapters.k6_results.timestamps import TimestampError
from perfgate.errors import InputDataError

MAX_ROUTES = 4096  # (tags text, metric) pairs remembered; each block looks at every one
_URL_TAG = re.compile(rb'"url":"([^"\\\\]*)"')
Appender = Callable[[bytes], None]
_NO_ROUTES: dict[bytes, Any] = {}
BulkSink = Callable[[Iterable[float]], None]


class NdjsonReader:
    def __init__(
        self, path: Path, aggregator: PointConsumer, *, fast: bool = True, max_routes: int = MAX_ROUTES
    ) -> None:
        self.path = path
        self.aggregator = aggregator
        self.fast = fast
        self.max_routes = max_routes
        self.lines = 0
        self._routes: dict[bytes, dict[bytes, Appender]] = {}  # tags text → metric → values.append
        self._timed: dict[bytes, dict[bytes, Sink]] = {}
        self._last_tags: bytes | None = None
        self._last_alias: tuple[bytes | None, bytes] = (None, b"")
        self._last_decoded: dict[str, str] | None = None
        self._pending: list[tuple[list[bytes], BulkSink]] = []
        self._count = 0
        self.metric_lines: list[bytes] = []  # the Metric lines read, in order

    def read(self, stream: ByteStream, *, block_bytes: int = BLOCK_BYTES) -> None:
        self.read_blocks(iter_byte_blocks(self.path, stream, size=block_bytes))

    def read_blocks(self, blocks: Iterable[bytes]) -> None:
        """Whole lines, a block at a time (`iter_byte_blocks`); the consumer is flushed after each."""
        for block in blocks:
            if self.fast:
                with no_cycle_collection():
                    self._fast_block(block)
            else:
                for line in block.split(b"\n"):
                    self.lines += 1
                    self._json_line(line)
            self.aggregator.flush()

    def routes_kept(self) -> int:
        """(metric, tags text) pairs remembered; at most `max_routes`."""
        return sum(map(len, self._routes.values())) + sum(map(len, self._timed.values()))

    def replay(self, line: bytes) -> None:
        """One line read before (a `Metric` line ahead of a byte range)."""
        self._json_line(line)

    def _fast_block(self, block: bytes) -> None:
        found = split_points(block)
        first = self.lines
        self._note_times(found, first)
        routes, last, by_metric = self._routes, None, _NO_ROUTES
        for index, (metric, when, value, tags, other) in enumerate(found):
            if tags != last:  # k6 writes a request's points one after another, with the same tags
                last, by_metric = tags, routes.get(tags) or routes.get(self._alias(tags), _NO_ROUTES)
            append = by_metric.get(metric)
            if append is not None:
                append(value)
            elif metric:
                self._route(first + index + 1, metric, when, value, tags)
                last = None
            elif other.strip():
                self._fallback(other, first + index + 1)
        self.lines = first + len(found)
        self._convert(first)

    def _note_times(self, found: list[tuple[bytes, ...]], first: int) -> None:
        """Every distinct timestamp of the block, parsed once (the run's first and last point)."""
        for when in set(map(itemgetter(1), found)):
            if when:
                try:
                    self.aggregator.note_time(when)
                except TimestampError as exc:
                    line = first + 1 + next(i for i, match in enumerate(found) if match[1] == when)
                    raise InputDataError(self.path, f"line {line}: {exc}") from exc

    def _route(self, lineno: int, metric: bytes, when: bytes, value: bytes, tags: bytes) -> None:
        """A Point line with no batched route: a new (tags, metric) pair, or a point whose consumer
        needs its own time (`needs_time`: noted, then sunk at once). Past `max_routes` pairs (tags
        unique to a request, e.g. an id in a tag) new pairs are sunk at once and not remembered."""
        number = float(value)
        timed = self._timed.get(tags, _NO_ROUTES).get(metric)
        if timed is not None and math.isfinite(number):
            self.aggregator.note_time(when)
            timed(number)
            return
        decoded = self._decoded(tags)
        if decoded is None or not metric.isascii() or not math.isfinite(number):
            self._fallback(_line(metric, when, value, tags), lineno)
            return
        name = metric.decode("ascii")
        sink = self.aggregator.sink(name, decoded)
        if self.aggregator.needs_time(name):
            self.aggregator.note_time(when)
            sink(number)
            if self._count < self.max_routes:
                self._count += 1
                self._timed.setdefault(tags, {})[metric] = sink
            return
        if self._count >= self.max_routes:
            sink(number)
            return
        self._count += 1
        values = [value]
        self._pending.append((values, _bulk(sink)))
        self._routes.setdefault(self._alias(tags), {})[metric] = values.append

    def _alias(self, tags: bytes) -> bytes:
        """The tags text with an untagged request's URL (k6's default `name` is the URL) replaced
        by its template in both tags, when nothing reads more of them (`reads_url_tags`): every
        request to `/notes/{id}` then shares one route. Else the text itself."""
        if tags == self._last_alias[0]:
            return self._last_alias[1]
        alias = tags
        found = _URL_TAG.search(tags)
        if found is not None and b"\\" not in tags and not self.aggregator.reads_url_tags():
            name = b'"name":"' + found[1] + b'"'
            template = _template(found[1])
            once = tags.count(b'"name":"') == tags.count(b'"url":"') == tags.count(name) == 1
            if template is not None and once:
                alias = tags.replace(name, b'"name":"' + template + b'"').replace(
                    found[0], b'"url":"' + template + b'"'
                )
        self._last_alias = (tags, alias)
        return alias

    def _decoded(self, tags: bytes) -> dict[str, str] | None:
        """`_decode_tags`, remembering the last text (a request's points share their tags)."""
        if tags != self._last_tags:
            self._last_tags, self._last_decoded = tags, _decode_tags(tags)
        return self._last_decoded

    def _convert(self, first: int) -> None:
        """The block's values, bytes → floats, into their sinks (one C-level map per sink; one
        conversion when every value has the same text: counters' 1s, zero phases, passed checks)."""
        for values, bulk in self._pending:
            if values:
                same = values.count(values[0]) == len(values)
                numbers = (
                    array("d", [float(values[0])]) * len(values) if same else array("d", map(float, values))
                )
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
                self.metric_lines.append(line)
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
        metric = line.metric.encode()
        for routes in (self._routes, self._timed):
            for by_metric in routes.values():
                by_metric.pop(metric, None)


def _template(url: bytes) -> bytes | None:
    """`endpoint_name` of a URL as bytes, when it is its own template (None: keep the URL)."""
    try:
        template = endpoint_name({"name": url.decode(), "url": url.decode()})
    except UnicodeDecodeError:
        return None
    if template is None or endpoint_name({"name": template, "url": template}) != template:
        return None
    return template.encode()


def _decode_tags(tags: bytes) -> dict[str, str] | None:
    """The tags object, or None when the text is not exactly a flat object of strings."""
    try:
        # without a backslash there is no escape, so strict UTF-8 and the plain parser suffice
        decoded = json.loads(tags.decode()) if b"\\" not in tags else parse_json(tags)
    except (ValueError, RecursionError):  # deep nesting: the json path says what is wrong
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
