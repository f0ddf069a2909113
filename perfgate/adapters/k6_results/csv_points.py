"""`--out csv` (plain or gzip) streamed line by line into a `PointConsumer` (an `Aggregator` or `PointSeries`).

k6's header: `metric_name,timestamp,metric_value,` then one column per system tag,
`extra_tags` (other tags as `k=v&k2=v2`) and `metadata`. An empty cell is an absent tag.
The first three cells never hold a comma or quote, so each line is split with one
`bytes.split(b",", 3)` and the tag cells (the rest, decoded with `csv` once per distinct
text) select a cached sink. CSV carries no metric types and no thresholds.
"""

from __future__ import annotations

import csv
from pathlib import Path

from perfgate.adapters.k6_results.points import PointConsumer
from perfgate.adapters.k6_results.sources import CSV_HEAD, ByteStream, iter_line_blocks
from perfgate.adapters.k6_results.stats import Sink
from perfgate.adapters.k6_results.timestamps import TimestampError
from perfgate.errors import InputDataError

_MAX_ROUTES = 50_000


class CsvReader:
    def __init__(self, path: Path, aggregator: PointConsumer) -> None:
        self.path = path
        self.aggregator = aggregator
        self.lines = 0
        self._columns: list[str] = []
        self._routes: dict[bytes, dict[bytes, Sink]] = {}
        self._count = 0

    def read(self, stream: ByteStream) -> None:
        for block in iter_line_blocks(self.path, stream):
            if not self._columns:
                self._header(block[0])
                self.lines = 1
                block = block[1:]
            self._block(block)
            self.aggregator.flush()
        if not self._columns:
            raise InputDataError(self.path, "empty file")

    def _header(self, line: bytes) -> None:
        names = line.removeprefix(b"\xef\xbb\xbf").strip().decode("utf-8", "replace").split(",")
        if ",".join(names[:3]).encode() != CSV_HEAD or "extra_tags" not in names:
            raise InputDataError(
                self.path, f"not a k6 result: CSV header must be {CSV_HEAD.decode()},...,extra_tags,metadata"
            )
        self._columns = names[3:]

    def _block(self, block: list[bytes]) -> None:
        routes = self._routes
        last_time = b""
        first = self.lines
        for lineno, line in enumerate(block, start=first + 1):
            parts = line.split(b",", 3)
            if len(parts) != 4:
                self.lines = lineno
                self._short_line(line)
                continue
            metric, time, token, rest = parts
            try:
                value = float(token)
            except ValueError:
                value = float("nan")
            if value - value != 0.0:
                raise InputDataError(self.path, f"line {lineno}: bad metric_value {_text(token)!r}")
            if time != last_time:
                last_time = time
                self.lines = lineno
                self._note_time(time)
            sinks = routes.get(metric)
            sink = sinks.get(rest) if sinks is not None else None
            if sink is None:
                self.lines = lineno
                sink = self._route(metric, rest)
            sink(value)
        self.lines = first + len(block)

    def _short_line(self, line: bytes) -> None:
        if line.strip():
            raise InputDataError(
                self.path, f"line {self.lines}: expected {len(self._columns) + 3} CSV columns"
            )

    def _note_time(self, time: bytes) -> None:
        try:
            self.aggregator.note_time(time)
        except TimestampError as exc:
            raise InputDataError(self.path, f"line {self.lines}: {exc}") from exc

    def _route(self, metric: bytes, rest: bytes) -> Sink:
        name = _text(metric)
        if not name or name.startswith('"'):
            raise InputDataError(self.path, f"line {self.lines}: bad metric_name {name!r}")
        sink = self.aggregator.sink(name, self._tags(rest))
        if self._count >= _MAX_ROUTES:
            self._routes.clear()
            self._count = 0
        self._routes.setdefault(metric, {})[rest] = sink
        self._count += 1
        return sink

    def _tags(self, rest: bytes) -> dict[str, str]:
        if rest.count(b'"') % 2:
            raise InputDataError(self.path, f"line {self.lines}: CSV cells spanning lines are not supported")
        try:
            cells = next(csv.reader([rest.decode("utf-8", "replace").rstrip("\r\n")]))
        except csv.Error as exc:  # e.g. a carriage return inside an unquoted cell
            raise InputDataError(self.path, f"line {self.lines}: not CSV ({exc})") from None
        if len(cells) != len(self._columns):
            raise InputDataError(
                self.path, f"line {self.lines}: expected {len(self._columns) + 3} CSV columns"
            )
        tags: dict[str, str] = {}
        for column, cell in zip(self._columns, cells, strict=True):
            if column == "extra_tags":
                for pair in filter(None, cell.split("&")):
                    key, _, value = pair.partition("=")
                    tags[key] = value
            elif column != "metadata" and cell:
                tags[column] = cell
        return tags


def _text(cell: bytes) -> str:
    return cell[:40].decode("utf-8", "replace")
