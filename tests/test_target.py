"""Starting and stopping the target, health waits, and resource sampling."""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from perfgate.adapters.resources import (
    DockerStatsSampler,
    ResourceSampler,
    parse_docker_stats_line,
    summarize_samples,
)
from perfgate.adapters.target import start_target, wait_for_health
from perfgate.errors import ExternalError, UsageError

PY = sys.executable

# A server that first forks a long-sleeping child (written to child.pid), like a gunicorn master.
SERVER_WITH_CHILD = """
import subprocess, sys, http.server
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open("child.pid", "w").write(str(child.pid))
print("serving", flush=True)
http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind="127.0.0.1")
"""

# Two busy-looping grandchildren: even on a loaded 2-core box the tree gets well over half a core.
BUSY_TREE = """
import subprocess, sys
busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
busy[0].wait()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


@pytest.fixture
def busy_tree() -> Iterator[psutil.Popen]:
    process = psutil.Popen([PY, "-c", BUSY_TREE])
    try:
        yield process
    finally:
        for child in process.children(recursive=True):
            child.kill()
        process.kill()
        process.wait()


def test_start_target_waits_for_health_and_stop_kills_the_group(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "target.log"
    url = f"http://127.0.0.1:{port}/"
    with start_target(
        [PY, "-c", SERVER_WITH_CHILD, str(port)], health_url=url, cwd=tmp_path, timeout_s=20, log_path=log
    ) as target:
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
        child = int((tmp_path / "child.pid").read_text())
        assert psutil.Process(child).ppid() == target.pid
        assert os.getpgid(child) == target.pid, "the target leads its own process group"
    assert target.process.returncode is not None
    assert wait_gone(child), "stopping the target kills its whole group"
    assert "serving" in log.read_text()


def test_env_reaches_the_target(tmp_path: Path) -> None:
    port = free_port()
    code = (
        "import os, sys, http.server\n"
        "print('marker', os.environ['PG_MARKER'], flush=True)\n"
        "http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind='127.0.0.1')"
    )
    log = tmp_path / "t.log"
    with start_target(
        [PY, "-c", code, str(port)],
        health_url=f"http://127.0.0.1:{port}/",
        env={"PG_MARKER": "xyzzy"},
        cwd=tmp_path,
        timeout_s=20,
        log_path=log,
    ):
        pass
    assert "marker xyzzy" in log.read_text()


def test_never_healthy_target_is_killed_and_the_error_shows_its_log(tmp_path: Path) -> None:
    port = free_port()
    code = "import time\nfor n in range(8): print('boot line', n, flush=True)\ntime.sleep(120)"
    log = tmp_path / "target.log"
    url = f"http://127.0.0.1:{port}/healthz"
    started = time.monotonic()
    with pytest.raises(ExternalError) as caught:
        start_target([PY, "-c", code], health_url=url, cwd=tmp_path, timeout_s=1.0, log_path=log)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert url in message and "not healthy after 1 s" in message
    assert "boot line 7" in message and "boot line 3" in message and "boot line 2" not in message
    pids = [proc for proc in psutil.Process().children(recursive=True) if code in " ".join(proc.cmdline())]
    assert pids == [], "the never-healthy target was killed"


def test_target_that_exits_is_reported_at_once(tmp_path: Path) -> None:
    code = "import sys\nprint('refusing to start: bad NOTES_BIND', flush=True)\nsys.exit(3)"
    started = time.monotonic()
    with pytest.raises(ExternalError, match=r"(?s)exited with code 3.*refusing to start") as caught:
        start_target(
            [PY, "-c", code],
            health_url=f"http://127.0.0.1:{free_port()}/",
            timeout_s=30,
            log_path=tmp_path / "t.log",
        )
    assert time.monotonic() - started < 10
    assert "bad NOTES_BIND" in str(caught.value)


def test_missing_command_is_external_error(tmp_path: Path) -> None:
    with pytest.raises(ExternalError, match="cannot start the target"):
        start_target(
            [str(tmp_path / "no-such-binary")],
            health_url="http://127.0.0.1:9/",
            timeout_s=1,
            log_path=tmp_path / "t.log",
        )


def test_wait_for_health_on_nothing_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/healthz"
    with pytest.raises(ExternalError, match=r"not healthy after 0\.3 s \(last: .*Connection"):
        wait_for_health(url, 0.3)


def test_wait_for_health_refuses_other_schemes() -> None:
    with pytest.raises(UsageError, match="http://"):
        wait_for_health("file:///etc/passwd", 1)


def test_resource_sampler_sees_a_busy_child(busy_tree: psutil.Popen) -> None:
    sampler = ResourceSampler(busy_tree.pid, interval_s=0.4)
    sampler.start()
    time.sleep(2.1)
    usage = sampler.stop()
    assert usage.source == f"pid {busy_tree.pid} (+children)"
    assert len(usage.samples) >= 3
    assert usage.cpu_peak_percent is not None and usage.cpu_peak_percent > 50
    assert usage.rss_peak_mb is not None and usage.rss_peak_mb > 1
    assert [s.t_s for s in usage.samples] == sorted(s.t_s for s in usage.samples)


def test_resource_sampler_survives_the_process_ending() -> None:
    process = psutil.Popen([PY, "-c", "import time; time.sleep(0.4)"])
    sampler = ResourceSampler(process.pid, interval_s=0.2)
    sampler.start()
    process.wait()
    time.sleep(0.6)
    usage = sampler.stop()
    assert usage.interval_s == 0.2


def test_sampler_rejects_a_bad_interval() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        ResourceSampler(1, interval_s=0)


def test_summarize_samples_without_samples() -> None:
    usage = summarize_samples("pid 1 (+children)", 1.0, [])
    assert usage.samples == [] and usage.cpu_peak_percent is None


# Real `docker stats --no-stream --format '{{json .}}'` lines (Docker 24-27 field set).
DOCKER_LINES = [
    '{"BlockIO":"0B / 0B","CPUPerc":"12.34%","Container":"notes","ID":"4f1c2a","MemPerc":"1.23%",'
    '"MemUsage":"24.5MiB / 1.944GiB","Name":"notes","NetIO":"1.2kB / 0B","PIDs":"5"}',
    '{"BlockIO":"0B / 0B","CPUPerc":"150.00%","Container":"notes","ID":"4f1c2a","MemPerc":"2.5%",'
    '"MemUsage":"1.5GiB / 7.7GiB","Name":"notes","NetIO":"9MB / 3MB","PIDs":"9"}',
    '{"CPUPerc":"0.00%","MemUsage":"512KiB / 1GiB","Name":"notes"}',
    '{"CPUPerc":"0.50%","MemUsage":"40MB / 2GB","Name":"notes"}',
]


@pytest.mark.parametrize(
    ("line", "cpu", "mb"),
    [
        (DOCKER_LINES[0], 12.34, 24.5),
        (DOCKER_LINES[1], 150.0, 1536.0),
        (DOCKER_LINES[2], 0.0, 0.5),
        (DOCKER_LINES[3], 0.5, 40e6 / 2**20),
    ],
)
def test_parse_docker_stats_line(line: str, cpu: float, mb: float) -> None:
    assert parse_docker_stats_line(line) == pytest.approx((cpu, mb))


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        '{"CPUPerc":"--","MemUsage":"-- / --"}',
        '{"CPUPerc":"1%"}',
        '{"CPUPerc":"1%","MemUsage":"lots / 1GiB"}',
        "[]",
    ],
)
def test_parse_docker_stats_line_unreadable(line: str) -> None:
    assert parse_docker_stats_line(line) is None


def test_docker_stats_sampler_with_canned_output() -> None:
    calls: list[str] = []

    def read_stats(container: str) -> str:
        calls.append(container)
        return DOCKER_LINES[len(calls) % 2] + "\n"

    sampler = DockerStatsSampler("notes", interval_s=0.1, read_stats=read_stats)
    sampler.start()
    time.sleep(0.55)
    usage = sampler.stop()
    assert set(calls) == {"notes"} and len(calls) >= 3
    assert usage.source == "container notes"
    assert usage.cpu_peak_percent == 150.0
    assert usage.rss_peak_mb == 1536.0


def test_docker_stats_sampler_without_a_docker_engine(tmp_path: Path) -> None:
    sampler = DockerStatsSampler("notes", interval_s=0.1, docker=tmp_path / "no-docker")
    sampler.start()
    time.sleep(0.3)
    usage = sampler.stop()
    assert usage.samples == []
