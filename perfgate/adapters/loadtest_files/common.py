"""Shared pieces of the load-test file rewriters: edits by span, diffs, atomic writes, labels."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from perfgate.adapters.atomic import write_atomic
from perfgate.errors import InputDataError
from perfgate.models import StageChange, ThresholdChange

_TIME_METRICS = ("http_req_", "iteration_duration", "group_duration")
_LIMIT = re.compile(r"(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True, order=True)
class Edit:
    """Replace `text[start:end]` with `replacement` (offsets in the same units as the text)."""

    start: int
    end: int
    replacement: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; the ones at the same position keep their given order."""
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[0]))
    out: list[str] = []
    cursor = 0
    for _, edit in ordered:
        if edit.start < cursor:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        out.append(text[cursor : edit.start])
        out.append(edit.replacement)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)


def limit_span(text: str) -> tuple[int, int] | None:
    """Where the limit (the trailing number of `agg op number`) sits in a threshold's text."""
    match = _LIMIT.search(text)
    return match.span("number") if match else None


def only_limit_changes(old: str, new: str) -> tuple[tuple[int, int], str] | None:
    """(span of the old limit, the new limit's text) when `new` is `old` with only its limit
    changed; None otherwise (the rewriters then refuse rather than retype the expression)."""
    old_span, new_span = limit_span(old), limit_span(new)
    if old_span is None or new_span is None:
        return None
    if old[: old_span[0]] + old[old_span[1] :] != new[: new_span[0]] + new[new_span[1] :]:
        return None
    return old_span, new[new_span[0] : new_span[1]]


def unified_diff(old: str, new: str, name: str) -> str:
    """`git diff`-style unified diff of one file ("" when nothing changed)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (`adapters.atomic`); a failure names the file.

    A symlink is refused: replacing it would turn the link into a regular file (and a commit
    would then push that file where the link was)."""
    if path.is_symlink():
        raise InputDataError(path, "is a symlink: perfgate does not rewrite through links; give its target")
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise InputDataError(path, f"cannot write: {exc.strerror or exc}") from exc


def number_text(value: float) -> str:
    """A stage target or limit as JSON/JS/YAML number text: 10, not 10.0."""
    if value == int(value):
        return str(int(value))
    return format(Decimal(repr(value)).normalize(), "f")


def _short(value: float) -> str:
    return number_text(float(f"{value:.2g}"))


def threshold_note(change: ThresholdChange) -> str:
    """`p(95) history 380 ms ± 12`: the short comment for a changed threshold."""
    unit = " ms" if change.metric.startswith(_TIME_METRICS) and change.aggregation != "rate" else ""
    evidence = change.evidence
    return f"{change.aggregation} history {_short(evidence.median)}{unit} ± {_short(evidence.spread)}"


def stage_note(change: StageChange) -> str:
    return {"lengthen_ramp": "longer ramp", "step_load": "step load", "remove_stage": "stage removed"}[
        change.kind
    ]


def missing(path: Path, what: str, known: Sequence[str] = ()) -> InputDataError:
    hint = f" (found: {', '.join(known)})" if known else ""
    return InputDataError(path, f"cannot apply the plan: {what} is not in the file{hint}")
