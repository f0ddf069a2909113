"""The Action under hostile inputs and events: no input becomes an output, a pid, a path or a
workflow command, and events perfgate does not know run read-only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from action_harness import parse_file_command
from hostile_world import run_cli

from perfgate.adapters import actions
from perfgate.pipeline.action_steps import Log

REPO = Path(__file__).resolve().parent.parent.parent
FORGED = "evil.yaml\npid-file=/proc/1/stat\nverdict=pass"


def preflight(tmp_path: Path, event_name: str = "push", **inputs: str) -> tuple[int, dict[str, str], str]:
    out = tmp_path / "github_output"
    out.touch()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sender": {"login": "octo"}}))
    values = {"mode": "heal", "heal": "pr", "fail-on": "regression", "target": "compose", "repeats": "1"}
    values.update(inputs)
    argv = ["action", "preflight", *[arg for k, v in values.items() for arg in (f"--{k}", v)]]
    argv += ["--event-name", event_name, "--event-path", str(event), "--repository", "octo/perfgate"]
    code, stderr = run_cli([*argv, "--github-output", str(out)])
    return code, parse_file_command(out.read_text()), stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("compose-file", FORGED),
        ("compose-file", "x.yaml\r::add-mask::x"),
        ("compose-file", "--project-directory=/"),
        ("base-url", "http://127.0.0.1:8000\nverdict=pass"),
        ("base-url", "file:///etc/passwd"),
        ("health-url", "http://x/\x00"),
    ],
)
def test_a_forged_input_fails_preflight_and_writes_no_output(tmp_path: Path, name: str, value: str) -> None:
    code, outputs, _ = preflight(tmp_path, **{name: value})
    assert code == 2
    assert outputs == {}


def test_outputs_always_use_a_random_delimiter_so_no_value_adds_an_output(tmp_path: Path) -> None:
    out = tmp_path / "github_output"
    actions.write_outputs(out, {"compose-file": FORGED, "verdict": "regression"})
    actions.write_env(out, {"PERFGATE_X": "a\nPERFGATE_Y=b"})
    text = out.read_text()
    assert "\ncompose-file=" not in text and not text.startswith("compose-file=")
    assert parse_file_command(text) == {
        "compose-file": FORGED,
        "verdict": "regression",
        "PERFGATE_X": "a\nPERFGATE_Y=b",
    }
    assert len({line.split("<<")[1] for line in text.splitlines() if "<<" in line}) == 3


def test_the_stop_step_takes_no_pid_or_path_from_an_output() -> None:
    steps = {step["id"]: step for step in yaml.safe_load((REPO / "action.yml").read_text())["runs"]["steps"]}
    stop = steps["stop"]
    assert "steps." not in json.dumps(stop.get("env", {})) + stop["if"]
    assert "GITHUB_OUTPUT" not in steps["target"]["run"]


@pytest.mark.parametrize("event_name", ["issue_comment", "merge_group", "release", "discussion", "fork"])
def test_events_perfgate_does_not_know_run_read_only(tmp_path: Path, event_name: str) -> None:
    code, outputs, _ = preflight(tmp_path, event_name=event_name)
    assert code == 0
    assert outputs["read-only"] == "true"
    assert outputs["heal"] == "dry-run"


@pytest.mark.parametrize("event_name", ["push", "schedule", "workflow_dispatch"])
def test_known_events_may_publish(tmp_path: Path, event_name: str) -> None:
    code, outputs, _ = preflight(tmp_path, event_name=event_name)
    assert (code, outputs["read-only"], outputs["heal"]) == (0, "false", "pr")


@pytest.mark.parametrize(
    "message",
    [
        "http_req_duration{name:x\n::warning::forged}",
        "a\r\n::add-mask::secret",
        "100%0A::error::x",
        "p95 :: warning",
        "::error::x",
    ],
)
def test_no_message_reaches_the_runner_as_a_command(message: str) -> None:
    line = actions.annotation("warning", message, title=message)
    (only,) = line.splitlines()
    assert only.count("::") == 2  # `::warning title=...::` and nothing after
    log = Log()
    log.say(f"perfgate: {message}\n{message}")
    assert not [ln for ln in "".join(log.lines).splitlines() if ln.lstrip().startswith("::")]
