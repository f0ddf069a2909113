"""The CLI contract (DESIGN.md): commands, JSON verdicts and exit codes, called through main()."""

from __future__ import annotations

import argparse
import importlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from factories import DEFAULT_ENDPOINTS, make_run_record

from perfgate.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "k6"
SUMMARY = FIXTURES / "basic.summary-export.json"
CROSSED = 1  # k6 crossed `http_req_failed rate<0.01` in this sample (exit 99): the gate fails on it


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def test_analyze_without_history_reports_no_baseline_and_key_numbers() -> None:
    code, out = run_cli("analyze", str(SUMMARY), "--format", "json")
    assert code == CROSSED
    verdict = json.loads(out)
    assert verdict["verdict"] == "no_baseline"
    assert verdict["k6"]["crossed"] == [
        {
            "metric": "http_req_failed",
            "expression": "rate<0.01",
            "observed": verdict["k6"]["crossed"][0]["observed"],
        }
    ]
    assert 0.01 < verdict["k6"]["crossed"][0]["observed"] < 1
    assert "http_req_duration{name:list_notes} p(95)" in verdict["gated"]
    assert any(line.startswith("http_req_duration: judged through") for line in verdict["not_gated"])
    assert verdict["findings"] == []
    overall = verdict["summary"][-1]
    assert overall["endpoint"] == "(all)"
    assert overall["requests"] == 305
    assert overall["error_rate"] == pytest.approx(15 / 305)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_analyze_other_formats_lead_with_the_verdict(fmt: str) -> None:
    code, out = run_cli("analyze", str(SUMMARY), "--format", fmt)
    assert code == CROSSED
    assert "NO BASELINE" in out.splitlines()[0]


def test_empty_baselines_dir_is_no_baseline(tmp_path: Path) -> None:
    code, out = run_cli("analyze", str(SUMMARY), "--baselines", str(tmp_path), "--format", "json")
    assert code == CROSSED
    assert json.loads(out)["verdict"] == "no_baseline"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"metrics": {"http_reqs": ', "JSON"),
        ('{"hello": "world"}', "not a k6 result"),
        ("", "empty"),
    ],
)
def test_bad_input_exits_3_with_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, problem: str
) -> None:
    bad = tmp_path / "bad-result.json"
    bad.write_text(content)
    code, out = run_cli("analyze", str(bad), "--baselines", str(tmp_path / "hist"))
    assert code == 3
    assert out == ""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad-result.json" in err
    assert problem.lower() in err.lower()
    assert not (tmp_path / "hist").exists(), "nothing is written on bad input"


