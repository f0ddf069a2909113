"""`--out json` (NDJSON, plain or gzip) streamed line by line into a `PointConsumer` (an `Aggregator` or `PointSeries`).

Two paths give the same result (tested):
- fast: `bytes.find` cuts metric, time, value and the tags object out of the exact layout
  k6 writes (`{"metric":"..","type":"Point","data":{"time":"..","value":..,"tags":{..}}}`).
  The tags text is decoded (and checked to be a flat object of strings) once per distinct
  text and the resulting sink cached, so a line costs a few `find`s, a `float()`, two dict
  gets and an `array.append`. (`float()` is laxer than JSON about `1_0` and spaces; k6
  never writes those.)
- json: `json.loads` + pydantic for every line the fast path does not recognise (Metric
  lines, `metadata`, escapes, other key orders) and for all lines with `fast=False`.
  Errors are reported by this path, with the line number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import ValidationError

from perfgate.adapters.json_text import JsonTextError, parse_json
from perfgate.adapters.k6_results.points import PointConsumer
from perfgate.adapters.k6_results.shapes import MetricLine, PointLine
from perfgate.adapters.k6_results.sources import ByteStream, describe, iter_line_blocks
from perfgate.adapters.k6_results.stats import Sink
from perfgate.adapters.k6_results.timestamps import TimestampError
from perfgate.errors import InputDataError

_HEAD = b'{"metric":"'
_MID = b'","type":"Point","data":{"time":"'
_VALUE = b'","value":'
_TAGS = b',"tags":'
_AT_METRIC, _AFTER_MID, _AFTER_VALUE, _AFTER_TAGS = len(_HEAD), len(_MID), len(_VALUE), len(_TAGS)
_MAX_ROUTES = 50_000


class NdjsonReader:
    def __init__(self, path: Path, aggregator: PointConsumer, *, fast: bool = True) -> None:
        self.path = path
        self.aggregator = aggregator
        self.fast = fast
        self.lines = 0
        self._routes: dict[bytes, dict[bytes, Sink]] = {}
        self._count = 0

    def read(self, stream: ByteStream) -> None:
        for block in iter_line_blocks(self.path, stream):
            if self.fast:
                self._fast_block(block)
            else:
                for line in block:
                    self.lines += 1
                    self._json_line(line)
            self.aggregator.flush()

    def _fast_block(self, block: list[bytes]) -> None:
        routes = self._routes
        last_time = b""
        first = self.lines
        for lineno, line in enumerate(block, start=first + 1):
            mid = line.find(_MID, _AT_METRIC) if line.startswith(_HEAD) else -1
            time_end = line.find(_VALUE, mid) if mid > 0 else -1
            value_end = line.find(_TAGS, time_end) if time_end > 0 else -1
            if value_end < 0 or line[-2:] != b"}}":
                last_time = self._fallback(line, lineno)
                continue
            try:
                value = float(line[time_end + _AFTER_VALUE : value_end])
            except ValueError:
                value = math.nan
            if value - value != 0.0:  # inf or nan
                last_time = self._fallback(line, lineno)
                continue
            time = line[mid + _AFTER_MID : time_end]
            if time != last_time:
                if not self._try_time(time):
                    last_time = self._fallback(line, lineno)
                    continue
                last_time = time
            tags = line[value_end + _AFTER_TAGS : -2]
            sinks = routes.get(line[_AT_METRIC:mid])
            sink = sinks.get(tags) if sinks is not None else None
            if sink is None:
                self.lines = lineno
                sink = self._route(line[_AT_METRIC:mid], tags)
                if sink is None:
                    last_time = self._fallback(line, lineno)
                    continue
            sink(value)
        self.lines = first + len(block)

    def _fallback(self, line: bytes, lineno: int) -> bytes:
        """The json path for one line; returns the new `last_time` (none: it may have moved)."""
        self.lines = lineno
        self._json_line(line)
        return b""

    def _try_time(self, time: bytes) -> bool:
        try:
            self.aggregator.note_time(time)
        except TimestampError:
            return False
        return True

    def _note_time(self, time: bytes) -> None:
        try:
            self.aggregator.note_time(time)
        except TimestampError as exc:
            raise InputDataError(self.path, f"line {self.lines}: {exc}") from exc

    def _route(self, metric: bytes, tags: bytes) -> Sink | None:
        """The sink for a (metric, tags) text pair, or None to leave the line to the json path."""
        decoded = _decode_tags(tags)
        if decoded is None or b'"' in metric or b"\\" in metric or not metric.isascii():
            return None
        sink = self.aggregator.sink(metric.decode("ascii"), decoded)
        if self._count >= _MAX_ROUTES:  # high-cardinality tags (e.g. raw URLs): stay flat
            self._routes.clear()
            self._count = 0
        self._routes.setdefault(metric, {})[tags] = sink
        self._count += 1
        return sink

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
                self._point(PointLine.model_validate(record))
            elif kind == "Metric":
                self._declare(MetricLine.model_validate(record))
            else:
                raise InputDataError(self.path, f"line {self.lines}: not a k6 Metric or Point line")
        except ValidationError as exc:
            raise InputDataError(self.path, f"line {self.lines}: {kind} line: {describe(exc)}") from exc

    def _point(self, point: PointLine) -> None:
        self._note_time(point.data.time.encode())
        self.aggregator.sink(point.metric, point.data.tags or {})(point.data.value)

    def _declare(self, line: MetricLine) -> None:
        info = line.data
        submetrics = {sub.name: sub.tags for sub in info.submetrics or ()}
        self.aggregator.declare(line.metric, info.type, info.contains, info.thresholds or [], submetrics)
        self._routes.pop(line.metric.encode(), None)


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


def _short(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}, column {exc.colno}"
    return str(exc)
