"""The system under test: start it as a local process group, or wait for one started elsewhere.

    with start_target(["gunicorn", "-c", "target_app/gunicorn.conf.py", "target_app.wsgi:app"],
                      health_url="http://127.0.0.1:8000/healthz", env={...}, cwd=repo,
                      timeout_s=30, log_path=run_dir / "target.log") as target:
        ...  # target.pid is the process-group leader (for ResourceSampler)

The process gets its own session, so stopping it (SIGTERM to the group, then SIGKILL after a
grace period) also stops workers it forked. The command is an argument list, never a shell line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from perfgate.errors import ExternalError, UsageError

_POLL_S = 0.1
_STOP_GRACE_S = 10.0
_LOG_TAIL_LINES = 5


class RunningTarget:
    """A started target process group; a context manager that stops it on exit."""

    def __init__(self, process: subprocess.Popen[bytes], log: IO[bytes], log_path: Path) -> None:
        self.process = process
        self.log_path = log_path
        self._log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, grace_s: float = _STOP_GRACE_S) -> int:
        """SIGTERM the process group, wait up to `grace_s`, then SIGKILL it. Returns the exit code."""
        try:
            if self.process.poll() is None:
                _signal_group(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    _signal_group(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            # Workers may outlive a leader that exited on its own.
            _signal_group(self.process.pid, signal.SIGKILL)
        finally:
            self._log.close()
        return self.process.returncode

    def __enter__(self) -> RunningTarget:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def start_target(
    command: Sequence[str],
    *,
    health_url: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 30.0,
    log_path: Path,
) -> RunningTarget:
    """Start `command` in a new session, logging to `log_path`, and wait until `health_url` is 200.

    `env` is added to the current environment. On a failed start the group is killed and
    `ExternalError` names the URL and the last lines of the log.
    """
    if not command:
        raise UsageError("the target command is empty")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        log.close()
        raise ExternalError(f"cannot start the target {command[0]!r}: {exc.strerror or exc}") from exc
    target = RunningTarget(process, log, log_path)
    try:
        _wait_healthy(health_url, timeout_s, process, log_path)
    except BaseException:
        target.stop(grace_s=2.0)
        raise
    return target


def wait_for_health(url: str, timeout_s: float) -> None:
    """Poll `url` (a target started elsewhere) until it answers 200; `ExternalError` after `timeout_s`."""
    _wait_healthy(url, timeout_s, None, None)


def _wait_healthy(
    url: str, timeout_s: float, process: subprocess.Popen[bytes] | None, log_path: Path | None
) -> None:
    _check_url(url)
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise _health_error(url, f"the target exited with code {process.returncode}", log_path)
        last = _probe(url, timeout_s=min(2.0, max(timeout_s, 0.1)))
        if last == "200":
            return
        if time.monotonic() >= deadline:
            raise _health_error(url, f"not healthy after {timeout_s:g} s (last: {last})", log_path)
        time.sleep(_POLL_S)


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"health URL must start with http:// or https://, got {url!r}")


def _probe(url: str, *, timeout_s: float) -> str:
    """'200', another status code, or the connection error, as text."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (scheme checked)
            return str(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return str(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{type(reason).__name__}: {reason}"


def _health_error(url: str, problem: str, log_path: Path | None) -> ExternalError:
    tail = _log_tail(log_path) if log_path is not None else ""
    return ExternalError(f"target health check {url}: {problem}" + (f"; log tail:\n{tail}" if tail else ""))


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (the OS picks it; a race with other programs is possible)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
