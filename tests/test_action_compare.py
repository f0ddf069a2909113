"""The action's paired mode (input `compare-base-ref`), run by tests/action_harness.py as the runner
would: a real git workspace with a base commit, the base checked out in a worktree, two real notes
APIs (head with injected latency), the real k6, and `perfgate compare` deciding."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from action_harness import INSTALL, LAUNCHER, ActionResult, run_action
from test_action import ACTION

GIT_ENV = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def _git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=root, check=True, capture_output=True, text=True, env=GIT_ENV).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with two commits: `base` (tagged) and head; a 2 s constant load per half."""
    root = tmp_path_factory.mktemp("compare-workspace")
    _git(root, "init", "-q", "-b", "main")
    (root / "loadtests").mkdir()
    half = {"scenarios": {"notes": {"executor": "constant-vus", "vus": 4, "duration": "2s"}}}
    (root / "loadtests" / "half.yaml").write_text(yaml.safe_dump(half))
    (root / "app.txt").write_text("base\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "tag", "base")
    (root / "app.txt").write_text("head: slower search\n")
    _git(root, "commit", "-q", "-am", "head")
    launcher = root.parent / "perfgate-launcher"
    launcher.write_text(f"#!{sys.executable}\n{LAUNCHER}")
    launcher.chmod(0o755)
    return root


def _run(repo: Path, name: str, **inputs: str) -> ActionResult:
    return run_action(
        ACTION,
        inputs={"profile": "loadtests/half.yaml", **inputs},
        workspace=repo,
        runner_temp=repo.parent / f"runner-{name}",
        env={"PERFGATE_TEST_LAUNCHER": str(repo.parent / "perfgate-launcher"), "THINK_TIME": "0.01"},
        replace_run={"install": INSTALL},
    )


@pytest.mark.k6
def test_a_slower_head_against_the_base_ref_fails_the_gate(repo: Path) -> None:
    inputs = {"compare-base-ref": "base", "compare-max-pairs": "4", "notes-api-faults": "search_notes=300"}
    result = _run(repo, "slower", **inputs)
    assert result.step("compare").outcome == "success", result.stdout + result.step("compare").stderr
    assert result.outputs["verdict"] == "regression"
    assert not result.success and result.step("gate").outcome == "failure"
    assert all(result.step(s).outcome == "skipped" for s in ("target", "run", "report"))
    assert "perfgate compare: REGRESSION" in result.summary and "search\\_notes latency" in result.summary
    errors = [a for a in result.annotations if a["level"] == "error" and a.get("title") == "perfgate compare"]
    assert any("search_notes latency" in a["message"] and "against base" in a["message"] for a in errors)
    run_dir = Path(result.outputs["run-dir"])
    assert Path(result.outputs["report-path"]) == run_dir / "report.md"
    assert (run_dir / "pair-01-base" / "raw.ndjson.gz").is_file() and (run_dir / "report.html").is_file()
    (upload,) = [s for s in result.uses if s.uses and "upload-artifact" in s.uses]
    assert upload.with_["path"] == result.outputs["run-dir"]
    assert len(_git(repo, "worktree", "list").splitlines()) == 1, "the base worktree is removed"


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"compare-base-ref": "--upload-pack=x"}, "input compare-base-ref"),
        ({"compare-base-ref": "main", "target": "url", "base-url": "http://x"}, "input compare-base-ref"),
        ({"compare-base-ref": "main", "mode": "heal"}, "input compare-base-ref"),
        ({"compare-base-ref": "main", "compare-max-pairs": "99"}, "input compare-max-pairs"),
    ],
)
def test_bad_paired_mode_inputs_fail_naming_the_input(repo: Path, inputs: dict[str, str], named: str) -> None:
    result = _run(repo, "bad", **inputs)
    assert result.step("preflight").outcome == "failure"
    assert result.step("compare").outcome == "skipped"
    assert named in result.annotations[0]["message"]


def test_a_command_target_needs_the_port_placeholder(repo: Path) -> None:
    inputs = {
        "compare-base-ref": "base",
        "target": "command",
        "target-command": "sleep 1",
        "health-url": "http://x",
    }
    result = _run(repo, "noport", **inputs)
    assert result.step("compare").outcome == "failure"
    assert (
        "{port}" in result.annotations[0]["message"] and "target-command" in result.annotations[0]["message"]
    )
