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
from perfgate.errors import InputDataError
from perfgate.models import Verdict


def warn(stdout: TextIO, message: str, level: actions.AnnotationLevel = "warning") -> None:
    stdout.write(actions.annotation(level, message, title="perfgate"))


def run_perfgate(argv: Sequence[str], *, tee_stderr: list[str] | None = None) -> tuple[int, str]:
    """Run another perfgate command in-process; (exit code, its stdout). With `tee_stderr`, its
    stderr is collected there too (and still shown in the log)."""
    from perfgate import cli

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


def load_verdict(run_dir: Path) -> Verdict:
    path = run_dir / "verdict.json"
    try:
        return Verdict.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(path, f"cannot read the verdict: {exc}") from exc
