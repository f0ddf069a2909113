"""A compose project as a target: `docker compose -p NAME -f FILE up --build --detach --wait`, then `down`.

The project name keeps two copies of one compose file apart (base and head); the caller passes
the host port in the environment (`PERFGATE_PORT`) for the file to publish its service on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from perfgate.errors import ExternalError, ToolNotFoundError

_UP_TIMEOUT_S = 900.0
_DOWN_TIMEOUT_S = 120.0


def _compose(docker: str, file: Path, project: str, *args: str) -> list[str]:
    return [docker, "compose", "--project-name", project, "--file", str(file), *args]


@contextmanager
def compose_up(file: Path, project: str, env: Mapping[str, str], log_path: Path) -> Iterator[None]:
    """Start the project (build, wait for healthy), yield, then take it down with its volumes."""
    docker = shutil.which("docker")
    if docker is None:
        raise ToolNotFoundError("docker not found on PATH (needed for target: compose)")
    environment = {**os.environ, **env}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        try:
            up = subprocess.run(
                _compose(docker, file, project, "up", "--build", "--detach", "--wait"),
                cwd=file.parent, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                timeout=_UP_TIMEOUT_S, check=False,
            )  # fmt: skip
            if up.returncode != 0:
                raise ExternalError(
                    f"docker compose up ({project}) failed (exit {up.returncode}); see {log_path}"
                )
            yield
        finally:
            subprocess.run(
                _compose(docker, file, project, "down", "--volumes"),
                cwd=file.parent, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                timeout=_DOWN_TIMEOUT_S, check=False,
            )  # fmt: skip
