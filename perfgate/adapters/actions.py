"""The GitHub Actions runner's files and commands: outputs, step summary, env, annotations, the event.

    write_outputs(Path(github_output), {"verdict": "pass"})      # GITHUB_OUTPUT (heredoc syntax)
    append_summary(Path(step_summary), markdown)                 # GITHUB_STEP_SUMMARY
    stdout.write(workflow_command("error", message, file="loadtests/x.yaml", title="..."))
    event = load_event("pull_request", Path(event_path), "owner/repo")

Paths arrive as arguments (the action passes `$GITHUB_OUTPUT` and friends on the command line):
only `perfgate.settings` reads the environment. Workflow-command escaping follows the runner
(actions/toolkit `command.ts`): data escapes `%`, `\\r`, `\\n` (and `::`); property values also `:`
and `,`. Outputs and env always use the multi-line form with a random delimiter.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from perfgate.errors import InputDataError, UsageError, excerpt
from perfgate.models import Verdict

AnnotationLevel = Literal["error", "warning", "notice"]

# Events that run with the base repository's secrets and write token while the code may come
# from a pull request: running a PR's k6 script or target there would hand it those secrets.
PRIVILEGED_EVENTS = frozenset({"pull_request_target", "workflow_run"})
PR_EVENTS = frozenset({"pull_request", "pull_request_review", "pull_request_review_comment"})
# Events whose code and token perfgate understands. Every other one (issue_comment, merge_group,
# release, a new event GitHub adds...) runs read-only: nothing pushed, opened or commented.
WRITE_EVENTS = frozenset({"push", "schedule", "workflow_dispatch", "workflow_run", *PR_EVENTS})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,99}")
_COMMAND_LINE = re.compile(r"^([ \t]*):(?=:)", re.MULTILINE)
READ_ONLY_ACTORS = frozenset({"dependabot[bot]"})


def escape_data(text: str) -> str:
    """Message part of a workflow command: `%`, CR and LF encoded, and `::` broken up so no part
    of a message can ever read as another command (the runner shows `%3A` literally; a small price)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace("::", ":%3A")


def neutralize_commands(text: str) -> str:
    """Log text from other sources (sub-command stderr, k6 output) with no line the runner would
    take for a workflow command: a line starting with `::` (after blanks) gets its first `:` encoded."""
    return _COMMAND_LINE.sub(lambda match: match.group(1) + "%3A:", text)


def escape_property(text: str) -> str:
    """Property value of a workflow command (`file=`, `title=`, ...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str = "", **properties: str | int | None) -> str:
    """One `::command key=value,...::message` line; properties that are None are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None
    )
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}\n"


def annotation(
    level: AnnotationLevel, message: str, *, title: str | None = None, file: str | None = None
) -> str:
    return workflow_command(level, message, title=title, file=file)


def _file_entry(name: str, value: str) -> str:
    """Always the multi-line form with a random delimiter: no value can end the entry early or
    add another output, whatever it holds."""
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # 128 random bits: never in practice, but never possible either
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _append(path: Path, entries: Mapping[str, str], kind: str) -> None:
    lines = []
    for name, value in entries.items():
        if not _NAME.fullmatch(name):
            raise UsageError(f"{kind} name {excerpt(name)} is not allowed")
        lines.append(_file_entry(name, value))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(lines))


def write_outputs(path: Path | None, outputs: Mapping[str, str]) -> None:
    """Append step outputs to the GITHUB_OUTPUT file (nothing when `path` is None: not on a runner)."""
    if path is not None:
        _append(path, outputs, "output")


def write_env(path: Path | None, env: Mapping[str, str]) -> None:
    """Append variables for later steps to the GITHUB_ENV file."""
    if path is not None:
        _append(path, env, "environment variable")


def append_summary(path: Path | None, markdown: str) -> None:
    """Append Markdown to the GITHUB_STEP_SUMMARY file."""
    if path is not None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")


