"""Scale-out through the composite action (inputs segments, segment, merge-parts), end to end:
tests/action_harness.py runs action.yml's steps as the runner does, the real k6 runs each part of a
short profile against the real notes API on 127.0.0.1, and the merge job merges what the part
jobs left for actions/upload-artifact, then analyses and records it like any run.
"""

from __future__ import annotations

import io
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from action_harness import INSTALL, ActionResult, parse_annotations, prepare_workspace, run_action

from perfgate.cli import main

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.launcher = prepare_workspace(root)

    def run(self, temp: str, **inputs: str) -> ActionResult:
        base = {"profile": "loadtests/short.yaml", "policy": "perfgate.yml", "baselines": "baselines"}
        return run_action(
            ACTION,
            inputs={**base, **inputs},
            workspace=self.root,
            runner_temp=self.root / temp,
            event_name="push",
            event={},
            env={"PERFGATE_TEST_LAUNCHER": str(self.launcher)},
            replace_run={"install": INSTALL},
        )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("scale-workspace")
    return Workspace(root)


@pytest.fixture(scope="module")
def parts(workspace: Workspace) -> list[ActionResult]:
    """Two part jobs of a 2-way split, side by side as a matrix runs them."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [
            pool.submit(workspace.run, f"part-{i}", segments="2", segment=str(i), target="notes-api")
            for i in (1, 2)
        ]
        return [job.result() for job in jobs]


def _requests(run_dir: Path) -> int:
    """http_reqs of a run's summary.json: k6's summary export (a part) or handleSummary JSON (merged)."""
    found = json.loads((run_dir / "summary.json").read_text())["metrics"]["http_reqs"]
    return round(found.get("values", found)["count"])


@pytest.mark.k6
def test_a_part_job_runs_its_segment_and_leaves_the_part_for_upload(parts: list[ActionResult]) -> None:
    for number, result in enumerate(parts, start=1):
        assert result.success, result.stdout + result.step("run").stderr
        part = Path(result.outputs["part-dir"])
        assert part.name.endswith(f"-part{number}of2")
        meta = json.loads((part / "run-meta.json").read_text())
        assert meta["execution_segment"] == ("0:1/2" if number == 1 else "1/2:1")
        assert (part / "raw.ndjson.gz").is_file() and _requests(part) > 0
        assert not (part / "verdict.json").exists()  # a part is never analysed alone
        assert all(result.step(s).outcome == "skipped" for s in ("report", "comment", "gate"))
        assert not [s for s in result.uses if "upload-artifact" in (s.uses or "")]
        assert result.outputs["verdict"] == "" and result.outputs["run-dir"] == ""


@pytest.mark.k6
def test_the_merge_job_merges_the_downloaded_parts_then_analyses_and_records(
    workspace: Workspace, parts: list[ActionResult]
) -> None:
    downloaded = workspace.root / "parts"
    for number, result in enumerate(parts, start=1):  # what download-artifact writes, one folder per part
        shutil.copytree(result.outputs["part-dir"], downloaded / f"perfgate-part-{number}")
    merged = workspace.run("merge", **{"merge-parts": "parts", "record": "true"})
    assert merged.success, merged.stdout + merged.step("run").stderr
    assert merged.step("target").outcome == "skipped"
    run_dir = Path(merged.outputs["run-dir"])
    merge = json.loads((run_dir / "merge.json").read_text())
    assert merge["thresholds_source"] == "script"
    total = sum(_requests(Path(result.outputs["part-dir"])) for result in parts)
    assert _requests(run_dir) == total == merge["metrics"]["http_reqs"]["count"]
    assert merged.outputs["verdict"] == "no_baseline"
    assert json.loads((run_dir / "verdict.json").read_text())["verdict"] == "no_baseline"
    stored = list((workspace.root / "baselines").rglob("runs/*.json"))
    assert len(stored) == 1
    assert json.loads(stored[0].read_text())["record"]["context"]["http_reqs"] == total
    (upload,) = [s for s in merged.uses if s.uses and "upload-artifact" in s.uses]
    assert upload.with_["path"] == str(run_dir)


def _step(argv: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """`perfgate action STEP ...` in-process: its exit code and its annotations."""
    out = io.StringIO()
    code = main(["action", *argv], stdout=out)
    return code, parse_annotations(out.getvalue())


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"segments": "1", "segment": "1"}, "input segments"),
        ({"segments": "²", "segment": "1"}, "input segments"),
        ({"segments": "17", "segment": "1"}, "input segments"),
        ({"segments": "2", "segment": "3"}, "input segment:"),
        ({"segments": "2"}, "input segment:"),
        ({"segment": "1"}, "input segments"),
        ({"segments": "2", "segment": "1", "mode": "heal"}, "input mode"),
        ({"segments": "2", "segment": "1", "repeats": "2"}, "input repeats"),
        ({"merge-parts": "parts", "repeats": "3"}, "input repeats"),
        ({"repeats": "²"}, "input repeats"),
        ({"segments": "2", "segment": "1", "merge-parts": "parts"}, "input merge-parts"),
        ({"merge-parts": "--help"}, "input merge-parts"),
        ({"merge-parts": "a\nb"}, "input merge-parts"),
        ({"merge-parts": "parts", "compare-base-ref": "main"}, "input compare-base-ref"),
    ],
)
def test_bad_scale_inputs_fail_in_preflight_naming_the_input(
    tmp_path: Path, inputs: dict[str, str], named: str
) -> None:
    values = {"mode": "check", "heal": "off", "fail-on": "regression", "target": "notes-api", **inputs}
    code, annotations = _step(
        ["preflight", *[f"--{k}={v}" for k, v in values.items()], "--event-name", "push"]
    )
    assert code == 2
    (error,) = [a for a in annotations if a["level"] == "error"]
    assert named in error["message"] and "\n" not in error["message"]


def test_a_bad_input_reaches_preflight_through_env_only_and_stops_the_job(workspace: Workspace) -> None:
    result = workspace.run(
        "bad", target="url", **{"base-url": "http://x", "segments": "2;id", "segment": "1"}
    )
    preflight = result.step("preflight")
    assert preflight.outcome == "failure" and preflight.returncode == 2
    assert "2;id" not in preflight.script and preflight.env["SEGMENTS"] == "2;id"
    assert all(result.step(s).outcome == "skipped" for s in ("target", "run", "report", "gate"))
    (error,) = [a for a in result.annotations if a["level"] == "error"]
    assert "input segments" in error["message"]


def test_a_merge_job_without_parts_fails_before_anything_is_analysed(tmp_path: Path) -> None:
    (tmp_path / "empty-parts").mkdir()
    argv = ["run", f"--merge-parts={tmp_path / 'empty-parts'}", "--runs-dir", str(tmp_path / "runs")]
    code, annotations = _step([*argv, "--github-output", str(tmp_path / "out")])
    assert code == 2
    (error,) = [a for a in annotations if a["level"] == "error"]
    assert error["message"].startswith("input merge-parts: no part directories in ")
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
