"""Helpers shared by the `perfgate action` steps (`cli_action`, `cli_action_publish`)."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from contextlib import nullcontext, redirect_stderr
from pathlib import Path
from typing import TextIO

from perfgate.adapters import actions
from perfgate.errors import InputDataError, PerfgateError, UsageError
from perfgate.models import Verdict


def warn(stdout: TextIO, message: str, level: actions.AnnotationLevel = "warning") -> None:
    stdout.write(actions.annotation(level, message, title="perfgate"))


def run_perfgate(argv: Sequence[str], *, tee_stderr: list[str] | None = None) -> tuple[int, str]:
    """Run another perfgate command in-process; (exit code, its stdout). With `tee_stderr`, its
    stderr is collected there too (and still shown in the log)."""
    from perfgate.cli import app as cli

    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err) if tee_stderr is not None else nullcontext():
        code = cli.main([str(arg) for arg in argv], stdout=out)
    if tee_stderr is not None:
        tee_stderr.append(err.getvalue())
        sys.stderr.write(err.getvalue())
    return code, out.getvalue()


def history_argv(args: argparse.Namespace) -> list[str]:
    argv: list[str] = []
    for option in ("baselines", "scenario", "policy"):
        value = getattr(args, option, None)
        if value is not None:
            argv += [f"--{option}", str(value)]
    return argv


MAX_REPEATS = 5
REPEATS_DIR = "repeats"


def repeat_count(text: str | int) -> int:
    """Input `repeats`: a whole number from 1 to MAX_REPEATS (empty: 1)."""
    value = str(text).strip() or "1"
    if not value.isdigit() or not 1 <= int(value) <= MAX_REPEATS:
        raise UsageError(f"input repeats: expected a whole number from 1 to {MAX_REPEATS}, got {str(text)!r}")
    return int(value)


def run_dirs(run_dir: Path) -> list[str]:
    """The run directory and its repeats (`<run-dir>/repeats/*`), as `perfgate analyze` arguments."""
    repeats = run_dir / REPEATS_DIR
    found = sorted(p for p in repeats.iterdir() if (p / "summary.json").is_file()) if repeats.is_dir() else []
    return [str(run_dir), *map(str, found)]


def analyze_argv(run_dir: Path, args: argparse.Namespace, *options: str) -> list[str]:
    """`perfgate analyze` of a run directory and its repeats, with the history options of `args`."""
    return ["analyze", *run_dirs(run_dir), *options, *history_argv(args)]


def run_repeats(
    run_dir: Path, run_argv: Sequence[str], args: argparse.Namespace, report_files: dict[str, tuple[str, ...]]
) -> None:
    """The re-runs of `perfgate run` under `<run-dir>/repeats/`, then the run's reports rewritten
    for the pooled candidate (`perfgate analyze RUN REPEAT...`)."""
    repeats = run_dir / REPEATS_DIR
    argv = list(run_argv)
    argv[argv.index("--runs-dir") + 1] = str(repeats)
    for number in range(2, args.repeats + 1):
        code, _ = run_perfgate([*argv, *history_argv(args)])
        if code not in (0, 1):
            raise PerfgateError(f"perfgate run (repeat {number} of {args.repeats}) failed (exit {code})")
    formats = {"json": "verdict.json", **{fmt: names[0] for fmt, names in report_files.items()}}
    for fmt, name in formats.items():
        code, _ = run_perfgate(analyze_argv(run_dir, args, "--format", fmt, "--output", str(run_dir / name)))
        if code not in (0, 1):
            raise PerfgateError(f"analysing the pooled runs failed (exit {code})")


def load_verdict(run_dir: Path) -> Verdict:
    path = run_dir / "verdict.json"
    try:
        return Verdict.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(path, f"cannot read the verdict: {exc}") from exc
