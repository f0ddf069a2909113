"""What every step of the composite action shares: the step's result, its log, its inputs' checks.

A step returns a `StepResult`: the lines for the job's log (workflow commands such as
`::warning::`, and plain progress lines) and its exit code. Optional side effects (comment, heal,
issues, the LLM) add a warning and keep exit 0; a `PerfgateError` becomes an `::error::` line
and its exit code (`run_step`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from perfgate.adapters import actions
from perfgate.errors import InputDataError, PerfgateError, UsageError
from perfgate.models import Verdict
from perfgate.models.base import Frozen
from perfgate.settings import Settings

CHOICES = {
    "mode": ("check", "heal", "nightly"),
    "heal": ("off", "commit", "pr"),
    "fail-on": ("regression", "warn"),
    "target": ("notes-api", "compose", "command", "url"),
}
MAX_REPEATS = 5
REPEATS_DIR = "repeats"
_FAULT = re.compile(r"[a-z_]+=[0-9]+(\.[0-9]+)?")


class StepRequest(Frozen):
    """A step's options, exactly (an unknown one is a bug in the face, not input to ignore)."""


class History(StepRequest):
    """Where the history is and how it is judged; empty inputs mean the settings' (or built-in) values."""

    baselines: Path | None = None
    scenario: str | None = None
    policy: Path | None = None


class StepResult(Frozen):
    exit_code: int = 0
    log: tuple[str, ...] = ()


class Log:
    """The lines a step writes to the job's log, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, message: str) -> None:
        """A plain line; no part of it can read as a workflow command (a metric named `x\\n::warning::`)."""
        self.lines.append(actions.neutralize_commands(message.rstrip("\n")) + "\n")

    def annotate(self, level: actions.AnnotationLevel, message: str, title: str = "perfgate") -> None:
        self.lines.append(actions.annotation(level, message, title=title))

    def result(self, exit_code: int = 0) -> StepResult:
        return StepResult(exit_code=exit_code, log=tuple(self.lines))


Request = TypeVar("Request", bound=StepRequest)
Step = Callable[[Request, Settings, Log], None]


def run_step(step: Step[Request], request: Request, settings: Settings) -> StepResult:
    """Run one step; a `PerfgateError` becomes an `::error::` line and its exit code."""
    log = Log()
    try:
        step(request, settings, log)
    except PerfgateError as exc:
        log.annotate("error", str(exc))
        return log.result(exc.exit_code)
    return log.result()


def repeat_count(text: str | int) -> int:
    """Input `repeats`: a whole number from 1 to MAX_REPEATS (empty: 1)."""
    value = str(text).strip() or "1"
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_REPEATS:  # not isdigit(): '²'
        raise UsageError(f"input repeats: expected a whole number from 1 to {MAX_REPEATS}, got {str(text)!r}")
    return int(value)


def fault_list(text: str | None) -> list[str]:
    """Input `notes-api-faults`: ENDPOINT=MS items separated by commas or blanks."""
    faults = [item for item in re.split(r"[\s,]+", text or "") if item]
    for fault in faults:
        if not _FAULT.fullmatch(fault):
            raise UsageError(f"input notes-api-faults: expected ENDPOINT=MS, got {fault!r}")
    return faults


def repeat_dirs(run_dir: Path) -> list[Path]:
    """The re-runs of the same code under `<run-dir>/repeats/`, oldest first."""
    repeats = run_dir / REPEATS_DIR
    found = repeats.iterdir() if repeats.is_dir() else iter(())
    return sorted(p for p in found if (p / "summary.json").is_file())


def load_verdict(run_dir: Path) -> Verdict:
    """The job's one verdict, as the run step wrote it (`verdict.json`)."""
    path = run_dir / "verdict.json"
    try:
        return Verdict.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(path, f"cannot read the verdict: {exc}") from exc
