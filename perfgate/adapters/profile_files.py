"""Files of `perfgate profile`: a temporary spool of sessions (so memory stays flat however long the
logs are), assignments.csv streamed to a temporary name, and the output files written atomically.

    with SessionSpool() as spool:
        spool.append(row)            # any JSON-able list
        for batch in spool.batches(5000): ...
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from perfgate.errors import InputDataError, SchemaVersionError, UsageError
from perfgate.models.profile import PROFILE_SCHEMA_VERSION, TrafficProfile

PROFILE_JSON = "profile.json"
SCRIPT_JS = "loadtest.js"
PROFILE_YAML = "profile.yaml"
ASSIGNMENTS_CSV = "assignments.csv"
REPORT_HTML = "profile.html"


class SessionSpool:
    def __init__(self) -> None:
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def append(self, row: Sequence[Any]) -> None:
        self._file.write(json.dumps(row, separators=(",", ":")))
        self._file.write("\n")
        self.count += 1

    def batches(self, size: int) -> Iterator[list[list[Any]]]:
        self._file.flush()
        self._file.seek(0)
        batch: list[list[Any]] = []
        for line in self._file:
            batch.append(json.loads(line))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def __enter__(self) -> SessionSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._file.close()


def prepare_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)


class AssignmentsWriter:
    """assignments.csv (`session,client,persona`), written under a temporary name until `commit`."""

    def __init__(self, out: Path) -> None:
        self.path = out / ASSIGNMENTS_CSV
        self._tmp = out / f".{ASSIGNMENTS_CSV}.tmp"
        self._file = self._tmp.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(["session", "client", "persona"])

    def write(self, session: str, client: str, persona: str) -> None:
        self._csv.writerow([session, client, persona])

    def commit(self) -> Path:
        self._file.close()
        self._tmp.replace(self.path)
        return self.path

    def discard(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write atomically (temporary file in the same directory, then rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(tmp).chmod(0o644)
    Path(tmp).replace(path)
    return path


def load_traffic_profile(directory: Path) -> TrafficProfile:
    path = directory / PROFILE_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(path, f"cannot read the profile: {exc}") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > PROFILE_SCHEMA_VERSION:
        raise SchemaVersionError(path, f"schema_version {version} is newer than this perfgate reads")
    try:
        return TrafficProfile.model_validate(data)
    except ValueError as exc:
        raise InputDataError(path, f"not a perfgate traffic profile: {str(exc).splitlines()[0]}") from exc