@dataclass(frozen=True)
class Event:
    """What perfgate needs from the workflow event (`GITHUB_EVENT_NAME` + the payload file)."""

    name: str
    repository: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pull_request(self) -> Mapping[str, Any] | None:
        pr = self.payload.get("pull_request")
        return pr if isinstance(pr, Mapping) else None

    @property
    def pr_number(self) -> int | None:
        number = self.pull_request.get("number") if self.pull_request else None
        return number if isinstance(number, int) else None

    @property
    def head_repository(self) -> str | None:
        """Where the PR's code comes from (`pull_request.head.repo.full_name`); None if deleted."""
        head = (self.pull_request or {}).get("head") or {}
        repo = head.get("repo") if isinstance(head, Mapping) else None
        name = repo.get("full_name") if isinstance(repo, Mapping) else None
        return name if isinstance(name, str) else None

    @property
    def actor(self) -> str | None:
        sender = self.payload.get("sender")
        login = sender.get("login") if isinstance(sender, Mapping) else None
        return login if isinstance(login, str) else None


def load_event(name: str, path: Path | None, repository: str) -> Event:
    """Read the event payload; a missing path (not on a runner) gives an empty payload."""
    if path is None or not str(path):
        return Event(name=name, repository=repository)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(path, f"cannot read the event payload: {exc}") from exc
    if not isinstance(payload, dict):
        raise InputDataError(path, "the event payload is not a JSON object")
    return Event(name=name, repository=repository, payload=payload)


@dataclass(frozen=True)
class EventJudgement:
    """`refused`: do not run at all. `read_only`: analyse and summarise, publish nothing."""

    refused: str | None = None
    read_only: str | None = None


def _workflow_run_on_pr_code(event: Event) -> bool:
    run = event.payload.get("workflow_run")
    if not isinstance(run, Mapping):
        return True  # no payload to prove otherwise
    head = run.get("head_repository")
    head_name = head.get("full_name") if isinstance(head, Mapping) else None
    return run.get("event") in PR_EVENTS | {"pull_request_target"} or head_name != event.repository


def judge_event(event: Event) -> EventJudgement:
    """Refuse privileged events on PR code; make fork and bot PRs read-only."""
    if event.name == "pull_request_target":
        return EventJudgement(
            refused="refusing to run k6 under pull_request_target: it runs with the base repository's "
            "secrets and write token, and the load test or target may be the PR's code. Use the "
            "pull_request event (fork PRs then run read-only)."
        )
    if event.name == "workflow_run" and _workflow_run_on_pr_code(event):
        return EventJudgement(
            refused="refusing to run k6 under workflow_run triggered by a pull request: the run has "
            "the base repository's secrets while the code is the PR's. Use the pull_request event."
        )
    if event.name not in WRITE_EVENTS:
        return EventJudgement(
            read_only=f"event {excerpt(event.name)} is not one perfgate writes on: read-only run, "
            "nothing is pushed, commented or opened"
        )
    if event.name in PR_EVENTS:
        head = event.head_repository
        if head != event.repository:
            source = head or "a deleted repository"
            return EventJudgement(
                read_only=f"pull request from a fork ({source}): read-only run, nothing is pushed, "
                "commented or opened"
            )
        if event.actor in READ_ONLY_ACTORS:
            return EventJudgement(
                read_only=f"pull request by {event.actor} (read-only token): nothing is pushed, "
                "commented or opened"
            )
    return EventJudgement()


def finding_annotations(verdict: Verdict, *, file: str | None = None) -> list[str]:
    """One `::error` per regression finding and one `::warning` per warn finding; a broken run is
    one `::error` with its reason and k6's last log line (k6's text, escaped as data)."""
    levels: dict[str, AnnotationLevel] = {"regression": "error", "warn": "warning"}
    lines = []
    if verdict.verdict == "broken":
        last = f" k6's last log line: {verdict.k6.log_tail[-1]}" if verdict.k6.log_tail else ""
        lines.append(annotation("error", verdict.reason + last, title="perfgate: broken run", file=file))
    for finding in verdict.findings:
        level = levels.get(finding.classification)
        if level is not None:
            title = f"perfgate {finding.classification}: {finding.metric} {finding.stat}"
            message = finding.reason or f"{finding.baseline} -> {finding.observed} {finding.unit}"
            lines.append(annotation(level, message, title=title, file=file))
    return lines


def workspace_relative(path: str | None, workspace: str | None) -> str | None:
    """`path` relative to the workspace (annotations need it), or None when it lies outside."""
    if not path or not workspace:
        return None
    resolved, root = Path(path).resolve(), Path(workspace).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None


def artifact_name(wanted: str | None, job: str | None, run: str) -> str:
    """The upload-artifact name: `wanted`, or perfgate-<job>-<run>; '' for `none` (no upload)."""
    if wanted == "none":
        return ""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", wanted or f"perfgate-{job or 'job'}-{run}")
