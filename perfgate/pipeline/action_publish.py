"""The publishing steps of the composite action: `comment`, `heal`, `issues` (see pipeline/action.py).

Each degrades to a `::warning::` or `::notice::` and exit 0: publishing never fails the gate. The
heal step reuses the job's verdict (verdict.json): the run is not judged a second time.
"""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from perfgate.adapters import actions
from perfgate.adapters.github import issue_marker, make_github_client
from perfgate.core.render.action import render_heal_summary, render_regression_issues
from perfgate.core.render.heal import render_heal_text, render_publish_line
from perfgate.errors import PerfgateError
from perfgate.models import PublishResult
from perfgate.pipeline.action_steps import History, Log, StepRequest, load_verdict
from perfgate.pipeline.heal import HealOutcome, HealRequest, heal, require_baselines
from perfgate.pipeline.load_model import SCRIPT_SUFFIXES
from perfgate.pipeline.publish import publish_heal
from perfgate.settings import Settings


class CommentRequest(StepRequest):
    report: Path
    pr: int
    scenario: str = ""
    github_output: Path | None = None


class HealStepRequest(History):
    publish: Literal["dry-run", "commit", "pr"]
    profile: Path
    result: Path
    verdict: str = ""
    github_output: Path | None = None
    step_summary: Path | None = None


class IssuesRequest(StepRequest):
    run_dir: Path
    run_url: str = ""
    github_output: Path | None = None


def comment(request: CommentRequest, settings: Settings, log: Log) -> None:
    client = make_github_client(settings)
    if client is None:
        log.annotate("notice", "no GitHub token: the PR comment was skipped")
        return
    body = request.report.read_text(encoding="utf-8")
    marker = issue_marker(f"comment:{request.scenario}")
    try:
        with closing(client):
            operation = client.upsert_comment(issue_number=request.pr, body=body, marker=marker)
    except PerfgateError as exc:
        log.annotate("warning", f"the PR comment failed: {exc}")
        return
    actions.write_outputs(request.github_output, {"comment-operation": operation})


def _heal(request: HealStepRequest, settings: Settings, log: Log) -> tuple[HealOutcome, PublishResult | None]:
    verdict = load_verdict(request.result) if (request.result / "verdict.json").is_file() else None
    inline = request.profile.suffix.lower() in SCRIPT_SUFFIXES  # the script's own options are healed
    heal_request = HealRequest(
        profile=None if inline else request.profile,
        script=request.profile if inline else None,
        baselines=require_baselines(request.baselines or settings.baselines),
        scenario=request.scenario,
        result=request.result,
        policy=request.policy or settings.policy,
        dry_run=request.publish == "dry-run",
        k6=settings.k6,
        verdict=verdict,
    )
    outcome = heal(heal_request, today=datetime.now(UTC).date(), say=log.say)
    if request.publish == "dry-run" or not outcome.written:
        return outcome, None
    result = publish_heal(request.profile, outcome.plan, request.publish, settings, original=outcome.original)
    log.say(render_publish_line(result))
    return outcome, result


def heal_step(request: HealStepRequest, settings: Settings, log: Log) -> None:
    if request.verdict == "regression":
        log.annotate("notice", "not healing: the verdict is a regression")
        return
    try:
        outcome, result = _heal(request, settings, log)
    except PerfgateError as exc:
        log.annotate("warning", f"healing failed: {exc}; the gate is not affected")
        return
    text = render_heal_text(
        outcome.plan, outcome.rewrite.diff, written=outcome.written, verified=outcome.verified
    )
    log.say(text)
    actions.append_summary(request.step_summary, render_heal_summary(text, result))
    outputs: dict[str, str] = {"heal-operation": result.operation if result else request.publish}
    if result is not None and result.operation in ("created", "updated", "unchanged") and result.pr_url:
        outputs |= {"pr-url": result.pr_url, "pr-operation": result.operation}
    if result is not None and result.notice:
        log.annotate("notice", result.notice, title="perfgate heal")
    actions.write_outputs(request.github_output, outputs)


def issues(request: IssuesRequest, settings: Settings, log: Log) -> None:
    verdict = load_verdict(request.run_dir)
    found = render_regression_issues(verdict, run_url=request.run_url)
    client = make_github_client(settings) if found else None
    if client is None:
        log.say(f"{len(found)} regression(s); no issue filed" + (" (no GitHub token)" if found else ""))
        return
    filed = []
    try:
        with closing(client):
            for issue in found:
                result = client.upsert_issue(title=issue.title, body=issue.body, key=issue.key)
                filed.append(result.url)
                log.say(f"{result.operation} issue #{result.number}: {result.url}")
    except PerfgateError as exc:
        log.annotate("warning", f"filing the regression issues failed: {exc}")
    actions.write_outputs(request.github_output, {"issues": "\n".join(filed)})
