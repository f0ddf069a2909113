"""Scale-out in the composite action: a matrix of part jobs, then one merge job (README "Scale-out").

    part job   inputs `segments: N`, `segment: I`: k6 runs execution segment I of N against the
               target, the raw points are kept, and nothing is analysed, recorded or uploaded: the
               part's run directory is the step's `part-dir` output, for actions/upload-artifact
    merge job  input `merge-parts: DIR` (what actions/download-artifact wrote, one folder per
               part): `perfgate merge` of every part into one run directory, thresholds judged once
               with the script (and profile), then the one analysis and every report, as for a run

The inputs are checked in preflight and again here (a step may be called on its own): whole
numbers in range, one mode at a time, a parts folder that is one plain path.
"""

from __future__ import annotations

import re
from pathlib import Path

from perfgate.errors import UsageError, excerpt
from perfgate.models.merge import MergeRequest
from perfgate.pipeline import run as running
from perfgate.pipeline.action_steps import Log
from perfgate.pipeline.merge import merge

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = re.compile(r"[0-9]{1,3}")  # ASCII digits only: str.isdigit() takes '²', which int() refuses
# k6 needs at least one VU per part of a VU-based scenario; beyond 16 runners one job can merge
# the raw points, but the matrix itself is the limit to think about first.
MAX_ACTION_SEGMENTS = 16


def parse_scale_inputs(segments: str, segment: str, merge_parts: str) -> tuple[int, int] | None:
    """Inputs `segments`/`segment` → (index from 0, count) for a part job, None otherwise."""
    count_text, index_text = segments.strip(), segment.strip()
    if merge_parts and (count_text or index_text):
        raise UsageError("input merge-parts: the merge job runs no part; leave segments and segment empty")
    if merge_parts and (_CONTROL.search(merge_parts) or merge_parts.startswith("-")):
        raise UsageError(
            f"input merge-parts: control characters or a leading '-' are not allowed: {excerpt(merge_parts)}"
        )
    if not count_text and not index_text:
        return None
    if not _NUMBER.fullmatch(count_text) or not 2 <= int(count_text) <= MAX_ACTION_SEGMENTS:
        raise UsageError(
            f"input segments: expected a whole number from 2 to {MAX_ACTION_SEGMENTS}, got {excerpt(segments)}"
        )
    count = int(count_text)
    if not _NUMBER.fullmatch(index_text) or not 1 <= int(index_text) <= count:
        raise UsageError(f"input segment: expected a whole number from 1 to {count}, got {excerpt(segment)}")
    return int(index_text) - 1, count


def check_scale_mode(
    part: tuple[int, int] | None, merge_parts: str, *, repeats: int, mode: str = "check", compare: str = ""
) -> None:
    """A part job only runs its part (mode check); neither a part nor a merge job repeats or pairs runs."""
    if part is None and not merge_parts:
        return
    name = "segments" if part is not None else "merge-parts"
    if part is not None and mode != "check":
        raise UsageError(
            f"input mode: a part job (input segments) runs mode check, got {mode!r}: heal in the merge job"
        )
    if repeats != 1:
        raise UsageError(f"input repeats: 1 with input {name} (a split test is run once)")
    if compare:
        raise UsageError(f"input compare-base-ref: paired mode does not split; leave {name} empty")


def part_dir(run_dir: Path, part: tuple[int, int]) -> Path:
    """`<run dir>-partIofN`, as `perfgate run --segments N --segment I` names it."""
    return run_dir.with_name(f"{run_dir.name}-part{part[0] + 1}of{part[1]}")


def run_part(k6: running.RunRequest, part: tuple[int, int], log: Log) -> Path:
    """k6 on execution segment `part` into `k6.run_dir`; the directory is the part to upload."""
    meta = running.run_profile(k6.model_copy(update={"segment": part}), log.say)
    log.say(f"k6 finished part {part[0] + 1} of {part[1]} (exit {meta.k6_exit_code}) in {meta.wall_s:.1f} s")
    log.say("a part is not analysed alone: upload the part-dir output; the merge job merges every part")
    return k6.run_dir


def find_parts(folder: Path) -> list[Path]:
    """The part directories under `folder` (one per downloaded artifact), sorted; never empty."""
    if not folder.is_dir():
        raise UsageError(f"input merge-parts: {excerpt(str(folder))} is not a directory")
    parts = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not parts:
        raise UsageError(
            f"input merge-parts: no part directories in {excerpt(str(folder))} "
            "(download each part's artifact into a folder of its own: no merge-multiple)"
        )
    return parts


def merge_parts(
    folder: Path, out: Path, *, script: Path, profile: Path | None, k6: Path | None, log: Log
) -> None:
    """Every part under `folder` merged into the run directory `out`, thresholds judged once."""
    parts = find_parts(folder)
    result = merge(MergeRequest(parts=tuple(parts), out=out, script=script, profile=profile, k6=k6))
    requests = sum(part.http_reqs or 0 for part in result.parts)
    log.say(f"merged {len(parts)} parts ({requests} requests) into {out}")
    for note in result.notes:
        log.annotate("warning", f"merge: {note}")
