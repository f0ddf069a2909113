"""The lines every report carries about the run itself: k6's own verdict, what was gated and
what was not, and what "confidence" means. Plain text; each renderer escapes for its format."""

from __future__ import annotations

from perfgate.core.render.formatting import fmt_value, one_line
from perfgate.models import CrossedThreshold, Verdict

CONFIDENCE_TEXT = (
    "confidence: for a regression or improvement, 1 − p, where p is the chance that the history's own "
    "run-to-run noise produces a change this large; for pass and noise, how typical the value is of the "
    "history (2p, at most 1)."
)
MAX_NOT_GATED = 8


def _observed(item: CrossedThreshold) -> str:
    if item.observed is None:
        return ""
    unit = "ms" if "duration" in item.metric or "waiting" in item.metric else "number"
    return f" (observed {fmt_value(item.observed, unit)})"


def k6_lines(verdict: Verdict) -> list[str]:
    """k6's exit code in words, each crossed threshold and, when k6 stopped the run, its last log
    lines; empty when k6's outcome is unknown."""
    k6 = verdict.k6
    if k6.exit_code is None and not k6.crossed:
        return []
    version = f" v{k6.version}" if k6.version else ""
    code = f"exit {k6.exit_code} ({k6.meaning})" if k6.exit_code is not None else "exit code not recorded"
    lines = [f"k6{version}: {code}"]
    if k6.crossed:
        effect = "fails the gate" if k6.gating else "advisory (policy k6_thresholds: advisory)"
        lines[0] += f"; {len(k6.crossed)} threshold(s) crossed, {effect}:"
        lines += [f"  {one_line(c.metric)}: {one_line(c.expression)}{_observed(c)}" for c in k6.crossed]
    if k6.log_tail:
        lines.append("k6's last log lines (k6's own text, shown as data):")
        lines += [f"  | {one_line(line)}" for line in k6.log_tail]
    return lines


def coverage_lines(verdict: Verdict) -> list[str]:
    """Which metrics were gated, and why the others were not."""
    lines = []
    if verdict.gated:
        lines.append(f"gated: {one_line(', '.join(verdict.gated))}")
    shown = verdict.not_gated[:MAX_NOT_GATED]
    lines += [f"not gated: {one_line(item)}" for item in shown]
    if len(verdict.not_gated) > len(shown):
        lines.append(f"not gated: … and {len(verdict.not_gated) - len(shown)} more (in the JSON verdict)")
    return lines
