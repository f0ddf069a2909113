"""Run a composite `action.yml` the way the GitHub runner does, on this machine.

    result = run_action(REPO / "action.yml", inputs={"target": "url", ...}, workspace=tmp_path,
                        runner_temp=tmp_path / "runner", event_name="push", event={})
    result.outputs["verdict"], result.summary, result.annotations, result.step("run").outcome

What it mirrors: input defaults (expressions allowed) and the `inputs`, `github`, `runner`, `env` and
`steps.<id>.outputs|outcome` contexts; `${{ }}` in `env:`, `with:` and `if:` (evaluated by
`gha_expressions.py`). Each step gets fresh GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV and
GITHUB_PATH files, read back afterwards (`name=value` and `name<<DELIMITER` forms) even when the step failed; `shell: bash`
runs `bash --noprofile --norc -eo pipefail {0}`. Like the runner (actions/runner#665), composite
`run:` steps get NO `INPUT_*` variables: inputs reach scripts only through `env:`.

`uses:` steps are not downloaded: a stub per action (`STUBS`, keyed by `owner/repo`) returns its
outputs and is recorded in `result.uses` with the evaluated `with:`, so a test can see what the
action would have done. A stub gets the job's PATH additions (as `core.addPath` would extend them)
and fails the step by raising `StubFailure`; `continue-on-error: true` keeps the job going with the
step's outcome `failure`, as the runner does. Unknown actions fail loudly. `replace_run={step_id: script}` swaps one
step's script (recorded in the step) — e.g. the pip install, which would need the network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from gha_expressions import condition, interpolate, to_str

Stub = Callable[[dict[str, str], list[str]], dict[str, str]]


class StubFailure(Exception):
    """Raised by a stub: the action failed (e.g. a download that needs the network)."""


_ANNOTATION = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def _stub_setup_python(with_: dict[str, str], path: list[str]) -> dict[str, str]:
    return {"python-path": sys.executable, "python-version": with_.get("python-version", "")}


def _stub_upload_artifact(with_: dict[str, str], path: list[str]) -> dict[str, str]:
    assert Path(with_["path"]).exists(), f"upload-artifact: {with_['path']} does not exist"
    return {"artifact-id": "1", "artifact-url": f"https://example.invalid/artifacts/{with_['name']}"}


def _stub_setup_k6(with_: dict[str, str], path: list[str]) -> dict[str, str]:
    raise StubFailure(f"setup-k6-action: cannot download k6 {with_.get('k6-version')} (no network here)")


STUBS: dict[str, Stub] = {
    "actions/setup-python": _stub_setup_python,
    "actions/upload-artifact": _stub_upload_artifact,
    "grafana/setup-k6-action": _stub_setup_k6,
}


# ---- runner files -----------------------------------------------------------------------------


def parse_file_command(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` blocks, as the runner reads GITHUB_OUTPUT/ENV."""
    values, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if line:
            name, _, value = line.partition("=")
            values[name] = value
        i += 1
    return values


def _unescape(text: str, prop: bool) -> str:
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def parse_annotations(stdout: str) -> list[dict[str, Any]]:
    found = []
    for line in stdout.splitlines():
        match = _ANNOTATION.match(line)
        if match:
            pairs = [p.split("=", 1) for p in (match.group(2) or "").split(",") if "=" in p]
            props = {k: _unescape(v, prop=True) for k, v in pairs}
            found.append({"level": match.group(1), **props, "message": _unescape(match.group(3), prop=False)})
    return found


# ---- the runner -------------------------------------------------------------------------------


@dataclass
class StepResult:
    id: str
    name: str
    outcome: str  # success | failure | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    env: dict[str, str] = field(default_factory=dict)
    script: str = ""
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionResult:
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    success: bool

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def annotations(self) -> list[dict[str, Any]]:
        return parse_annotations(self.stdout)

    @property
    def uses(self) -> list[StepResult]:
        return [s for s in self.steps if s.uses and s.outcome != "skipped"]


@dataclass
class Job:
    """One job's state while the action's steps run."""

    contexts: dict[str, Any]
    base_env: dict[str, str]
    temp: Path
    workspace: Path
    replace_run: Mapping[str, str]
    timeout_s: float
    env: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    failed: bool = False


