"""The composite action's steps (action.yml → `perfgate action STEP`), called as pipeline functions.

    preflight  validate the inputs, refuse privileged events on PR code, detect read-only runs
    k6         the k6 the job runs: input k6-version, installed if need be (pipeline/action_k6.py)
    wait       wait until a target started elsewhere answers 200
    run        k6 once (or `repeats` times under `<run-dir>/repeats/`), then ONE analysis of the
               (pooled) run; every report is rendered from it into the run directory: verdict.json,
               report.md (with the explanation when asked), junit.xml, report.html
    report     the step summary (report.md), annotations and outputs from that verdict.json, then
               record each run in the history
    comment, heal, issues   publishing (pipeline/action_publish.py)
    compare    paired mode (input compare-base-ref; pipeline/action_compare.py): the base ref in a
               git worktree, base and head started side by side, `perfgate compare`, both stopped

The job analyses its run once, in the run step; the later steps read that verdict back and never
analyse again. The runner's files (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) and the event arrive
in the request, so nothing here reads the environment.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from perfgate.adapters import actions
from perfgate.adapters.target import wait_for_health
from perfgate.errors import UsageError, excerpt
from perfgate.models import BROKEN_EXIT_CODES
from perfgate.paths import BUNDLED_PROFILE, NOTES_SCRIPT
from perfgate.pipeline import action_compare, action_publish, action_scale
from perfgate.pipeline import run as running
from perfgate.pipeline.action_k6 import K6StepRequest, k6_install, k6_step
from perfgate.pipeline.action_steps import (
    CHOICES,
    REPEATS_DIR,
    History,
    Log,
    Step,
    StepRequest,
    fault_list,
    load_verdict,
    repeat_count,
    repeat_dirs,
)
from perfgate.pipeline.analyze import AnalyzeRequest, analyze, record_runs
from perfgate.pipeline.explain import explain_analysis
from perfgate.pipeline.reports import write_run_reports
from perfgate.settings import Settings

COMPOSE_BASE_URL = "http://127.0.0.1:8000"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"https?://[^\s]+")
Target = Literal["notes-api", "compose", "command", "url"]


class PreflightRequest(StepRequest):
    mode: str = ""
    heal: str = ""
    fail_on: str = ""
    target: str = ""
    k6_version: str = ""
    faults: str = ""
    repeats: str = ""
    event_name: str = ""
    repository: str = ""
    compose_file: str = ""
    base_url: str = ""
    health_url: str = ""
    event_path: Path | None = None
    github_output: Path | None = None
    compare_base_ref: str = ""
    compare_max_pairs: str = ""
    segments: str = ""
    segment: str = ""
    merge_parts: str = ""


class WaitRequest(StepRequest):
    url: str
    timeout: float = 120.0


class RunRequest(History):
    runs_dir: Path
    profile: str | None = None
    script: str | None = None
    base_url: str | None = None
    faults: str | None = None
    artifact_name: str | None = None
    job: str | None = None
    repeats: str = "1"
    target: Target = "notes-api"
    explain: Literal["true", "false"] = "false"
    segments: str = ""  # scale-out: a part job (pipeline/action_scale.py)
    segment: str = ""
    merge_parts: str = ""  # scale-out: the merge job
    github_output: Path | None = None


class ReportRequest(History):
    run_dir: Path
    profile: str | None = None
    read_only: str | None = None
    workspace: str | None = None
    record: Literal["true", "false"] = "false"
    github_output: Path | None = None
    step_summary: Path | None = None


def _check_inputs(request: PreflightRequest) -> None:
    for name, allowed in CHOICES.items():
        value = getattr(request, name.replace("-", "_"))
        if value not in allowed:
            raise UsageError(f"input {name}: expected one of {', '.join(allowed)}, got {value!r}")
    k6_install(request.k6_version)
    fault_list(request.faults)
    part = action_scale.parse_scale_inputs(request.segments, request.segment, request.merge_parts)
    action_scale.check_scale_mode(
        part,
        request.merge_parts,
        repeats=repeat_count(request.repeats),
        mode=request.mode,
        compare=request.compare_base_ref,
    )
    if request.compare_base_ref:
        action_compare.check_compare_inputs(
            request.compare_base_ref, request.compare_max_pairs, request.target, request.mode
        )
    _check_text_inputs(request)


def _check_text_inputs(request: PreflightRequest) -> None:
    """Free-text inputs that become paths or URLs: one line, no option look-alikes, real URLs."""
    for name in ("compose-file", "base-url", "health-url"):
        value = getattr(request, name.replace("-", "_"))
        if _CONTROL.search(value) or value.startswith("-"):
            raise UsageError(
                f"input {name}: control characters or a leading '-' are not allowed: {excerpt(value)}"
            )
        if name != "compose-file" and value and not _URL.fullmatch(value):
            raise UsageError(f"input {name}: expected an http(s) URL, got {excerpt(value)}")


def _effective_heal(request: PreflightRequest, read_only: bool, log: Log) -> str:
    if request.mode == "check":
        if request.heal != "off":
            log.annotate(
                "warning", f"input heal: {request.heal} is ignored in mode check; use mode: heal or nightly"
            )
        return "off"
    return "dry-run" if read_only or request.heal == "off" else request.heal


def preflight(request: PreflightRequest, settings: Settings, log: Log) -> None:
    _check_inputs(request)
    event = actions.load_event(request.event_name, request.event_path, request.repository)
    judged = actions.judge_event(event)
    if judged.refused is not None:
        raise UsageError(judged.refused)
    if judged.read_only is not None:
        log.annotate("notice", judged.read_only, title="perfgate: read-only run")
    k6_version, install = k6_install(request.k6_version)
    outputs = {
        "read-only": "true" if judged.read_only else "false",
        "read-only-reason": judged.read_only or "",
        "pr-number": str(event.pr_number or ""),
        "heal": _effective_heal(request, judged.read_only is not None, log),
        "k6-version": k6_version,
        "k6-install": install,
    }
    actions.write_outputs(request.github_output, outputs)


def wait(request: WaitRequest, settings: Settings, log: Log) -> None:
    wait_for_health(request.url, request.timeout)
    log.say(f"target healthy at {request.url}")


def _k6_request(
    request: RunRequest, profile: Path | None, run_dir: Path, settings: Settings
) -> running.RunRequest:
    script = Path(request.script) if request.script else NOTES_SCRIPT
    k6 = running.RunRequest(
        profile=profile, run_dir=run_dir, script=script, k6=settings.k6, scenario=request.scenario
    )
    if request.target == "notes-api":
        faults = fault_list(request.faults)
        env = {"NOTES_FAULT_LATENCY_MS": ",".join(faults)} if faults else {}
        return k6.model_copy(update={"start_notes_api": True, "faults": env})
    base_url = request.base_url or (COMPOSE_BASE_URL if request.target == "compose" else None)
    if base_url is None:
        raise UsageError(f"input base-url is required with target: {request.target}")
    return k6.model_copy(update={"base_url": base_url})


def run(request: RunRequest, settings: Settings, log: Log) -> None:
    """k6 `repeats` times (or one part, or the parts merged), one analysis, every report from it."""
    count = repeat_count(request.repeats)
    part = action_scale.parse_scale_inputs(request.segments, request.segment, request.merge_parts)
    action_scale.check_scale_mode(part, request.merge_parts, repeats=count)
    # Inputs empty: the notes journey with the smoke profile (as action.yml says). A script alone
    # runs with its own options, and its inline options are what healing rewrites.
    profile = Path(request.profile) if request.profile else (None if request.script else BUNDLED_PROFILE)
    healed = profile or Path(request.script or NOTES_SCRIPT)
    now = datetime.now(UTC)
    run_dir = running.default_run_dir(request.runs_dir, healed, now).resolve()
    if part is not None:
        where = action_scale.part_dir(run_dir, part)
        action_scale.run_part(_k6_request(request, profile, where, settings), part, log)
        actions.write_outputs(request.github_output, {"part-dir": str(where), "profile": str(healed)})
        return
    if request.merge_parts:
        script = Path(request.script) if request.script else NOTES_SCRIPT
        action_scale.merge_parts(
            Path(request.merge_parts), run_dir, script=script, profile=profile, k6=settings.k6, log=log
        )
    repeats = _run_k6(request, profile, run_dir, count, settings, log) if not request.merge_parts else []
    analysis = analyze(
        AnalyzeRequest(
            result=run_dir,
            repeats=tuple(repeats),
            baselines=request.baselines or settings.baselines,
            scenario=request.scenario,
            policy=request.policy or settings.policy,
        ),
        today=now.date(),
    )
    explanation = explain_analysis(analysis, settings) if request.explain == "true" else None
    write_run_reports(analysis, run_dir, today=now.date(), explanation=explanation)
    log.say(f"verdict: {analysis.verdict.verdict}; reports in {run_dir}")
    outputs = {
        "run-dir": str(run_dir),
        "profile": str(healed),
        "artifact-name": actions.artifact_name(request.artifact_name, request.job, run_dir.name),
    }
    actions.write_outputs(request.github_output, outputs)


def _run_k6(
    request: RunRequest, profile: Path | None, run_dir: Path, count: int, settings: Settings, log: Log
) -> list[Path]:
    """k6 `count` times: into `run_dir`, then the re-runs under `<run_dir>/repeats/`; those re-runs."""
    repeats = [run_dir / REPEATS_DIR / f"{number}" for number in range(2, count + 1)]
    for index, where in enumerate([run_dir, *repeats]):
        meta = running.run_profile(_k6_request(request, profile, where, settings), log.say)
        log.say(f"k6 finished (exit {meta.k6_exit_code}) in {meta.wall_s:.1f} s")
        if meta.k6_exit_code in BROKEN_EXIT_CODES:  # reported, not repeated: it would break again
            return repeats[:index]
    return repeats


def report(request: ReportRequest, settings: Settings, log: Log) -> None:
    """Publish the run step's verdict into the runner; record the run(s) when asked."""
    verdict = load_verdict(request.run_dir)
    report_md = request.run_dir / "report.md"
    notice = f"> [!NOTE]\n> **perfgate ran read-only:** {request.read_only}\n\n" if request.read_only else ""
    actions.append_summary(request.step_summary, notice + report_md.read_text(encoding="utf-8"))
    file = actions.workspace_relative(request.profile, request.workspace)
    log.lines += actions.finding_annotations(verdict, file=file)
    if request.record == "true" and verdict.verdict == "broken":
        log.say("not recorded: a broken run is never a baseline")
    elif request.record == "true":
        paths = [request.run_dir, *repeat_dirs(request.run_dir)]
        baselines = request.baselines or settings.baselines
        for stored, where in record_runs(paths, baselines, request.scenario, verdict, now=datetime.now(UTC)):
            log.say(f"recorded run {stored.run_id} in {where}")
    gate = "fail" if verdict.exit_code else "pass"  # a regression, a broken run, or k6 thresholds crossed
    outputs = {"verdict": verdict.verdict, "gate": gate, "report-path": str(report_md)}
    outputs["scenario"] = verdict.scenario
    for fmt, name in (("junit", "junit.xml"), ("html", "report.html")):
        if (request.run_dir / name).is_file():
            outputs[f"{fmt}-path"] = str(request.run_dir / name)
    actions.write_outputs(request.github_output, outputs)


STEPS: dict[str, tuple[Step[Any], type[StepRequest]]] = {
    "preflight": (preflight, PreflightRequest),
    "wait": (wait, WaitRequest),
    "k6": (k6_step, K6StepRequest),
    "run": (run, RunRequest),
    "report": (report, ReportRequest),
    "comment": (action_publish.comment, action_publish.CommentRequest),
    "heal": (action_publish.heal_step, action_publish.HealStepRequest),
    "issues": (action_publish.issues, action_publish.IssuesRequest),
    "compare": (action_compare.compare_step, action_compare.CompareStepRequest),
}
