"""Access logs in, `LogEntry` records out, streaming: Apache/nginx combined and common, JSON lines,
CSV; plain or gzip (by content); several files, read oldest first (by their first entry).

    reader = AccessLogReader([Path("access.log.gz")], fmt="auto")
    for entry in reader: ...
    reader.reports  # one FileReport per file: lines, parsed, malformed, first bad line numbers

Memory is flat: one line at a time. Malformed lines are counted, and the first few line numbers
kept. A file is refused (InputDataError, exit 3) only when most of it is unreadable: checked after
the first `_EARLY_CHECK` lines and again at its end, naming the file and the format expected.

JSON lines: field names are found among common spellings (`JSON_CANDIDATES`) or mapped with
`fields` (our name → the record's key; dots reach into nested objects). CSV needs a header with
timestamp and path (session_id, method, response_time_ms, status_code, user_agent optional).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from perfgate.adapters.access_log_lines import (
    COMBINED,
    COMMON,
    FIELDS,
    LogEntry,
    entry_from_record,
    parse_combined,
    parse_common,
    parse_json_line,
    resolve_fields,
)
from perfgate.errors import InputDataError, UsageError
from perfgate.models.profile import FileReport, LogFormat

__all__ = ["FIELDS", "AccessLogReader", "LogEntry", "detect_format"]

Progress = Callable[[int, int], None]
_FIRST_BAD = 5
_EARLY_CHECK = 2000
_SNIFF_LINES = 20
_PROGRESS_EVERY = 200_000
EXPECTED = {
    "combined": 'Apache/nginx combined: IP - - [17/May/2015:10:05:03 +0000] "GET /path HTTP/1.1" 200 123 "referrer" "agent"',
    "common": 'Apache/nginx common: IP - - [17/May/2015:10:05:03 +0000] "GET /path HTTP/1.1" 200 123',
    "jsonl": "JSON lines with a timestamp and a path (map other names with --field NAME=KEY)",
    "csv": "CSV with a header: session_id,timestamp,path,method,response_time_ms,status_code,user_agent",
}
_CSV_ALIASES = {"status_code": "status"}


def _open_text(path: Path) -> IO[str]:
    try:
        with path.open("rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        stream: IO[bytes] = gzip.open(path, "rb") if gz else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
    except OSError as exc:
        raise InputDataError(path, f"cannot read log: {exc.strerror or exc}") from exc
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def detect_format(path: Path) -> LogFormat:
    """The format of `path` from its first lines; InputDataError when none fits."""
    try:
        with _open_text(path) as text:
            lines = [line for line in (text.readline() for _ in range(_SNIFF_LINES)) if line.strip()]
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputDataError(path, f"cannot read log: {exc}") from exc
    if not lines:
        raise InputDataError(path, "empty log: no lines to read")
    first = lines[0].lstrip("\ufeff").strip()
    if first.startswith("{"):
        return "jsonl"
    header = {cell.strip().lower() for cell in first.split(",")}
    if {"timestamp", "path"} <= header:
        return "csv"
    combined = sum(1 for line in lines if COMBINED.match(line))
    common = sum(1 for line in lines if COMMON.match(line))
    if combined and combined >= common:
        return "combined"
    if common:
        return "common"
    formats = ", ".join(EXPECTED)
    raise InputDataError(path, f"not an access log this reads ({formats}); first line: {first[:80]!r}")


class _Tally:
    def __init__(self, path: Path, fmt: LogFormat) -> None:
        self.path, self.fmt = path, fmt
        self.lines = self.parsed = self.malformed = 0
        self.first_bad: list[int] = []

    def bad(self) -> None:
        self.malformed += 1
        if len(self.first_bad) < _FIRST_BAD:
            self.first_bad.append(self.lines)

    def check(self) -> None:
        if self.lines and self.malformed * 2 > self.lines:
            raise InputDataError(
                self.path,
                f"{self.malformed} of {self.lines} lines read are not {self.fmt} log lines "
                f"(first at lines {', '.join(map(str, self.first_bad))}); expected {EXPECTED[self.fmt]}",
            )

    def report(self) -> FileReport:
        return FileReport(
            path=str(self.path),
            format=self.fmt,
            lines=self.lines,
            parsed=self.parsed,
            malformed=self.malformed,
            first_malformed_lines=self.first_bad,
        )


class AccessLogReader:
    """Iterate the entries of several logs in order; `reports` fills in as files finish."""

    def __init__(
        self,
        paths: Sequence[Path],
        fmt: LogFormat | str = "auto",
        fields: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        unknown = sorted(set(fields or {}) - set(FIELDS))
        if unknown:
            raise UsageError(f"--field: unknown field {unknown[0]!r} (one of: {', '.join(FIELDS)})")
        self.fmt = fmt
        self.fields = dict(fields or {})
        self.paths = sorted(paths, key=self._first_time)
        self.progress = progress
        self.reports: list[FileReport] = []
        self.total_bytes = sum(path.stat().st_size for path in self.paths if path.is_file())
        self._done_bytes = 0

    def _first_time(self, path: Path) -> float:
        """The time of the file's first readable entry (files are read oldest first, whatever the
        order given: rotated logs are often listed newest first)."""
        fmt: LogFormat = detect_format(path) if self.fmt == "auto" else self.fmt  # type: ignore[assignment]
        with _open_text(path) as text:
            entries = (
                self._csv(text, _Tally(path, fmt)) if fmt == "csv" else self._lines(text, _Tally(path, fmt))
            )
            for entry, _ in zip(entries, range(_SNIFF_LINES), strict=False):
                return entry.ts
        return float("inf")

    def __iter__(self) -> Iterator[LogEntry]:
        for path in self.paths:
            fmt: LogFormat = detect_format(path) if self.fmt == "auto" else self.fmt  # type: ignore[assignment]
            tally = _Tally(path, fmt)
            yield from self._read(path, tally)
            tally.check()
            self.reports.append(tally.report())
            self._done_bytes += path.stat().st_size

    def _read(self, path: Path, tally: _Tally) -> Iterator[LogEntry]:
        try:
            with _open_text(path) as text:
                entries = self._csv(text, tally) if tally.fmt == "csv" else self._lines(text, tally)
                for entry in entries:
                    yield entry
                    if tally.lines % _PROGRESS_EVERY == 0:
                        self._report_progress(text)
                    if tally.lines == _EARLY_CHECK:
                        tally.check()
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputDataError(path, f"cannot read log at line {tally.lines}: {exc}") from exc

    def _report_progress(self, text: IO[str]) -> None:
        if self.progress is None:
            return
        stream = text.buffer  # type: ignore[attr-defined]
        raw = getattr(stream, "fileobj", stream)
        self.progress(self._done_bytes + raw.tell(), self.total_bytes)

    def _lines(self, text: IO[str], tally: _Tally) -> Iterator[LogEntry]:
        fields = self.fields
        parse: Callable[[str], LogEntry | None]
        if tally.fmt == "jsonl":
            parse = lambda line: parse_json_line(line, fields)  # noqa: E731
        else:
            parse = parse_combined if tally.fmt == "combined" else parse_common
        for line in text:
            tally.lines += 1
            if not line.strip():
                continue
            entry = parse(line)
            if entry is None:
                tally.bad()
                continue
            tally.parsed += 1
            yield entry

    def _csv(self, text: IO[str], tally: _Tally) -> Iterator[LogEntry]:
        rows = csv.reader(text)
        header = [cell.strip().lstrip("\ufeff").lower() for cell in next(rows, [])]
        tally.lines = 1
        named = [_CSV_ALIASES.get(cell, cell) for cell in header]
        fields = resolve_fields(dict.fromkeys(named), self.fields)
        for row in rows:
            tally.lines += 1
            entry = (
                entry_from_record(dict(zip(named, row, strict=False)), fields)
                if len(row) == len(named)
                else None
            )
            if entry is None:
                tally.bad()
                continue
            tally.parsed += 1
            yield entry