def test_missing_result_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_cli("analyze", str(tmp_path / "nope.json"))
    assert code == 3
    assert "nope.json" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["analyze"], ["analyze", "x", "--format", "yaml"], ["no-such-command"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert run_cli(*argv)[0] == 2


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--help")[0] == 0
    assert run_cli("--version")[0] == 0
    assert "perfgate" in capsys.readouterr().out


def test_record_then_history_list_and_show(tmp_path: Path) -> None:
    code, out = run_cli("record", str(SUMMARY), "--baselines", str(tmp_path), "--run-id", "first-run")
    assert code == 0
    assert "first-run" in out
    stored = tmp_path / "default" / "runs" / "first-run.json"
    assert json.loads(stored.read_text())["run_id"] == "first-run"
    code, out = run_cli("history", "list", "--baselines", str(tmp_path))
    assert code == 0 and "first-run" in out and "1 runs" in out
    code, out = run_cli("history", "show", "--baselines", str(tmp_path), "first-run")
    assert code == 0 and json.loads(out)["record"]["source_format"] == "summary-export"


def test_record_refuses_a_duplicate_run_id(tmp_path: Path) -> None:
    assert run_cli("record", str(SUMMARY), "--baselines", str(tmp_path), "--run-id", "r1")[0] == 0
    before = (tmp_path / "default" / "runs" / "r1.json").read_bytes()
    assert run_cli("record", str(SUMMARY), "--baselines", str(tmp_path), "--run-id", "r1")[0] == 2
    assert (tmp_path / "default" / "runs" / "r1.json").read_bytes() == before


def test_unsafe_run_id_is_refused_and_nothing_written(tmp_path: Path) -> None:
    code, _ = run_cli("record", str(SUMMARY), "--baselines", str(tmp_path), "--run-id", "../escape")
    assert code in (2, 3)
    assert not list(tmp_path.rglob("*.json"))


def test_analyze_with_history_gives_a_verdict_and_record_appends(tmp_path: Path) -> None:
    for i in range(6):
        run_cli("record", str(SUMMARY), "--baselines", str(tmp_path), "--run-id", f"base-{i}")
    code, out = run_cli("analyze", str(SUMMARY), "--baselines", str(tmp_path), "--format", "json", "--record")
    verdict = json.loads(out)
    assert verdict["verdict"] in {"pass", "noise"}, verdict["reason"]
    assert code == CROSSED
    assert verdict["history_runs"] == 6
    assert len(list((tmp_path / "default" / "runs").glob("*.json"))) == 7


def test_history_prune_dry_run_touches_nothing(tmp_path: Path) -> None:
    for i in range(12):
        run_cli("record", str(SUMMARY), "--baselines", str(tmp_path), "--run-id", f"r{i:02d}")
    code, out = run_cli("history", "prune", "--baselines", str(tmp_path), "--keep", "10", "--dry-run")
    assert code == 0 and "would delete 2" in out
    assert len(list(tmp_path.rglob("*.json"))) == 12
    assert run_cli("history", "prune", "--baselines", str(tmp_path), "--keep", "10")[0] == 0
    assert len(list(tmp_path.rglob("*.json"))) == 10


def test_a_run_without_requests_is_bad_input_not_a_verdict(tmp_path: Path) -> None:
    record = make_run_record(http_reqs=0)
    path = tmp_path / "empty-run.json"
    # a handleSummary-shaped file with zero requests
    payload = {
        "metrics": {
            "http_reqs": {"type": "counter", "contains": "default", "values": {"count": 0, "rate": 0}},
            "iterations": {"type": "counter", "contains": "default", "values": {"count": 0, "rate": 0}},
        },
        "root_group": {"name": "", "path": "", "id": "x", "groups": [], "checks": []},
        "options": {"summaryTrendStats": ["avg"], "summaryTimeUnit": "", "noColor": True},
        "state": {"isStdOutTTY": False, "isStdErrTTY": False, "testRunDurationMs": 1000.0},
    }
    path.write_text(json.dumps(payload))
    assert record.context.http_reqs == 0
    code, _ = run_cli("analyze", str(path))
    assert code == 3


def test_schemas_are_exported_and_up_to_date(tmp_path: Path) -> None:
    code, _ = run_cli("schemas", "--out", str(tmp_path))
    assert code == 0
    shipped = REPO / "perfgate" / "schemas"
    for path in sorted(tmp_path.glob("*.schema.json")):
        assert (shipped / path.name).read_text() == path.read_text(), (
            f"run `make schemas`: {path.name} is stale"
        )
    assert len(list(tmp_path.glob("*.schema.json"))) >= 5


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "scripts/analyze.py", str(SUMMARY), "--format", "json"],
        [sys.executable, "-m", "perfgate", "analyze", str(SUMMARY), "--format", "json"],
    ],
    ids=["scripts/analyze.py", "python -m perfgate"],
)
def test_entry_points_from_a_checkout(argv: list[str]) -> None:
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == CROSSED, done.stderr
    assert json.loads(done.stdout)["verdict"] == "no_baseline"


def test_a_bug_exits_70_and_is_never_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    from perfgate.cli import app as cli

    def broken(*_: object) -> int:
        raise RuntimeError("boom")

    cli.build_parser()  # fills the registry
    saved = cli.COMMANDS["schemas"]
    cli.COMMANDS["schemas"] = broken
    try:
        code = cli.main(["schemas"], stdout=io.StringIO())
    finally:
        cli.COMMANDS["schemas"] = saved
    assert code == 70
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "internal error" in err


