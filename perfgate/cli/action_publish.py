"""The publishing steps of the composite action: `comment`, `heal`, `issues` (see `cli_action`).

Each degrades to a `::warning::` or `::notice::` and exit 0: publishing never fails the gate.
"""

from __future__ import annotations

import argparse
import json
import re
from contextlib import closing
from typing import TextIO

from perfgate.adapters import actions
from perfgate.cli.action_support import history_argv, load_verdict, run_perfgate, warn
from perfgate.errors import PerfgateError
from perfgate.models import PublishResult
from perfgate.settings import Settings


def cmd_comment(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.adapters.github import issue_marker, make_github_client

    client = make_github_client(settings)
    if client is None:
        warn(stdout, "no GitHub token: the PR comment was skipped", "notice")
        return 0
    body = args.report.read_text(encoding="utf-8")
    marker = issue_marker(f"comment:{args.scenario}")
    try:
        with closing(client):
            operation = client.upsert_comment(issue_number=args.pr, body=body, marker=marker)
    except PerfgateError as exc:
        warn(stdout, f"the PR comment failed: {exc}")
        return 0
    actions.write_outputs(args.github_output, {"comment-operation": operation})
    return 0


_PUBLISHED = re.compile(
    r"publish: (created|updated|unchanged|committed|skipped)(?: (\S+))?(?: \((.*)\))?$", re.M
)


def _publish_result(stdout: str, stderr: str) -> PublishResult | None:
    """What `perfgate heal --publish` did: a PublishResult JSON line on stdout (`{"publish": ...}`
    or the result itself), else its `publish: <operation> <where> (<notice>)` log line."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        data = data.get("publish", data) if isinstance(data, dict) else None
        if isinstance(data, dict) and "operation" in data:
            return PublishResult.model_validate(data)
    found = list(_PUBLISHED.finditer(stderr))
    if not found:
        return None
    operation, where, notice = found[-1].groups()
    url = where if where and where.startswith("https://") else None
    return PublishResult.model_validate({"operation": operation, "pr_url": url, "notice": notice})


def cmd_heal(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    if args.verdict == "regression":
        warn(stdout, "not healing: the verdict is a regression", "notice")
        return 0
    publish = ["--dry-run"] if args.publish == "dry-run" else ["--publish", args.publish]
    argv = ["heal", "--profile", str(args.profile), "--result", str(args.result), *history_argv(args)]
    log: list[str] = []
    code, text = run_perfgate([*argv, *publish], tee_stderr=log)
    if code != 0:
        warn(
            stdout, f"healing failed or is unavailable (perfgate heal exit {code}); the gate is not affected"
        )
        return 0
    result = _publish_result(text, "".join(log))
    actions.append_summary(args.step_summary, actions.heal_summary(text, result))
    outputs = {"heal-operation": result.operation if result else args.publish}
    if result is not None and result.operation in ("created", "updated", "unchanged") and result.pr_url:
        outputs |= {"pr-url": result.pr_url, "pr-operation": result.operation}
    if result is not None and result.notice:
        stdout.write(actions.annotation("notice", result.notice, title="perfgate heal"))
    actions.write_outputs(args.github_output, outputs)
    return 0


def cmd_issues(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.adapters.github import make_github_client

    verdict = load_verdict(args.run_dir)
    issues = actions.regression_issues(verdict, run_url=args.run_url)
    client = make_github_client(settings) if issues else None
    if client is None:
        stdout.write(
            f"{len(issues)} regression(s); no issue filed" + (" (no GitHub token)" if issues else "") + "\n"
        )
        return 0
    filed = []
    try:
        with closing(client):
            for issue in issues:
                result = client.upsert_issue(title=issue.title, body=issue.body, key=issue.key)
                filed.append(result.url)
                stdout.write(f"{result.operation} issue #{result.number}: {result.url}\n")
    except PerfgateError as exc:
        warn(stdout, f"filing the regression issues failed: {exc}")
    actions.write_outputs(args.github_output, {"issues": "\n".join(filed)})
    return 0
