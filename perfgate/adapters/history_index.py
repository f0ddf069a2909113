"""A per-scenario index of the history folder: one small file read instead of one JSON parse per run.

`<scenario>/.perfgate-cache/runs-index` holds, per run file, keyed by file name with the file's
inode, size and mtime_ns:
- the run's *head* (`RunHead`: what choosing the comparable runs reads),
- its metric values (and `CONTEXT_FIELDS` of its context), as one row of a float matrix whose
  columns are (metric key, stat),
- its *summary* (`summarize`: the stored run without what no reader of the history uses — its
  checks, its threshold expressions and its resource samples) as zlib-compressed JSON text,
  parsed only on demand.

The file is one line of JSON (the heads and keys, one list per field), a newline, the matrix
(little-endian float64, one row per run), then the compressed summaries one after another. So the
gate reads 5,000 runs' heads and values in a few tens of milliseconds and builds full summaries
only for the newest runs its windows read (`IndexedHistory`); heal, trend and the HTML charts
build them all.

The folder carries its own `.gitignore` (`*`), so the cache is never committed, and it sits beside
`runs/`, not in it, so nothing takes it for a run. It is a cache, never trusted blindly: an entry
is reused only for a regular file (not a symlink) whose name, inode, size and mtime_ns all match,
in the scenario the index was written for; every other file goes through the normal hardened
reader. Files added, removed or edited by hand are therefore picked up, a corrupt index (or
summary text) is ignored and rebuilt, and because the index is rebuilt from the directory listing
on every read, racing writers cannot lose a run (an older index written last is just stale next
time). `record` does not touch it; it is written only when an entry changed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import AwareDatetime, ValidationError

from perfgate.adapters.atomic import write_atomic
from perfgate.adapters.indexed_history import Column, IndexedHistory, Matrix, values_row
from perfgate.models import RunHead, StoredRun
from perfgate.models.base import Strict
from perfgate.models.verdict import VerdictKind

CACHE_DIR = ".perfgate-cache"
INDEX_NAME = "runs-index"
OLD_INDEX_NAME = ".runs-index"  # perfgate 0.x kept whole runs there, beside runs/
_GITIGNORE = "# perfgate's local cache of the history (rebuilt on demand): never commit it\n*\n"
Loader = Callable[[Path], StoredRun]


class IndexHeader(Strict):
    """The index's first line: one list per field, one item per run file, in the same order."""

    version: Literal[4]  # an older index is refused, then rebuilt (4: context columns)
    scenario: str
    columns: list[Column]  # (metric key, stat) of the value matrix's columns
    files: list[str]
    inode: list[int]
    size: list[int]
    mtime_ns: list[int]
    recorded_at: list[AwareDatetime]
    fingerprint: list[str | None]
    verdict: list[VerdictKind | None]
    valid: list[bool]
    commit: list[str | None]
    vus_max: list[int | None]
    text_bytes: list[int]  # each compressed summary's length in the body, after the matrix


class _Entries:
    """The index being assembled, one item per run file, in directory order."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.keys: list[tuple[int, int, int]] = []
        self.heads: list[RunHead] = []
        self.texts: list[bytes | memoryview] = []
        self.paths: list[Path] = []
        self.reused: tuple[list[int], list[int]] = ([], [])  # (position here, row in the old matrix)
        self.fresh: dict[int, tuple[StoredRun, dict[Column, float]]] = {}

    def add(self, path: Path, key: tuple[int, int, int], head: RunHead, text: bytes | memoryview) -> int:
        self.files.append(path.name)
        self.keys.append(key)
        self.heads.append(head)
        self.texts.append(text)
        self.paths.append(path)
        return len(self.files) - 1

    def reorder(self, order: list[int]) -> None:
        """Put the entries in `order` (old positions, new order)."""
        moved = {old: new for new, old in enumerate(order)}
        for name in ("files", "keys", "heads", "texts", "paths"):
            items = getattr(self, name)
            setattr(self, name, [items[i] for i in order])
        self.reused = ([moved[i] for i in self.reused[0]], self.reused[1])
        self.fresh = {moved[i]: item for i, item in self.fresh.items()}


def index_path(scenario_dir: Path) -> Path:
    return scenario_dir / CACHE_DIR / INDEX_NAME


def summarize(run: StoredRun) -> StoredRun:
    """The run as the history's readers use it: without checks, threshold expressions or samples.

    The gate, the reports' history charts, heal, trend, `history list` and capacity read metric
    values, context, fingerprint, runner evidence, resource means and stages; `history show` and
    prune read the run file itself.
    """
    record = run.record
    metrics = {
        key: series.model_copy(update={"thresholds": []}) if series.thresholds else series
        for key, series in record.metrics.items()
    }
    resources = record.resources
    if resources is not None and resources.samples:
        resources = resources.model_copy(update={"samples": []})
    slim = record.model_copy(update={"metrics": metrics, "checks": [], "resources": resources})
    return run.model_copy(update={"record": slim})


class _Stored:
    """A parsed index file: its header, its summaries' bytes and its value matrix."""

    def __init__(self, header: IndexHeader, body: memoryview, matrix: Matrix) -> None:
        self.header = header
        self.matrix = matrix
        self.texts: list[memoryview] = []
        self.position = {name: i for i, name in enumerate(header.files)}
        start = 0
        for length in header.text_bytes:
            self.texts.append(body[start : start + length])
            start += length

    def key(self, i: int) -> tuple[int, int, int]:
        return self.header.inode[i], self.header.size[i], self.header.mtime_ns[i]

    def head(self, i: int) -> RunHead:
        h = self.header
        run_id = h.files[i].removesuffix(".json")
        return RunHead(
            run_id, h.recorded_at[i], h.fingerprint[i], h.verdict[i], h.valid[i], h.commit[i], h.vus_max[i]
        )


