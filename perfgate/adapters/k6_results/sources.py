"""Opening a result file (plain or gzip, told by magic bytes) and telling its format.

Every problem becomes `InputDataError(path, "<one line>")`; nothing here raises past it.
"""

from __future__ import annotations

import codecs
import gc
import gzip
import itertools
import json
import queue
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from perfgate.adapters.json_text import parse_json
from perfgate.errors import InputDataError

GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 64 * 1024
BLOCK_BYTES = 1 << 20
READ_AHEAD = 4
MAX_LINE_BYTES = 64 << 20
CSV_HEAD = b"metric_name,timestamp,metric_value"
EXPECTED = (
    "expected a k6 summary (--summary-export, handleSummary JSON, machine-readable summary),"
    " NDJSON (--out json) or CSV (--out csv)"
)
M = TypeVar("M", bound=BaseModel)
_HEADER_LIKE = re.compile(rb"^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)+\s*$")
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 32))


class ByteStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class RawFormat(Enum):
    DOCUMENT = "json document"
    NDJSON = "ndjson"
    CSV = "csv"


@contextmanager
def open_stream(path: Path) -> Iterator[ByteStream]:
    """The file's bytes, decompressed when it starts with the gzip magic."""
    try:
        with path.open("rb") as raw:
            if raw.read(2) == GZIP_MAGIC:
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    yield unzipped
            else:
                raw.seek(0)
                yield raw
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputDataError(path, f"corrupt or truncated gzip data ({exc})") from exc
    except OSError as exc:
        raise InputDataError(path, f"cannot read: {exc.strerror or exc}") from exc


def iter_line_blocks(path: Path, stream: ByteStream) -> Iterator[list[bytes]]:
    """Lines (without `\\n`) in blocks of about a megabyte; memory stays flat."""
    pending = b""
    while chunk := stream.read(BLOCK_BYTES):
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        if len(pending) > MAX_LINE_BYTES:
            raise InputDataError(path, f"a line longer than {MAX_LINE_BYTES >> 20} MB: not k6 raw output")
        if lines:
            yield lines
    if pending:
        yield [pending]


def iter_byte_blocks(
    path: Path,
    stream: ByteStream,
    *,
    pending: bytes = b"",
    reads: int | None = None,
    size: int = BLOCK_BYTES,
) -> Iterator[bytes]:
    """Whole lines in blocks of about a megabyte, without the last `\\n`; memory stays flat.

    A block ends at the last newline of each read of `size` bytes. One byte range of a longer
    reading: `pending` is the part of a line before the stream's position, and after `reads`
    reads the rest of the last line is left to the next range. Gzip is read ahead by a thread.
    """
    chunks = read_ahead(stream, size) if isinstance(stream, gzip.GzipFile) else _reads(stream, size)
    for chunk in chunks if reads is None else itertools.islice(chunks, reads):
        cut = chunk.rfind(b"\n")
        if cut < 0:
            pending += chunk
            if len(pending) > MAX_LINE_BYTES:
                raise InputDataError(path, f"a line longer than {MAX_LINE_BYTES >> 20} MB: not k6 raw output")
            continue
        block = pending + memoryview(chunk)[:cut]  # one copy of the read
        pending = bytes(memoryview(chunk)[cut + 1 :])
        yield block
    if pending and reads is None:
        yield pending


def _reads(stream: ByteStream, size: int) -> Iterator[bytes | bytearray]:
    """Reads of `size` bytes; into one reused buffer where the stream can (`readinto`: no new
    megabyte to allocate and fault in per read), each valid until the next."""
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        while chunk := stream.read(size):
            yield chunk
        return
    buffer = bytearray(size)
    while count := readinto(buffer):
        yield buffer if count == size else buffer[:count]


def read_ahead(stream: ByteStream, size: int) -> Iterator[bytes]:
    """Reads of `size` bytes made by a thread up to `READ_AHEAD` reads ahead: zlib inflates
    without the GIL, so gzip is decompressed while the caller parses. Errors reach the caller."""
    ahead: queue.Queue[bytes | Exception] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def fill() -> None:
        try:
            while not stop.is_set():
                chunk = stream.read(size)
                _offer(ahead, chunk, stop)
                if not chunk:
                    return
        except Exception as exc:  # handed to the caller, raised there
            _offer(ahead, exc, stop)

    thread = threading.Thread(target=fill, name="perfgate read-ahead", daemon=True)
    thread.start()
    try:
        while chunk := ahead.get():
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk
    finally:
        stop.set()
        thread.join()


def _offer(ahead: queue.Queue[bytes | Exception], item: bytes | Exception, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            ahead.put(item, timeout=0.05)
            return
        except queue.Full:
            continue


def sniff(path: Path) -> RawFormat:
    with open_stream(path) as stream:
        head = stream.read(SNIFF_BYTES)
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        raise InputDataError(path, "empty file")
    if any(byte in _CONTROL for byte in text[:4096]) or not _is_utf8(head):
        raise InputDataError(path, f"binary data, not a k6 result: {EXPECTED}")
    first_line = text.split(b"\n", 1)[0].strip()
    if first_line.startswith(b"{") and _is_ndjson_line(first_line):
        return RawFormat.NDJSON
    if text[:1] in (b"{", b"["):
        return RawFormat.DOCUMENT
    if first_line.startswith(b"metric_name,"):
        return RawFormat.CSV
    if _HEADER_LIKE.match(first_line):
        header = first_line[:60].decode("utf-8", "replace")
        raise InputDataError(
            path, f"not a k6 result: CSV header {header!r} is not k6's (expected {CSV_HEAD.decode()},...)"
        )
    raise InputDataError(path, f"not a k6 result: {EXPECTED}")


def load_document(path: Path) -> object:
    """A whole JSON document (`parse_json`: finite numbers, bounded depth, valid Unicode)."""
    with open_stream(path) as stream:
        data = stream.read()
    try:
        return parse_json(data.removeprefix(codecs.BOM_UTF8))
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(data.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        where = "truncated JSON" if at_end else "invalid JSON"
        raise InputDataError(path, f"{where}: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except ValueError as exc:
        raise InputDataError(path, f"invalid JSON: {exc}") from exc


def validate(path: Path, model: type[M], data: object, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputDataError(path, f"{what}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """The first problem of a validation error, on one line: `metrics.x.avg: msg`."""
    errors = exc.errors()
    places = {_place(error["loc"]) for error in errors}
    first = errors[0]
    where = _place(first["loc"])
    more = f" (+{len(places) - 1} more)" if len(places) > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


def _place(loc: tuple[int | str, ...]) -> str:
    """`metrics.x.count`, without pydantic's union branch labels (`float`, `dict[str,bool]`)."""
    return ".".join(str(part) for part in loc if part not in _BRANCHES and "[" not in str(part))


_BRANCHES = frozenset({"float", "int", "str", "bool", "dict", "list"})


def _is_ndjson_line(line: bytes) -> bool:
    try:
        first = parse_json(line)
    except ValueError:
        return False
    return isinstance(first, dict) and first.get("type") in ("Metric", "Point") and "metric" in first


def _is_utf8(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """No cycle collection while a block is split: its tuples are freed by reference counts."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
