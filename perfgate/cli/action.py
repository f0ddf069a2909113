"""`perfgate action ...`: the composite action's steps (action.yml), one subcommand each.

The face only: each step's options become its typed request, the step runs in
`perfgate.pipeline.action` / `action_publish`, and its log lines and exit code come back here.
The runner's files (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) and the event arrive as options, so
nothing reads the environment. What each step does: pipeline/action.py's docstring.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from perfgate.cli.options import Handler
from perfgate.pipeline.action_steps import CHOICES
from perfgate.settings import Settings


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
_TRUE_FALSE = {"choices": ("true", "false"), "default": "false"}
_OUT = _args("github-output", **_PATH)
_SUMMARY = [*_OUT, *_args("step-summary", **_PATH)]
_HISTORY = [*_args("baselines policy", **_PATH), *_args("scenario", **_STR)]
_INPUTS = (
    " ".join(CHOICES)
    + " k6-version faults repeats event-name repository compare-base-ref compare-max-pairs"
    + " compose-file base-url health-url segments segment merge-parts"
)
ARGUMENTS: dict[str, tuple[str, list[list[Option]]]] = {
    "preflight": ("validate the inputs and the event", [_args(_INPUTS, default=""), _args("event-path", **_PATH), _OUT]),
    "k6": ("pick the k6 the job runs: the version asked for, else the bundled one", [_args("version",
           default=""), _OUT]),
    "wait": ("wait until URL answers 200", [_args("url", required=True), _args("timeout", type=float, default=120)]),
    "run": ("k6 (repeats times), one analysis, every report from it", [_args("profile script base-url faults "
            "artifact-name job", **_STR), _args("repeats", default="1"), _args("explain", **_TRUE_FALSE),
            _args("target", choices=CHOICES["target"], default="notes-api"),
            _args("segments segment merge-parts", default=""), _args("runs-dir", **_REQUIRED_PATH), _HISTORY,
            _OUT]),
    "report": ("step summary, annotations, outputs, then record", [_args("run-dir", **_REQUIRED_PATH),
               _args("profile read-only workspace", **_STR), _args("record", **_TRUE_FALSE), _HISTORY, _SUMMARY]),
    "comment": ("upsert the PR comment", [_args("report", **_REQUIRED_PATH), _args("pr", type=int, required=True),
                _args("scenario", default=""), _OUT]),
    "heal": ("propose a heal; publish it when asked", [_args("publish", choices=("dry-run", "commit", "pr"),
             required=True), _args("verdict", default=""), _args("profile result", **_REQUIRED_PATH), _HISTORY,
             _SUMMARY]),
    "issues": ("one GitHub issue per regression, kept up to date", [_args("run-dir", **_REQUIRED_PATH),
               _args("run-url", default=""), _OUT]),
    "compare": ("compare head with a base ref (paired mode)", [_args("base-ref", required=True),
                _args("target", choices=CHOICES["target"][:3], default="notes-api"),
                _args("target-command health-url base-url profile script policy faults artifact-name job", **_STR),
                _args("compose-file", **_PATH), _args("max-pairs", type=int, default=10),
                _args("runs-dir workspace", **_REQUIRED_PATH), _SUMMARY]),
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
    """Run one step with its options as its request; write its log, return its exit code."""
    from perfgate.pipeline.action import STEPS
    from perfgate.pipeline.action_steps import run_step

    step, request_type = STEPS[args.action_command]
    options = {k: v for k, v in vars(args).items() if k not in ("command", "action_command")}
    result = run_step(step, request_type.model_validate(options), settings)
    stdout.write("".join(result.log))
    return result.exit_code
