"""`perfgate merge` as text: the parts, the merged headline numbers, each threshold judged once."""

from __future__ import annotations

from perfgate.models.merge import MergeResult

HEADLINE = ("http_reqs", "http_req_failed", "http_req_duration", "iterations")


def render_merge_text(result: MergeResult) -> str:
    lines = [f"merged {len(result.parts)} part(s) into {result.out}"]
    for part in result.parts:
        segment = f" segment {part.segment}" if part.segment else ""
        lines.append(
            f"  {part.path}{segment}: {part.http_reqs} requests, {part.iterations} iterations ({part.points_file})"
        )
    for key in HEADLINE:
        values = result.metrics.get(key)
        if values:
            shown = ", ".join(f"{stat}={_number(value)}" for stat, value in values.items())
            lines.append(f"  {key}: {shown}")
    total = sum(len(found) for found in result.thresholds.values())
    lines.append(
        f"thresholds ({result.thresholds_source}): {result.crossed} of {total} crossed on the whole test"
    )
    for key, found in sorted(result.thresholds.items()):
        for check in found:
            state = {True: "ok", False: "CROSSED", None: "not evaluated"}[check.ok]
            observed = f" (observed {_number(check.observed)})" if check.observed is not None else ""
            lines.append(f"  {state:>13}  {key}: {check.expression}{observed}")
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) and abs(value) < 1e15 else f"{value:.4g}"
