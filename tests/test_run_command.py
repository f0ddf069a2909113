"""`perfgate run` end to end: the real notes API, the real k6 binary, the analysis and the report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from perfgate.cli import main

REPO = Path(__file__).resolve().parent.parent
NOTES = REPO / "loadtests" / "notes.js"


@pytest.fixture
def short_profile(tmp_path: Path) -> Path:
    """The smoke profile with a 3 s load model (thresholds kept)."""
    options = yaml.safe_load((REPO / "loadtests" / "profiles" / "smoke.yaml").read_text())
    options["scenarios"]["notes"]["stages"] = [
        {"duration": "1s", "target": 2},
        {"duration": "2s", "target": 2},
    ]
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(options))
    return path


@pytest.mark.k6
def test_run_starts_the_api_runs_k6_and_writes_the_report(tmp_path: Path, short_profile: Path) -> None:
    out = io.StringIO()
    argv = ["run", "--start-notes-api", "--script", str(NOTES), "--profile", str(short_profile)]
    argv += ["--runs-dir", str(tmp_path / "runs")]
    policy = tmp_path / "perfgate.yml"
    policy.write_text("k6_thresholds: advisory\n")  # a loaded test machine may cross the profile's limits
    argv += ["--policy", str(policy)]
    code = main([*argv, "--baselines", str(tmp_path / "hist"), "--record", "--format", "json"], stdout=out)
    assert code == 0
    verdict = json.loads(out.getvalue())
    assert verdict["verdict"] == "no_baseline"
    assert verdict["scenario"] == "notes-short"
    endpoints = {row["endpoint"] for row in verdict["summary"]}
    assert {
        "create_note",
        "get_note",
        "list_notes",
        "search_notes",
        "update_note",
        "delete_note",
    } <= endpoints
    assert verdict["resources"]["cpu_peak_percent"] > 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    for name in ("summary.json", "raw.ndjson.gz", "run-meta.json", "report.md", "verdict.json", "target.log"):
        assert (run_dir / name).is_file(), name
    assert "perfgate: NO BASELINE" in (run_dir / "report.md").read_text()
    (stored,) = (tmp_path / "hist" / "notes-short" / "runs").glob("*.json")
    record = json.loads(stored.read_text())["record"]
    assert record["fingerprint"]["executor"] == "ramping-vus"
    assert {stage["stage"] for stage in record["stages"]} >= {0, 1}
    assert record["context"]["k6_exit_code"] in (0, 99)  # 99: a loaded machine crossed the profile's limits


@pytest.mark.k6
def test_injected_errors_cross_the_profile_threshold_but_the_run_is_analysed(
    tmp_path: Path, short_profile: Path
) -> None:
    out = io.StringIO()
    argv = ["run", "--start-notes-api", "--script", str(NOTES), "--profile", str(short_profile)]
    argv += ["--runs-dir", str(tmp_path / "runs")]
    code = main([*argv, "--fault-errors", "get_note=1.0", "--format", "json"], stdout=out)
    assert code == 1, "k6's exit 99 is analysed, and its crossed threshold fails the gate"
    verdict = json.loads(out.getvalue())
    assert verdict["verdict"] == "no_baseline" and verdict["k6"]["exit_code"] == 99
    assert {c["metric"] for c in verdict["k6"]["crossed"]} >= {"http_req_failed{name:get_note}"}
    get_note = next(row for row in verdict["summary"] if row["endpoint"] == "get_note")
    assert get_note["error_rate"] == 1.0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert json.loads((run_dir / "run-meta.json").read_text())["k6_exit_code"] == 99


def test_run_needs_a_target() -> None:
    assert main(["run", "--profile", "loadtests/profiles/smoke.yaml"], stdout=io.StringIO()) == 2


@pytest.mark.parametrize("fault", ["search_notes", "search_notes=abc", "x;rm -rf /=1"])
def test_bad_fault_options_are_usage_errors(fault: str, tmp_path: Path) -> None:
    argv = [
        "run",
        "--start-notes-api",
        "--profile",
        "loadtests/profiles/smoke.yaml",
        "--runs-dir",
        str(tmp_path),
    ]
    assert main([*argv, "--fault-latency", fault], stdout=io.StringIO()) == 2
    assert not any(tmp_path.iterdir())
