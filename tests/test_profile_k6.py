"""perfgate profile with the real k6: `k6 inspect` accepts the generated script, and end to end on
the demo app: its own traffic logged by gunicorn → profile → the generated script run against it →
validation within 15 % (k6 runs ~15-25 s)."""

from __future__ import annotations

import http.client
import io
import json
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest
from profile_synth import combined_lines, synth_requests

from perfgate.adapters.k6_runner import find_k6
from perfgate.cli import main

pytestmark = pytest.mark.k6


def test_k6_inspect_accepts_the_generated_script(tmp_path: Path) -> None:
    rows, _ = synth_requests(sessions_per_kind=15, seed=4)
    log = tmp_path / "access.log"
    log.write_text("\n".join(combined_lines(rows)) + "\n", encoding="utf-8")
    assert main(["profile", str(log), "--out", str(tmp_path / "out")], stdout=io.StringIO()) == 0
    profile = json.loads((tmp_path / "out" / "profile.json").read_text())
    done = subprocess.run(
        [str(find_k6()), "inspect", "--execution-requirements", str(tmp_path / "out" / "loadtest.js")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    options = json.loads(done.stdout)
    names = {p["name"] for p in profile["personas"]} | {"bot"}
    assert set(options["scenarios"]) == names
    assert {s["executor"] for s in options["scenarios"].values()} == {"ramping-arrival-rate"}
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"scenarios": {"only": {"executor": "constant-vus", "vus": 1, "duration": "1s",
                                                          "exec": options["scenarios"]["bot"]["exec"]}}}))  # fmt: skip
    from_config = subprocess.run(
        [str(find_k6()), "inspect", "--execution-requirements", "-e", "PROFILE_FROM_CONFIG=1", "--config", str(config),
         str(tmp_path / "out" / "loadtest.js")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert from_config.returncode == 0, from_config.stderr
    assert set(json.loads(from_config.stdout)["scenarios"]) == {"only"}


class _User(threading.Thread):
    """One demo-app user session over a real socket, with its own user agent."""

    def __init__(self, port: int, kind: str, index: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.port, self.kind, self.rng = port, kind, random.Random(seed)
        self.agent = f"demo-user/{index} ({kind})"

    def _call(self, conn: http.client.HTTPConnection, method: str, path: str, body: object = None) -> dict:
        payload = json.dumps(body) if body is not None else None
        conn.request(method, path, payload, {"User-Agent": self.agent, "Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        return json.loads(data) if data and response.status < 300 else {}

    def _think(self, mean_s: float) -> None:
        time.sleep(self.rng.uniform(0.6 * mean_s, 1.4 * mean_s))

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if self.kind == "writer":
                self._call(conn, "GET", "/notes?page=1&per_page=10")
                for _ in range(2):
                    self._think(1.5)
                    note = self._call(conn, "POST", "/notes", {"title": "demo", "body": "b", "tags": []})
                    self._think(1.5)
                    self._call(
                        conn,
                        "PUT",
                        f"/notes/{note.get('id', 1)}",
                        {"title": "edited", "body": "b", "tags": []},
                    )
            else:
                for word in self.rng.sample(["alpha", "bravo", "delta", "echo"], 2):
                    self._call(conn, "GET", f"/notes?q={word}")
                    self._think(2.0)
                self._call(conn, "GET", "/notes?page=1&per_page=10")
        finally:
            conn.close()


def _generate_traffic(port: int, seconds: float, rate_per_s: float, seed: int) -> None:
    rng = random.Random(seed)
    users, index, deadline = [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        user = _User(port, "writer" if rng.random() < 0.5 else "reader", index, seed + index)
        user.start()
        users.append(user)
        index += 1
        time.sleep(rng.expovariate(rate_per_s))
    for user in users:
        user.join(timeout=30)


@pytest.mark.slow
def test_end_to_end_on_the_demo_app(tmp_path: Path, notes_server_factory) -> None:
    access_log = tmp_path / "access.log"
    server = notes_server_factory(GUNICORN_CMD_ARGS=f"--access-logfile {access_log}")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)  # notes for the readers
    for word in ("alpha", "bravo", "delta", "echo"):
        conn.request("POST", "/notes", json.dumps({"title": word, "body": word, "tags": []}),
                     {"Content-Type": "application/json", "User-Agent": "seed"})  # fmt: skip
        conn.getresponse().read()
    conn.close()
    _generate_traffic(server.port, seconds=25.0, rate_per_s=1.2, seed=11)
    lines = [
        line
        for line in access_log.read_text().splitlines()
        if '"seed"' not in line and "/healthz" not in line
    ]
    log = tmp_path / "demo.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")

    out = tmp_path / "profile"
    assert (
        main(
            ["profile", str(log), "--out", str(out), "--session-gap", "1m", "--personas", "2"],
            stdout=io.StringIO(),
        )
        == 0
    )
    profile = json.loads((out / "profile.json").read_text())
    keys = {e["key"] for e in profile["endpoints"]}
    assert {"POST /notes", "PUT /notes/{id}", "GET /notes?q", "GET /notes?page&per_page"} <= keys

    stdout = io.StringIO()
    code = main(["profile", "validate", str(out), "--base-url", server.base_url, "--duration", "20",
                 "--format", "json"], stdout=stdout)  # fmt: skip
    result = json.loads(stdout.getvalue())
    table = "\n".join(
        f"{line['metric']}: log {line['log_value']:.4g} run {line['run_value']:.4g} {line['passed']}"
        for line in result["lines"]
    )
    print(table)
    assert code == 0, table
    assert result["passed"] and len(result["lines"]) >= 9
