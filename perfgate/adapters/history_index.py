"""A per-scenario index of the history folder: one small file read instead of one JSON parse per run.

`<scenario>/.perfgate-cache/runs-index` holds, per run file, the run's *summary* (`summarize`:
the stored run without what no reader of the history uses — its checks, its threshold
expressions and its resource samples; every metric value, the context, fingerprint, runner
evidence, resource means and stages stay) keyed by file name with the file's inode, size and
mtime_ns. The folder carries its own `.gitignore` (`*`), so the cache is never committed, and it
sits beside `runs/`, not in it, so nothing takes it for a run.

It is a cache, never trusted blindly: an entry is reused only for a regular file (not a symlink)
whose name, inode, size and mtime_ns all match and whose run id and scenario agree with its name
and folder; every other file goes through the normal hardened reader. Files added, removed or
edited by hand are therefore picked up, a corrupt index is ignored and rewritten, and because the
index is rebuilt from the directory listing on every read, racing writers cannot lose a run (an
older index written last is just stale next time). `record` does not touch it; it is written only
when an entry changed.
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

CACHE_DIR = ".perfgate-cache"
INDEX_NAME = "runs-index"
OLD_INDEX_NAME = ".runs-index"  # perfgate 0.x kept whole runs there, beside runs/
_GITIGNORE = "# perfgate's local cache of the history (rebuilt on demand): never commit it\n*\n"


class IndexEntry(Strict):
    inode: int
    size: int
    mtime_ns: int
    run: StoredRun  # the summary (`summarize`)


class HistoryIndex(Strict):
    version: Literal[2]  # no default: written even with exclude_defaults, so an older index is refused
    entries: dict[str, IndexEntry]


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


def indexed_summaries(
    directory: Path, paths: list[Path], scenario: str, load: Callable[[Path], StoredRun]
) -> list[StoredRun]:
    """The summaries of the runs in `paths` (unordered), from the index where it is current, else
    loaded through `load` and summarized; the index is rewritten when any entry changed."""
    scenario_dir = directory.parent
    old = _read(index_path(scenario_dir))
    fresh: dict[str, IndexEntry] = {}
    changed = len(old) != len(paths)
    for path in paths:
        info = path.lstat()
        entry = old.get(path.name)
        if entry is None or not _reusable(entry, info, path, scenario):
            summary = summarize(load(path))
            entry = IndexEntry(inode=info.st_ino, size=info.st_size, mtime_ns=info.st_mtime_ns, run=summary)
            changed = True
        fresh[path.name] = entry
    if changed:
        with contextlib.suppress(OSError):  # a read-only history is still read, only slower
            save_index(scenario_dir, HistoryIndex(version=2, entries=fresh))
    return [entry.run for entry in fresh.values()]


def save_index(scenario_dir: Path, index: HistoryIndex) -> None:
    cache = scenario_dir / CACHE_DIR
    cache.mkdir(exist_ok=True)
    if not (cache / ".gitignore").is_file():
        write_atomic(cache / ".gitignore", _GITIGNORE.encode())
    write_atomic(cache / INDEX_NAME, index.model_dump_json(exclude_defaults=True).encode())
    (scenario_dir / OLD_INDEX_NAME).unlink(missing_ok=True)


def drop_index(scenario_dir: Path) -> None:
    """Forget the cache (prune: no copy of a pruned run survives)."""
    index_path(scenario_dir).unlink(missing_ok=True)
    (scenario_dir / OLD_INDEX_NAME).unlink(missing_ok=True)
