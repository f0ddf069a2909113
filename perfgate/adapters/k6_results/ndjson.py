"""`--out json` (NDJSON, plain or gzip) streamed block by block into a `PointConsumer` (an
`Aggregator` or `PointSeries`).

Two paths give the same result (tested):
- fast: msgspec decodes a whole block of Point lines in one call (`Decoder.decode_lines`, in C,
  against the typed shape `point_lines.Point`): metric, time and value come out checked and typed, the tags
  as their JSON text (`msgspec.Raw`). The tags text is decoded (and checked to be a flat object
  of strings) once per distinct text and its sink cached, so a line costs a comparison of its
  tags text with the previous line's, a dict get and the sink's `array.append`. The block's
  distinct times are checked by one regular expression and only its earliest and latest parsed
  (UTC times in k6's layout sort as text once the `Z` is cut off; other zones: each distinct
  time parsed). Lines holding `"type":"Metric"` (k6's declarations, a few per file) are cut out
  of the block for the json path (msgspec passes over blank lines, as the json path does); points whose consumer needs their own time (gauges: `vus`,
  `vus_max`, ...; every kept point of a `PointSeries`) are routed one by one.
- json: `parse_json` + pydantic for every line the fast path leaves (Metric lines, a stretch of
  lines msgspec refuses or with a time it cannot check, tags that are not a flat object of
  strings) and for all lines with `fast=False`. Errors are reported by this path, with
  the line number. One difference is kept on purpose: an integer value of more than
  `json_text.MAX_INT_DIGITS` digits (refused by `parse_json` as a guard against slow parsing of
  huge integers) is read by msgspec as the float it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any

import msgspec
from pydantic import ValidationError

from perfgate.adapters.json_text import JsonTextError, parse_json
from perfgate.adapters.k6_results.point_lines import (
    POINTS,
    Point,
    declaration,
    decode_tags,
    line_number,
    point_text,
    url_template,
)
from perfgate.adapters.k6_results.points import PointConsumer
from perfgate.adapters.k6_results.shapes import MetricLine, PointLine
from perfgate.adapters.k6_results.sources import (
    BLOCK_BYTES,
    ByteStream,
    describe,
    iter_byte_blocks,
    no_cycle_collection,
)
from perfgate.adapters.k6_results.stats import Sink
from perfgate.adapters.k6_results.timestamps import EpochParser, TimestampError
from perfgate.errors import InputDataError

MAX_ROUTES = 4096  # (tags text, metric) pairs remembered; each block looks at every one
_URL_TAG = re.compile(rb'"url":"([^"\\\\]*)"')
_UTC_TIMES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z\n)*")
_SECOND = itemgetter(slice(19))  # `YYYY-MM-DDTHH:MM:SS` of a time
_WITHOUT_ZONE = itemgetter(slice(-1))  # a UTC time in k6's layout without its `Z` sorts as the time does
_NO_ROUTES: dict[str, Any] = {}


class NdjsonReader:
    def __init__(
        self, path: Path, aggregator: PointConsumer, *, fast: bool = True, max_routes: int = MAX_ROUTES
    ) -> None:
        self.path = path
        self.aggregator = aggregator
        self.fast = fast
        self.max_routes = max_routes
        self.lines = 0
        self._routes: dict[bytes, dict[str, Sink]] = {}  # tags text → metric → sink
        self._timed: dict[bytes, dict[str, Sink]] = {}
        self._last_tags: bytes | None = None
        self._aliases: dict[bytes, bytes] = {}  # tags text → `_alias`, at most MAX_ROUTES remembered
        self._last_decoded: dict[str, str] | None = None
        self._count = 0
        self._calendar = EpochParser()  # checks each calendar second of the fast path's times once
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
                self._json_lines(block)
            self.aggregator.flush()

    def routes_kept(self) -> int:
        """(metric, tags text) pairs remembered; at most `max_routes`."""
        return sum(map(len, self._routes.values())) + sum(map(len, self._timed.values()))

    def replay(self, line: bytes) -> None:
        """One line read before (a `Metric` line ahead of a byte range)."""
        self._json_line(line)

    def _fast_block(self, block: bytes) -> None:
        """The block's Point lines by msgspec, stretch by stretch between the Metric lines, which
        the json path reads."""
        start = 0
        at = declaration(block, 0)
        while at >= 0:
            newline = block.rfind(b"\n", start, at)
            end = block.find(b"\n", at)
            end = len(block) if end < 0 else end
            if newline >= 0:
                self._points(block[start:newline])
            self._json_lines(block[max(start, newline + 1) : end])
            start = end + 1
            at = declaration(block, start)
        if start <= len(block):
            self._points(block[start:])

    def _points(self, stretch: bytes) -> None:
        """Whole lines (no final newline) without a Metric line: one msgspec call (which passes
        over blank lines, as the json path does), or the json path when msgspec refuses a line or
        a time cannot be checked."""
        try:
            points = POINTS.decode_lines(stretch)
        except (msgspec.MsgspecError, RecursionError):  # deep nesting: the json path says where
            points = []
        if not points or not self._note_times(points):
            self._json_lines(stretch)
            return
        first = self.lines
        self.lines += stretch.count(b"\n") + 1
        routes, last, by_metric = self._routes, None, _NO_ROUTES
        for point in points:
            data = point.data
            if data.tags != last:  # k6 writes a request's points one after another, with the same tags
                last = data.tags
                tags = bytes(last)
                by_metric = routes.get(tags) or routes.get(self._alias(tags), _NO_ROUTES)
            sink = by_metric.get(point.metric)
            if sink is not None:
                sink(data.value)
            else:
                self._route(point, (stretch, points, first))
                last = None

    def _note_times(self, points: list[Point]) -> bool:
        """The earliest and latest of the points' times noted; False when one cannot be parsed
        (the json path then says which line)."""
        times = {point.data.time for point in points}
        note = self.aggregator.note_time
        try:
            if _UTC_TIMES.fullmatch("\n".join(times) + "\n"):
                for second in set(map(_SECOND, times)):
                    self._calendar(second.encode() + b"Z")
                note(min(times, key=_WITHOUT_ZONE).encode())
                note(max(times, key=_WITHOUT_ZONE).encode())
            else:
                for time in times:
                    note(time.encode())
        except TimestampError:
            return False
        return True

    def _route(self, point: Point, where: tuple[bytes, list[Point], int]) -> None:
        """A Point with no remembered route: a new (tags, metric) pair, or a point whose consumer
        needs its own time (`needs_time`: noted, then sunk at once). Past `max_routes` pairs (tags
        unique to a request, e.g. an id in a tag) new pairs are sunk at once and not remembered."""
        metric, tags, number = point.metric, bytes(point.data.tags), point.data.value
        timed = self._timed.get(tags, _NO_ROUTES).get(metric)
        if timed is not None:
            self.aggregator.note_time(point.data.time.encode())
            timed(number)
            return
        decoded = self._decoded(tags)
        if decoded is None:  # not a flat object of strings: the json path says what is wrong
            after, self.lines = self.lines, line_number(point, *where)
            self._json_line(point_text(point, tags))
            self.lines = after
            return
        sink = self.aggregator.sink(metric, decoded)
        remember = self._count < self.max_routes
        if remember:
            self._count += 1
        if self.aggregator.needs_time(metric):
            self.aggregator.note_time(point.data.time.encode())
            sink(number)
            if remember:
                self._timed.setdefault(tags, {})[metric] = sink
            return
        sink(number)
        if remember:
            self._routes.setdefault(self._alias(tags), {})[metric] = sink

    def _alias(self, tags: bytes) -> bytes:
        """The tags text with an untagged request's URL (k6's default `name` is the URL) replaced
        by its template in both tags, when nothing reads more of them (`reads_url_tags`): every
        request to `/notes/{id}` then shares one route. Else the text itself. Remembered for
        the tags texts met again (k6's default names are URLs, query strings included)."""
        alias = self._aliases.get(tags)
        if alias is not None:
            return alias
        alias = tags
        found = _URL_TAG.search(tags)
        if found is not None and b"\\" not in tags and not self.aggregator.reads_url_tags():
            name = b'"name":"' + found[1] + b'"'
            template = url_template(found[1])
            once = tags.count(b'"name":"') == tags.count(b'"url":"') == tags.count(name) == 1
            if template is not None and once:
                alias = tags.replace(name, b'"name":"' + template + b'"').replace(
                    found[0], b'"url":"' + template + b'"'
                )
        if len(self._aliases) >= MAX_ROUTES:  # texts unique to a request: keep memory flat
            self._aliases.clear()
        self._aliases[tags] = alias
        return alias

    def _decoded(self, tags: bytes) -> dict[str, str] | None:
        """`decode_tags`, remembering the last text (a request's points share their tags)."""
        if tags != self._last_tags:
            self._last_tags, self._last_decoded = tags, decode_tags(tags)
        return self._last_decoded

    def _json_lines(self, lines: bytes) -> None:
        for line in lines.split(b"\n"):
            self.lines += 1
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
        self._aliases.clear()  # a sub-metric on `url` or `name` ends the templating (`reads_url_tags`)
        for routes in (self._routes, self._timed):
            for by_metric in routes.values():
                by_metric.pop(line.metric, None)


def _short(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}, column {exc.colno}"
    return str(exc)
