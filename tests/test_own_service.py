"""Bring your own script and service, end to end: the real k6 against a service that is not ours
(tests/fixtures/ownservice/notes_server.py, a stdlib server), an untagged script with inline
options, and the history built from it."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfgate.adapters.k6_runner import find_k6
from perfgate.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ownservice"
SERVER = FIXTURES / "notes_server.py"
UNTAGGED = FIXTURES / "untagged.js"

pytestmark = pytest.mark.k6


class Service:
    def __init__(self, delay_ms: int, item_delay_ms: int = 0) -> None:
        env = {"DELAY_MS": str(delay_ms), "ITEM_DELAY_MS": str(item_delay_ms), "PATH": "/usr/bin:/bin"}
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), "0"], stdout=subprocess.PIPE, env=env, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        port = re.search(r":(\d+)$", line.strip())
        assert port, line
        self.base_url = f"http://127.0.0.1:{port.group(1)}"
        self.pid = self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def service_factory() -> Iterator[type[Service]]:
    started: list[Service] = []

    class Tracked(Service):
        def __init__(self, delay_ms: int, item_delay_ms: int = 0) -> None:
            super().__init__(delay_ms, item_delay_ms)
            started.append(self)

    yield Tracked
    for service in started:
        service.stop()


def perfgate(*argv: str) -> tuple[int, dict[str, object]]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    text = out.getvalue()
    return code, (json.loads(text) if text.startswith("{") else {"text": text})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_untagged_script_twice_as_slow_is_a_regression(
    tmp_path: Path, service_factory: type[Service]
) -> None:
    common = ["--script", str(UNTAGGED), "--baselines", str(tmp_path / "hist")]
    common += ["--runs-dir", str(tmp_path / "runs"), "--format", "json"]
    usual = service_factory(delay_ms=10)
    for _ in range(5):
        code, verdict = perfgate(
            "run", *common, "--base-url", usual.base_url, "--target-pid", str(usual.pid), "--record"
        )
        assert code == 0, verdict
    assert verdict["resources"]["cpu_mean_percent"] >= 0, "the service's own process was sampled"
    slow = service_factory(delay_ms=10, item_delay_ms=15)  # the item lookup takes twice as long
    code, verdict = perfgate("run", *common, "--base-url", slow.base_url)
    assert verdict["verdict"] == "regression" and code == 1, verdict["reason"]
    assert verdict["history_runs"] == 5
    regressed = {f["endpoint"] for f in verdict["findings"] if f["classification"] == "regression"}
    assert "/notes/{id}" in regressed, "ids in untagged URLs are templated into one endpoint"
    assert any(item.startswith("http_req_duration{name:/notes/{id}} p(95)") for item in verdict["gated"])
    assert verdict["k6"]["exit_code"] == 0 and verdict["k6"]["version"]


def test_dead_target_is_a_broken_run_and_nothing_is_recorded(tmp_path: Path) -> None:
    hist = tmp_path / "hist"
    argv = ["run", "--script", str(UNTAGGED), "--base-url", f"http://127.0.0.1:{_closed_port()}", "--record"]
    code, verdict = perfgate(
        *argv, "--baselines", str(hist), "--runs-dir", str(tmp_path / "runs"), "--format", "json"
    )
    assert code == 1 and verdict["verdict"] == "broken"
    assert "none of the" in verdict["reason"] and verdict["findings"] == []
    assert not list(hist.rglob("*.json")), "a broken run is never a baseline"


def _summary_runs(tmp_path: Path, base_url: str, count: int) -> list[Path]:
    """`k6 run --summary-export` as a user runs it, started together (the service takes the load)."""
    k6, paths, processes = find_k6(), [], []
    for i in range(count):
        path = tmp_path / f"summary-{i}.json"
        command = [str(k6), "run", "-q", "--address", "", "--summary-export", str(path)]
        command += ["--summary-trend-stats", "avg,min,med,max,p(90),p(95),p(99),count"]
        processes.append(subprocess.Popen([*command, "-e", f"BASE_URL={base_url}", str(UNTAGGED)]))
        paths.append(path)
    assert [process.wait(timeout=120) for process in processes] == [0] * count
    return paths


def test_summary_exports_recorded_with_script_healed_and_still_comparable(
    tmp_path: Path, service_factory: type[Service]
) -> None:
    service = service_factory(delay_ms=5)
    script = tmp_path / "load.js"
    shutil.copy(UNTAGGED, script)
    hist = tmp_path / "hist"
    summaries = _summary_runs(tmp_path, service.base_url, 6)
    for path in summaries[:5]:
        code, out = perfgate("record", str(path), "--script", str(script), "--baselines", str(hist))
        assert code == 0, out
    code, out = perfgate(
        "record", str(summaries[5]), "--script", str(script), "-e", "VUS=4", "--baselines", str(hist)
    )
    assert code == 3, "a 2-VU run filed under a 4-VU load model is refused, not compared"
    before = script.read_text()
    code, out = perfgate("heal", "--script", str(script), "--baselines", str(hist))
    assert code == 0, out
    assert script.read_text() != before, out["text"]
    code, verdict = perfgate(
        "analyze", str(summaries[5]), "--script", str(script), "--baselines", str(hist), "--format", "json"
    )
    assert verdict["history_runs"] == 5, "healing the thresholds keeps the load model and its history"
    assert verdict["verdict"] != "no_baseline", verdict[
        "reason"
    ]  # compared (the verdict itself is noise-bound)
    code, verdict = perfgate("analyze", str(summaries[5]), "--baselines", str(hist), "--format", "json")
    assert verdict["history_runs"] == 0 and any("pass --script" in n for n in verdict["notices"])


def test_a_threshold_on_a_full_url_is_not_a_second_endpoint(
    tmp_path: Path, service_factory: type[Service]
) -> None:
    service = service_factory(delay_ms=1)
    script = FIXTURES / "url_threshold.js"
    argv = ["run", "--script", str(script), "--base-url", service.base_url, "--format", "json"]
    code, verdict = perfgate(*argv, "--runs-dir", str(tmp_path / "runs"), "--baselines", str(tmp_path / "h"))
    assert code == 0, verdict
    url_key = f"http_req_duration{{name:{service.base_url}/notes}}"
    endpoints = {row["endpoint"] for row in verdict["summary"]} - {"(all)"}
    assert endpoints == {"/notes", "/health"}, "the URL-named sub-metric is /notes again"
    assert not any(item.startswith(url_key) for item in verdict["gated"])
    assert (
        f"{url_key}: the same requests as http_req_duration{{name:/notes}}, gated there"
        in verdict["not_gated"]
    )
    assert verdict["k6"]["exit_code"] == 0 and verdict["k6"]["crossed"] == []
