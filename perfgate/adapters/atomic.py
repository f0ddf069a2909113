"""The one atomic file writer: a temp file in the same folder, fsync, `os.replace`, fsync the folder.

A crash leaves the whole old file or the whole new one, never a torn one; a leftover `.NAME.*.tmp`
is ignored by every reader. The new file keeps the old one's permissions (0644 for a new file:
mkstemp's 0600 would hide history files shared through git).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, payload: bytes, *, create: bool = False) -> None:
    """Whole file or none. `create=True`: only if `path` does not exist yet, decided atomically
    (`os.link` of the finished temp file fails with `FileExistsError` when another writer won)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o644
        temp.chmod(mode)
        if create:
            os.link(temp, path)
            temp.unlink()
        else:
            temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink durable. Platforms that cannot open directories skip it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)