def test_trend_names_the_run_where_a_step_starts(tmp_path: Path) -> None:
    import random
    from datetime import UTC, datetime, timedelta

    from perfgate.adapters.baselines import BaselineStore

    rng = random.Random(7)
    store = BaselineStore(tmp_path)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(24):
        level = 40.0 if i < 12 else 60.0  # +50 % on create_note from run 12 on
        endpoints = {
            name: {"p(95)": stats["p(95)"] * rng.uniform(0.97, 1.03)}
            for name, stats in DEFAULT_ENDPOINTS.items()
        }
        endpoints["create_note"] = {"p(95)": level * rng.uniform(0.95, 1.05)}
        record = make_run_record(endpoints)
        store.record("notes", record, recorded_at=start + timedelta(hours=i), run_id=f"run-{i:02d}")
    code, out = run_cli("trend", "--baselines", str(tmp_path), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["scenario"] == "notes" and report["runs"] == 24
    create = next(
        m
        for m in report["metrics"]
        if m["metric"] == "http_req_duration{name:create_note}" and m["stat"] == "p(95)"
    )
    (point,) = create["change_points"]
    assert abs(point["index"] - 12) <= 2
    assert point["classification"] == "regression"
    get_note = [m for m in report["metrics"] if m["metric"] == "http_req_duration{name:get_note}"]
    assert all(cp["classification"] == "noise" for m in get_note for cp in m["change_points"])
    code, text = run_cli("trend", "--baselines", str(tmp_path))
    assert code == 0 and "create_note" in text and "run-1" in text
    code, markdown = run_cli("trend", "--baselines", str(tmp_path), "--format", "markdown")
    assert code == 0 and markdown.startswith("### Change points in notes")
    row = next(line for line in markdown.splitlines() if "create\\_note" in line and "p\\(95\\)" in line)
    assert f"run\\-{point['index']:02d}" in row and "regression" in row


def test_explain_sits_under_the_verdict_and_changes_nothing() -> None:
    code, plain = run_cli("analyze", str(SUMMARY), "--format", "json")
    code_explained, text = run_cli("analyze", str(SUMMARY), "--explain")
    assert code == code_explained == CROSSED
    lines = text.splitlines()
    assert lines[0] == "perfgate: NO BASELINE"
    assert text.index("Explanation") < text.index("this run:")
    code, explained_json = run_cli("analyze", str(SUMMARY), "--explain", "--format", "json")
    data = json.loads(explained_json)
    assert data["verdict"] == json.loads(plain)["verdict"]
    assert data["explanation"]["source"] == "deterministic"


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_the_lazy_command_table_matches_what_each_module_registers() -> None:
    """`perfgate CMD` builds only CMD's module (cli/app.py COMMAND_MODULES): the table must be whole."""
    from perfgate.cli import app

    everything = _command_names(app.build_parser())
    assert sorted(everything) == sorted([*app.OWN_COMMANDS, *app.COMMAND_MODULES])
    for module in set(app.COMMAND_MODULES.values()):
        scratch = argparse.ArgumentParser().add_subparsers()
        registered = importlib.import_module(f"perfgate.cli.{module}").add_parsers(scratch)
        assert sorted(registered) == sorted(c for c, m in app.COMMAND_MODULES.items() if m == module)
    for command in everything:
        assert command in _command_names(app.build_parser(command))
    assert len(_command_names(app.build_parser("analyze"))) == len(app.OWN_COMMANDS)


@pytest.mark.parametrize("argv", [["--help"], ["-h", "analyze"], ["nonsense"]])
def test_help_and_unknown_commands_see_every_command(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv, stdout=io.StringIO())
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == (2 if argv == ["nonsense"] else 0)
    assert all(name in text for name in ("analyze", "merge", "capacity", "trend"))