def _read(path: Path, scenario: str) -> _Stored | None:
    try:
        raw = path.read_bytes()
        first, _, body = raw.partition(b"\n")
        header = IndexHeader.model_validate_json(first)
    except (OSError, ValueError, ValidationError):
        return None
    n = len(header.files)
    matrix_bytes = n * len(header.columns) * 8
    per_run = (header.inode, header.size, header.mtime_ns, header.recorded_at, header.fingerprint)
    more = (header.verdict, header.valid, header.commit, header.vus_max, header.text_bytes)
    if (
        header.scenario != scenario
        or any(len(column) != n for column in (*per_run, *more))
        or min(header.text_bytes, default=0) < 0
        or matrix_bytes + sum(header.text_bytes) != len(body)
    ):
        return None
    values = np.frombuffer(body, dtype="<f8", count=n * len(header.columns))
    return _Stored(header, memoryview(body)[matrix_bytes:], values.reshape(n, len(header.columns)))


def _key(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_ino, info.st_size, info.st_mtime_ns


def indexed_history(
    directory: Path, paths: list[Path], scenario: str, load: Loader, *, cache: bool = True
) -> IndexedHistory:
    """The runs in `paths` (`IndexedHistory`, oldest first), from the index where it is current, else
    loaded through `load` and summarized; the index is rewritten when any entry changed.
    `cache=False`: every run loaded through `load`, no index read or written."""
    scenario_dir = directory.parent
    old = _read(index_path(scenario_dir), scenario) if cache else None
    entries = _Entries()
    for path in paths:
        info = path.lstat()
        at = old.position.get(path.name) if old is not None else None
        if old is not None and at is not None and stat.S_ISREG(info.st_mode) and _key(info) == old.key(at):
            entries.reused[1].append(at)
            entries.reused[0].append(entries.add(path, _key(info), old.head(at), old.texts[at]))
            continue
        summary = summarize(load(path))
        text = zlib.compress(summary.model_dump_json(exclude_defaults=True).encode())
        entries.fresh[entries.add(path, _key(info), summary.head(), text)] = (summary, values_row(summary))
    heads = entries.heads
    entries.reorder(sorted(range(len(heads)), key=lambda i: (heads[i].recorded_at, heads[i].run_id)))
    columns, matrix = _matrix(entries, old)
    if cache and (entries.fresh or old is None or len(old.header.files) != len(paths)):
        with contextlib.suppress(OSError):  # a read-only history is still read, only slower
            save_index(scenario_dir, _encode(scenario, entries, columns, matrix))
    built = {i: summary for i, (summary, _) in entries.fresh.items()}
    read = lambda path: summarize(load(path))  # noqa: E731
    return IndexedHistory(entries.heads, columns, matrix, entries.texts, entries.paths, read, built)


def _matrix(entries: _Entries, old: _Stored | None) -> tuple[list[Column], Matrix]:
    """The entries' values: the reused rows copied from the old matrix, the fresh ones filled in;
    a column new to the index is added at the end."""
    columns = list(old.header.columns) if old is not None else []
    seen = set(columns)
    for _, row in entries.fresh.values():
        new = [column for column in row if column not in seen]
        columns += new
        seen.update(new)
    matrix = np.full((len(entries.files), len(columns)), np.nan)
    if old is not None and entries.reused[0]:
        matrix[np.array(entries.reused[0]), : len(old.header.columns)] = old.matrix[
            np.array(entries.reused[1])
        ]
    at = {column: j for j, column in enumerate(columns)}
    for i, (_, row) in entries.fresh.items():
        for column, value in row.items():
            matrix[i, at[column]] = value
    return columns, matrix


def _encode(scenario: str, entries: _Entries, columns: list[Column], matrix: Matrix) -> bytes:
    heads = entries.heads
    header = IndexHeader(
        version=4,
        scenario=scenario,
        columns=columns,
        files=entries.files,
        inode=[key[0] for key in entries.keys],
        size=[key[1] for key in entries.keys],
        mtime_ns=[key[2] for key in entries.keys],
        recorded_at=[head.recorded_at for head in heads],
        fingerprint=[head.fingerprint for head in heads],
        verdict=[head.verdict for head in heads],
        valid=[head.valid for head in heads],
        commit=[head.commit for head in heads],
        vus_max=[head.vus_max for head in heads],
        text_bytes=[len(text) for text in entries.texts],
    )
    values = np.ascontiguousarray(matrix, dtype="<f8").tobytes()
    return b"".join([header.model_dump_json().encode(), b"\n", values, *entries.texts])


def save_index(scenario_dir: Path, payload: bytes) -> None:
    cache = scenario_dir / CACHE_DIR
    cache.mkdir(exist_ok=True)
    if not (cache / ".gitignore").is_file():
        write_atomic(cache / ".gitignore", _GITIGNORE.encode())
    write_atomic(cache / INDEX_NAME, payload)
    (scenario_dir / OLD_INDEX_NAME).unlink(missing_ok=True)


def drop_index(scenario_dir: Path) -> None:
    """Forget the cache (prune: no copy of a pruned run survives)."""
    index_path(scenario_dir).unlink(missing_ok=True)
    (scenario_dir / OLD_INDEX_NAME).unlink(missing_ok=True)
