"""A per-scenario index of the history folder: one file read instead of one JSON parse per run.

`<scenario>/.runs-index` (beside `runs/`, not in it, so nothing takes it for a run) holds
each run file's parsed `StoredRun` keyed by file name with the file's inode, size and mtime_ns.
It is a cache, never trusted blindly: an entry is reused only for a regular file (not a symlink)
whose name, inode, size and mtime_ns all match and whose run id and scenario agree with its name
and folder; every other file goes through the normal hardened reader. Files added, removed or
edited by hand are therefore picked up, a corrupt index is ignored and rewritten, and because the
index is rebuilt from the directory listing on every read, racing writers cannot lose a run (an
older index written last is just stale next time). `record` does not touch it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from perfgate.adapters.atomic import write_atomic
from perfgate.models import StoredRun
from perfgate.models.base import Strict

INDEX_NAME = ".runs-index"


class IndexEntry(Strict):
    inode: int
    size: int
    mtime_ns: int
    run: StoredRun


class HistoryIndex(Strict):
    version: Literal[1] = 1
    entries: dict[str, IndexEntry]


def _read(path: Path) -> dict[str, IndexEntry]:
    try:
        return dict(HistoryIndex.model_validate_json(path.read_bytes()).entries)
    except (OSError, ValueError, ValidationError):
        return {}


def _reusable(entry: IndexEntry, info: os.stat_result, path: Path, scenario: str) -> bool:
    return (
        stat.S_ISREG(info.st_mode)
        and (entry.inode, entry.size, entry.mtime_ns) == (info.st_ino, info.st_size, info.st_mtime_ns)
        and entry.run.run_id == path.stem
        and entry.run.scenario == scenario
    )


def indexed_runs(
    directory: Path, paths: list[Path], scenario: str, load: Callable[[Path], StoredRun], *, use: bool = True
) -> list[StoredRun]:
    """The runs in `paths` (unordered), from the index where it is current, else through `load`.

    `use=False` (a folder reached through a symlink out of the history): no index read or written.
    """
    if not use:
        return [load(path) for path in paths]
    old = _read(directory.parent / INDEX_NAME)
    fresh: dict[str, IndexEntry] = {}
    runs: list[StoredRun] = []
    for path in paths:
        info = path.lstat()
        entry = old.get(path.name)
        if entry is None or not _reusable(entry, info, path, scenario):
            run = load(path)
            entry = IndexEntry(inode=info.st_ino, size=info.st_size, mtime_ns=info.st_mtime_ns, run=run)
        fresh[path.name] = entry
        runs.append(entry.run)
    if fresh != old:
        with contextlib.suppress(OSError):  # a read-only history is still read, only slower
            write_atomic(
                directory.parent / INDEX_NAME, HistoryIndex(entries=fresh).model_dump_json().encode()
            )
    return runs