def _inputs(spec: Mapping[str, Any], given: Mapping[str, str], contexts: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(given) - set(spec)
    assert not unknown, f"unexpected input(s) {sorted(unknown)}"
    values = {}
    for name, meta in spec.items():
        if name in given:
            values[name] = str(given[name])
        else:
            assert not meta.get("required") or "default" in meta, f"input {name} is required"
            values[name] = interpolate(to_str(meta.get("default")), contexts)
    return values


def _files(job: Job, index: int) -> dict[str, Path]:
    names = {
        "GITHUB_OUTPUT": "output",
        "GITHUB_STEP_SUMMARY": "summary",
        "GITHUB_ENV": "env",
        "GITHUB_PATH": "path",
    }
    files = {var: job.temp / "_runner_file_commands" / f"{stem}_{index}" for var, stem in names.items()}
    for file in files.values():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("")
    return files


def _run_script(job: Job, step: dict[str, Any], result: StepResult, index: int) -> None:
    assert step.get("shell") == "bash", f"step {result.id}: only shell: bash is mirrored"
    result.script = job.replace_run.get(result.id, step["run"])
    script = job.temp / "_harness" / f"step_{index}.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(result.script)
    files = _files(job, index)
    step_env = {
        k: interpolate(to_str(v), job.contexts, job.failed) for k, v in (step.get("env") or {}).items()
    }
    env = {**job.base_env, **job.env, **{k: str(v) for k, v in files.items()}, **step_env}
    env["PATH"] = os.pathsep.join([*reversed(job.path), job.base_env.get("PATH", "")])
    result.env = step_env
    cwd = job.workspace / interpolate(step.get("working-directory", "."), job.contexts)
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=job.timeout_s,
        check=False,
    )
    result.returncode, result.stdout, result.stderr = proc.returncode, proc.stdout, proc.stderr
    result.outputs = parse_file_command(files["GITHUB_OUTPUT"].read_text())
    job.env.update(parse_file_command(files["GITHUB_ENV"].read_text()))
    job.path += [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
    job.summary.append(files["GITHUB_STEP_SUMMARY"].read_text())
    result.outcome = "success" if proc.returncode == 0 else "failure"


def _run_stub(job: Job, step: dict[str, Any], result: StepResult, stubs: Mapping[str, Stub]) -> None:
    result.uses = str(step["uses"])
    name = result.uses.split("@", 1)[0]
    assert name in stubs, f"step {result.id}: no stub for {result.uses}"
    result.with_ = {
        k: interpolate(to_str(v), job.contexts, job.failed) for k, v in (step.get("with") or {}).items()
    }
    try:
        result.outputs = stubs[name](result.with_, job.path)
    except StubFailure as exc:
        result.stderr, result.outcome = str(exc), "failure"
        return
    result.outcome = "success"


def run_action(
    action_file: Path,
    *,
    inputs: Mapping[str, str],
    workspace: Path,
    runner_temp: Path,
    event_name: str = "push",
    event: Mapping[str, Any] | None = None,
    repository: str = "octo/perfgate",
    job: str = "perf",
    token: str = "",
    env: Mapping[str, str] | None = None,
    stubs: Mapping[str, Stub] | None = None,
    replace_run: Mapping[str, str] | None = None,
    timeout_s: float = 300.0,
) -> ActionResult:
    """Run every step of the composite action in `action_file`; `env` is the calling step's `env:`."""
    spec = yaml.safe_load(action_file.read_text())
    assert spec["runs"]["using"] == "composite"
    runner_temp.mkdir(parents=True, exist_ok=True)
    event_path = runner_temp / "event.json"
    event_path.write_text(json.dumps(event or {}))
    values = {"action_path": str(action_file.resolve().parent), "workspace": str(workspace)}
    values |= {"event_name": event_name, "event_path": str(event_path), "repository": repository, "job": job}
    github = {**values, "token": token, "event": dict(event or {}), "server_url": "https://github.com"}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    base_env |= {f"GITHUB_{key.upper()}": value for key, value in values.items()}
    base_env |= {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux",
    }
    runner = {"temp": str(runner_temp), "os": "Linux"}
    contexts: dict[str, Any] = {"github": github, "runner": runner, "env": dict(env or {}), "steps": {}}
    contexts["inputs"] = _inputs(spec.get("inputs") or {}, inputs, contexts)
    state = Job(contexts, base_env | dict(env or {}), runner_temp, workspace, replace_run or {}, timeout_s)
    results = [_step(state, index, step, stubs or STUBS) for index, step in enumerate(spec["runs"]["steps"])]
    outputs = {
        k: interpolate(to_str(v.get("value")), contexts) for k, v in (spec.get("outputs") or {}).items()
    }
    return ActionResult(results, outputs, "".join(state.summary), not state.failed)


def _step(state: Job, index: int, step: dict[str, Any], stubs: Mapping[str, Stub]) -> StepResult:
    result = StepResult(id=step.get("id", f"__{index}"), name=step.get("name", ""), outcome="skipped")
    if condition(step.get("if"), state.contexts, state.failed):
        if "uses" in step:
            _run_stub(state, step, result, stubs)
        else:
            _run_script(state, step, result, index)
        continues = to_str(step.get("continue-on-error", False)) == "true"
        state.failed = state.failed or (result.outcome == "failure" and not continues)
    state.contexts["steps"][result.id] = {"outputs": result.outputs, "outcome": result.outcome}
    state.contexts["env"] = {**state.contexts["env"], **state.env}
    return result


# ---- a workspace for the action's self-tests ----------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
# What the install step would leave behind, without pip and the network: a launcher for the
# perfgate in this venv (`replace_run={"install": INSTALL}` with PERFGATE_TEST_LAUNCHER in env).
INSTALL = 'printf "perfgate=%s\\n" "$PERFGATE_TEST_LAUNCHER" >> "$GITHUB_OUTPUT"\n'
LAUNCHER = "import sys\nfrom perfgate.cli import main\nsys.exit(main())\n"


def prepare_workspace(root: Path) -> Path:
    """`loadtests/short.yaml` (the smoke profile cut to 3 s at 2 VUs), a `perfgate.yml` with
    min_runs 2 and advisory k6 thresholds (a loaded test machine may cross them; the tests are
    about the history verdict), and the launcher; returns the launcher's path."""
    options = yaml.safe_load((REPO / "loadtests" / "profiles" / "smoke.yaml").read_text())
    options["scenarios"]["notes"]["stages"] = [
        {"duration": "1s", "target": 2},
        {"duration": "2s", "target": 2},
    ]
    (root / "loadtests").mkdir()
    (root / "loadtests" / "short.yaml").write_text(yaml.safe_dump(options))
    (root / "perfgate.yml").write_text("history:\n  min_runs: 2\nk6_thresholds: advisory\n")
    launcher = root / "perfgate-launcher"
    launcher.write_text(f"#!{sys.executable}\n{LAUNCHER}")
    launcher.chmod(0o755)
    return launcher
