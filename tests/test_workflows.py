"""The workflows and action.yml follow the house rules: least privilege, pinned actions, no template
expansion inside scripts, and zizmor / check-jsonschema agree."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=yaml.BaseLoader)
    return data


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def _jobs(path: Path) -> dict[str, dict[str, Any]]:
    return dict(_load(path)["jobs"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_start_empty_and_are_granted_per_job(path: Path) -> None:
    document = _load(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions"
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
    assert "concurrency" in document or all("concurrency" in job for job in document["jobs"].values())


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_actions_are_pinned_and_scripts_never_expand_templates(path: Path) -> None:
    for step in _steps(_load(path)):
        uses = step.get("uses")
        if uses is not None:
            assert uses == "./" or PINNED.match(uses), f"{path.name}: {uses} is not pinned to a commit"
        assert "${{" not in step.get("run", ""), f"{path.name}: ${{{{ }}}} inside run: of {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials_unless_the_job_pushes(path: Path) -> None:
    for name, job in _jobs(path).items():
        pushes = any("git push" in step.get("run", "") for step in job.get("steps", []))
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                persist = step.get("with", {}).get("persist-credentials")
                assert persist == ("true" if pushes else "false"), f"{path.name}: job {name}"


def test_the_action_reads_inputs_only_through_env() -> None:
    action = _load(ACTION)
    for step in _steps(action):
        assert "INPUT_" not in step.get("run", ""), "composite run steps get no INPUT_* variables"
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} is undocumented"
    for name, spec in action["outputs"].items():
        assert spec.get("description"), f"output {name} is undocumented"


def test_the_selftest_asserts_a_clean_and_a_regressed_run() -> None:
    steps = _steps(_load(REPO / ".github" / "workflows" / "selftest.yml"))
    uses = [step for step in steps if step.get("uses") == "./"]
    assert any("notes-api-faults" in step.get("with", {}) for step in uses)
    assert any("notes-api-faults" not in step.get("with", {}) for step in uses)
    assert "regression" in steps[-1]["run"]


def _tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_zizmor_finds_nothing() -> None:
    cmd = [
        _tool("zizmor"),
        "--offline",
        "--min-severity=low",
        "--format=plain",
        str(ACTION),
        str(REPO / ".github/workflows"),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "paths"),
    [("vendor.github-actions", [ACTION]), ("vendor.github-workflows", WORKFLOWS)],
)
def test_check_jsonschema_validates(schema: str, paths: list[Path]) -> None:
    cmd = [_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_installs_the_requested_k6_pinned_and_validated() -> None:
    """k6-version reaches grafana/setup-k6-action only as preflight's validated output; every step
    that runs k6 gets the binary the `k6` step picked (PERFGATE_K6)."""
    steps = {step.get("id"): step for step in _steps(_load(ACTION))}
    setup = steps["setup-k6"]
    assert PINNED.match(setup["uses"]) and setup["uses"].startswith("grafana/setup-k6-action@")
    assert setup["with"] == {"k6-version": "${{ steps.preflight.outputs.k6-version }}"}
    assert setup["if"] == "steps.preflight.outputs.k6-install == 'setup-k6-action'"
    assert setup["continue-on-error"] == "true"  # the `k6` step falls back to the bundled k6
    assert steps["preflight"]["env"]["K6_VERSION"] == "${{ inputs.k6-version }}"
    assert steps["k6"]["env"]["WANTED"] == "${{ steps.preflight.outputs.k6-version }}"
    order = [step.get("id") for step in _steps(_load(ACTION))]
    assert order.index("preflight") < order.index("setup-k6") < order.index("k6") < order.index("run")
    for step_id in ("run", "compare", "heal"):
        assert steps[step_id]["env"]["PERFGATE_K6"] == "${{ steps.k6.outputs.k6-path }}", step_id
    for step in _steps(_load(ACTION)):
        assert "inputs.k6-version" not in str(step.get("with", {})), "the raw input never reaches an action"
