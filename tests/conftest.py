"""Shared fixtures.

clean_env (autouse): every test starts without PERFGATE_*, NO_COLOR, OPENAI_* and GITHUB_* in the
environment, so a developer's settings never change a result; a test sets what it needs.

world: a real git world (bare remote + clones, fixed identity and dates) in tmp_path.
fake_github / github: the strict GitHub fake (`fake_github.FakeGitHub`, which knows the world's
branches) and a real `GitHubClient` talking to it through httpx.MockTransport.

notes_server / notes_server_factory: the real notes API (target_app) under gunicorn on
127.0.0.1, a free port and a fresh SQLite file per server; always stopped at teardown.

    def test_x(notes_server): urlopen(notes_server.base_url + "/healthz")

    @pytest.mark.parametrize("notes_server", [{"NOTES_FAULT_LATENCY_MS": "search_notes=25"}],
                             indirect=True)
    def test_y(notes_server): ...

    def test_z(notes_server_factory):
        slow = notes_server_factory(NOTES_FAULT_ERROR_RATE="update_note=0.5", NOTES_FAULT_SEED="1")

Do not inject faults into `healthz`: the fixture waits for it to answer 200.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from fake_github import FakeGitHub
from git_world import GitWorld
from hypothesis import settings

from perfgate.adapters.github import GitHubClient

REPO_ROOT = Path(__file__).resolve().parent.parent

# Property tests explore new examples on every local run; in CI (CI=true) they replay a fixed
# sequence, so a submission's result does not depend on the draw.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
GUNICORN_CONF = REPO_ROOT / "target_app" / "gunicorn.conf.py"
_START_TIMEOUT_S = 20.0
_STOP_GRACE_S = 10.0
_START_ATTEMPTS = 3  # a free port can be taken between choosing it and gunicorn binding it


class NotesServer:
    """A running gunicorn serving target_app. `pid` is the gunicorn master."""

    def __init__(self, process: subprocess.Popen[bytes], log: IO[bytes], port: int, workdir: Path) -> None:
        self.process = process
        self.pid = process.pid
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.db_path = workdir / "notes.db"
        self.stderr_path = workdir / "gunicorn.stderr.log"
        self._log = log

    def read_stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> int | None:
        """SIGTERM the master and wait; SIGKILL the process group if it lingers. Idempotent."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):  # then SIGKILL below
                self.process.wait(timeout=_STOP_GRACE_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # workers orphaned by a crashed master
        self.process.wait()
        self._log.close()
        return self.process.returncode


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health_status(port: int) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _wait_healthy(server: NotesServer) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return  # exited: the caller reads stderr
        if _health_status(server.port) == 200:
            return
        time.sleep(0.05)
    server.stop()
    raise TimeoutError(f"notes server not healthy after {_START_TIMEOUT_S} s:\n{server.read_stderr()}")


def _launch(workdir: Path, env: dict[str, str]) -> NotesServer:
    port = _free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTES_", "GUNICORN_"))}
    full_env |= {"NOTES_BIND": f"127.0.0.1:{port}", "NOTES_DB_PATH": str(workdir / "notes.db")}
    full_env |= env
    log = (workdir / "gunicorn.stderr.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
        cwd=REPO_ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group, so teardown can reach the workers
    )
    return NotesServer(process, log, port, workdir)


@pytest.fixture
def notes_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., NotesServer]]:
    """Start servers with extra NOTES_* env (keyword arguments); all are stopped at teardown."""
    started: list[NotesServer] = []

    def start(**env: str) -> NotesServer:
        for _attempt in range(_START_ATTEMPTS):
            server = _launch(tmp_path_factory.mktemp("notes_server"), env)
            started.append(server)
            _wait_healthy(server)
            if server.process.poll() is None:
                return server
            server.stop()
            if "Address already in use" not in server.read_stderr():
                break
        raise RuntimeError(f"notes server exited with {server.process.returncode}:\n{server.read_stderr()}")

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture
def notes_server(
    request: pytest.FixtureRequest, notes_server_factory: Callable[..., NotesServer]
) -> NotesServer:
    """One server; parametrize indirectly with a dict of NOTES_* env to configure it."""
    env: dict[str, str] = getattr(request, "param", None) or {}
    return notes_server_factory(**env)


_ENV_PREFIXES = ("PERFGATE_", "OPENAI_", "GITHUB_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name == "NO_COLOR":
            monkeypatch.delenv(name)


@pytest.fixture
def world(tmp_path: Path) -> GitWorld:
    return GitWorld.create(tmp_path)


@pytest.fixture
def fake_github(world: GitWorld) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(branch_exists=lambda b: bool(world.git(world.remote, "branch", "--list", b)))
    yield fake
    fake.assert_clean()


@pytest.fixture
def github(fake_github: FakeGitHub) -> Iterator[GitHubClient]:
    with fake_github.client() as http:
        yield GitHubClient(http, fake_github.repository, sleep=fake_github.sleeps.append)
