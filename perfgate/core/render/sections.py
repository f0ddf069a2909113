"""What every report says besides the tables, as plain text: next step, acknowledgement, heal diff.

Each renderer (text, Markdown, HTML) wraps these in its own markup and escaping. Untrusted
values (metric names, reasons) pass through `one_line`; callers escape for their format.
"""

from __future__ import annotations

import json
from datetime import date

from perfgate.core.render.formatting import one_line
from perfgate.models import Finding, HealPlan, Stage, ThresholdChange, Verdict

MAX_ACKNOWLEDGED = 6
_NEXT_STEP = {
    "regression": "If the change is intended, acknowledge it in perfgate.yml with an expiry (below); "
    "otherwise fix it and push again.",
    "noise": "This looks like runner noise, not your change: re-run the job to confirm. "
    "A real regression shows up again; noise does not.",
    "warn": "Not failing the gate: the change is acknowledged or below the gate's floors. Keep an eye on it.",
    "no_baseline": "Nothing to compare with yet: runs recorded on the default branch build the baseline.",
    "improvement": "Faster than the baseline: healing can tighten the thresholds to keep the gain.",
    "broken": "Fix the run first: check that the target is up at the URL the script uses and that the "
    "script runs to the end (k6's own message is in k6.log).",
}


ACK_DAYS = 14  # the expiry an acknowledgement snippet suggests, counted from today


def context_line(verdict: Verdict) -> str:
    runs = f"{verdict.history_runs} comparable run{'s' if verdict.history_runs != 1 else ''}"
    return one_line(f"scenario {verdict.scenario} · {runs} · {verdict.source}")


def next_step(verdict: Verdict) -> str | None:
    """The verdict's one advice (computed once by the detector); the generic step for verdicts
    written before it carried one."""
    return verdict.advice or _NEXT_STEP.get(verdict.verdict)


def resources_text(verdict: Verdict) -> str | None:
    res = verdict.resources
    parts = []
    if "cpu_peak_percent" in res:
        parts.append(
            f"CPU peak {res['cpu_peak_percent']:.0f} % / mean {res.get('cpu_mean_percent', 0):.0f} %"
        )
    if "rss_peak_mb" in res:
        parts.append(f"RSS peak {res['rss_peak_mb']:.0f} MB / mean {res.get('rss_mean_mb', 0):.0f} MB")
    return "target resources: " + ", ".join(parts) if parts else None


def acknowledgeable(verdict: Verdict) -> list[Finding]:
    """The regressed findings a reviewer may accept (only when the verdict is a regression)."""
    if verdict.verdict != "regression":
        return []
    return [f for f in verdict.findings if f.classification == "regression"][:MAX_ACKNOWLEDGED]


def ack_snippet(findings: list[Finding], until: date | None) -> str:
    """A `perfgate.yml` `acknowledgements:` block; strings are JSON-quoted (valid YAML scalars)."""
    expiry = until.isoformat() if until is not None else "YYYY-MM-DD  # pick a date a few weeks ahead"
    lines = ["acknowledgements:"]
    for finding in findings:
        lines += [
            f"  - metric: {json.dumps(finding.metric)}",
            f"    stat: {json.dumps(finding.stat)}",
            f"    until: {expiry}",
            '    reason: "why this change is accepted (link the PR or issue)"',
        ]
    return "\n".join(lines)


def _stage_text(stage: Stage) -> str:
    return one_line(f"{{duration: {stage.duration}, target: {stage.target:g}}}")


def _threshold_lines(change: ThresholdChange) -> list[str]:
    lines = [f" {one_line(change.metric)}:"]
    if change.old is not None:
        lines.append(f"-  - {one_line(change.old)}")
    lines.append(f"+  - {one_line(change.new)}")
    return lines


def plan_diff(plan: HealPlan) -> str | None:
    """The proposed changes as a unified-diff-like text, or None when nothing changes."""
    if not plan.changed:
        return None
    profile = one_line(plan.profile)
    lines = [f"--- {profile}", f"+++ {profile} (proposed)"]
    if plan.thresholds:
        lines.append("@@ thresholds @@")
        for change in plan.thresholds:
            lines += _threshold_lines(change)
    for stage_change in plan.stages:
        lines.append(f"@@ scenario {one_line(stage_change.scenario)}, stage {stage_change.stage} @@")
        lines += [f"-  - {_stage_text(stage)}" for stage in stage_change.old]
        lines += [f"+  - {_stage_text(stage)}" for stage in stage_change.new]
    return "\n".join(lines)


def plan_reasons(plan: HealPlan) -> list[str]:
    """One line per proposed change (why, with the evidence), or why healing was refused."""
    if plan.refused is not None:
        return [one_line(f"Healing refused: {plan.refused}")]
    lines = []
    for change in plan.thresholds:
        ev = change.evidence
        lines.append(
            one_line(
                f"{change.direction} {change.metric} {change.aggregation}: {change.reason} "
                f"(median {ev.median:.4g}, spread {ev.spread:.3g} over {ev.history_runs} runs)"
            )
        )
    lines += [one_line(f"{s.kind.replace('_', ' ')} ({s.scenario}): {s.reason}") for s in plan.stages]
    lines += [one_line(notice) for notice in plan.notices]
    if not lines:
        lines.append("No threshold or stage changes proposed.")
    return lines
