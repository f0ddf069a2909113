"""The exit code of every verdict, bad input and usage error, through `main()` on real result files.

DESIGN.md: 0 for every verdict but `regression`; 1 `regression`; 2 usage; 3 bad input. Each row
writes k6 `--summary-export` files: a recorded history of ten runs (±2 % jitter per endpoint, the runner's speed ±10 %, seeded) and a
candidate that moves one endpoint, then runs `perfgate analyze --format json`.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import export_trend

from perfgate.cli import main

ENDPOINTS = {
    "list_notes": 40.0,
    "get_note": 25.0,
    "search_notes": 60.0,
    "create_note": 45.0,
    "update_note": 35.0,
    "delete_note": 30.0,
}
ACK = "acknowledgements:\n  - {metric: 'http_req_duration{name:search_notes}', until: 2999-01-01, reason: known}\n"


def _export(scale: dict[str, float], rnd: random.Random, runner: float = 1.0) -> dict[str, Any]:
    """One run: `scale` moves endpoints (the code), `runner` moves everything and k6's own timings
    (a slower runner)."""

    def jitter(value: float) -> float:
        return value * (1 + rnd.uniform(-0.02, 0.02))

    p95 = {name: jitter(base * scale.get(name, 1.0) * runner) for name, base in ENDPOINTS.items()}
    metrics: dict[str, Any] = {
        f"http_req_duration{{name:{name}}}": export_trend(v) for name, v in p95.items()
    }
    metrics |= {
        "http_reqs": {"count": 1500, "rate": jitter(50.0)},
        "http_req_failed": {"passes": 0, "fails": 1500, "value": 0.0},
        "http_req_duration": export_trend(max(p95.values())),
        "checks": {"passes": 1500, "fails": 0, "value": 1.0},
        "iterations": {"count": 300, "rate": 10.0},
        "http_req_sending": export_trend(0.02 * runner),
        "http_req_receiving": export_trend(0.05 * runner),
        "http_req_blocked": export_trend(0.01 * runner),
        "iteration_duration": export_trend(sum(p95.values()) * 0.5 + 100.0 + 2.0 * runner),
    }
    return {"metrics": metrics, "root_group": {"name": "", "path": "", "id": "r", "groups": {}, "checks": {}}}


def _history(tmp_path: Path, rnd: random.Random) -> Path:
    baselines = tmp_path / "baselines"
    for i in range(10):
        path = tmp_path / f"run{i}.json"
        path.write_text(json.dumps(_export({}, rnd, runner=1 + rnd.uniform(-0.1, 0.1))))
        recorded = datetime(2026, 11, 1, i, tzinfo=UTC).strftime("%Y%m%dT%H%M%S")
        argv = [
            "record",
            str(path),
            "--baselines",
            str(baselines),
            "--scenario",
            "notes",
            "--run-id",
            recorded,
        ]
        assert main(argv, stdout=io.StringIO()) == 0
    return baselines


Setup = Callable[[Path], list[str]]


def _candidate(scale: dict[str, float], policy: str = "", runner: float = 1.0) -> Setup:
    def setup(tmp_path: Path) -> list[str]:
        rnd = random.Random(11)
        baselines = _history(tmp_path, rnd)
        candidate = tmp_path / "candidate.json"
        candidate.write_text(json.dumps(_export(scale, rnd, runner)))
        argv = [str(candidate), "--baselines", str(baselines), "--scenario", "notes"]
        if policy:
            (tmp_path / "perfgate.yml").write_text(policy)
            argv += ["--policy", str(tmp_path / "perfgate.yml")]
        return argv

    return setup


def _no_history(tmp_path: Path) -> list[str]:
    candidate = tmp_path / "candidate.json"
    candidate.write_text(json.dumps(_export({}, random.Random(3))))
    return [str(candidate)]


VERDICTS: dict[str, tuple[Setup, int]] = {
    "regression": (_candidate({"search_notes": 2.0}), 1),
    "pass": (_candidate({}), 0),
    "improvement": (_candidate({"search_notes": 0.5}), 0),
    "noise": (_candidate({}, runner=1.25), 0),  # every endpoint and k6's own timings: the runner
    "warn": (_candidate({"search_notes": 2.0}, ACK), 0),
    "no_baseline": (_no_history, 0),
}


@pytest.mark.parametrize("verdict", sorted(VERDICTS))
def test_every_verdict_has_its_exit_code(verdict: str, tmp_path: Path) -> None:
    setup, expected = VERDICTS[verdict]
    out = io.StringIO()
    code = main(["analyze", *setup(tmp_path), "--format", "json"], stdout=out)
    assert json.loads(out.getvalue())["verdict"] == verdict
    assert code == expected


def _bad_file(tmp_path: Path) -> list[str]:
    (tmp_path / "bad.json").write_text('{"metrics": ')
    return ["analyze", str(tmp_path / "bad.json")]


def _bad_policy(tmp_path: Path) -> list[str]:
    (tmp_path / "perfgate.yml").write_text("rules: [{match: x, direction: up}]\n")
    return ["analyze", *_no_history(tmp_path), "--policy", str(tmp_path / "perfgate.yml")]


ERRORS: dict[str, tuple[Callable[[Path], list[str]], int]] = {
    "unreadable result": (_bad_file, 3),
    "missing result": (lambda tmp: ["analyze", str(tmp / "absent.json")], 3),
    "invalid policy": (_bad_policy, 3),
    "unknown option": (lambda tmp: ["analyze", *_no_history(tmp), "--frobnicate"], 2),
    "unknown format": (lambda tmp: ["analyze", *_no_history(tmp), "--format", "pdf"], 2),
    "no command": (lambda tmp: [], 2),
    "record without baselines": (lambda tmp: ["analyze", *_no_history(tmp), "--record"], 2),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_input_exits_3_and_usage_exits_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected = ERRORS[case]
    out = io.StringIO()
    assert main(argv(tmp_path), stdout=out) == expected
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PERFGATE_LLM_TIMEOUT_S", "soon", "PERFGATE_LLM_TIMEOUT_S"),
        ("PERFGATE_LLM_MAX_RETRIES", "9", "PERFGATE_LLM_MAX_RETRIES"),
        ("PERFGATE_LLM_TIMEOUT_S", "0", "PERFGATE_LLM_TIMEOUT_S"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_its_variable(
    variable: str,
    value: str,
    named: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["analyze", *_no_history(tmp_path)], stdout=io.StringIO()) == 2
    error = capsys.readouterr().err
    assert error.startswith("perfgate: error: ") and named in error
