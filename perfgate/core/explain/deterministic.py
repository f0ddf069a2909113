"""The explanation perfgate writes itself: no key, no network, a timeout or an error → this text.

Built from the same evidence as the prompt (numbers, classifications, the HealPlan's limits), in
plain sentences. Reason strings are not repeated: the report already shows the verdict's reason.
"""

from __future__ import annotations

from typing import Final

from perfgate.core.render.formatting import VERDICT_HEADLINE, fmt_change, fmt_value, metric_label
from perfgate.models import VERDICT_SEVERITY, Finding, HealPlan, ThresholdChange, Verdict

MAX_FINDINGS: Final = 5

_MEANING: Final = {
    "regression": "at least one metric is worse than its history by more than the usual noise, "
    "and the gate fails.",
    "warn": "something changed that deserves a look, but it does not fail the gate.",
    "noise": "the changes are within what this history shows as ordinary run-to-run noise.",
    "improvement": "at least one metric is better than its history, beyond the usual noise.",
    "pass": "every gated metric is within its usual range.",
    "no_baseline": "there is not enough comparable history to judge this run yet.",
    "broken": "the run itself failed (most requests failed, or k6 stopped it), so it is not compared.",
}


def _finding_sentence(finding: Finding) -> str:
    observed = fmt_value(finding.observed, finding.unit)
    if finding.baseline is None:
        return f"{metric_label(finding)} measured {observed}; there is no baseline for it yet."
    baseline = fmt_value(finding.baseline, finding.unit)
    return (
        f"{metric_label(finding)} went from {baseline} to {observed} ({fmt_change(finding)}): "
        f"{finding.classification}, confidence {finding.confidence:.2f}."
    )


def _notable(verdict: Verdict) -> list[Finding]:
    ranked = sorted(
        verdict.findings,
        key=lambda f: (-VERDICT_SEVERITY[f.classification], -abs((f.change_ratio or 1.0) - 1.0)),
    )
    return [f for f in ranked if f.classification not in ("pass", "no_baseline")]


def _limit(change: ThresholdChange) -> str:
    before = "none" if change.old_limit is None else f"{change.old_limit:g}"
    return (
        f"{change.metric} {change.aggregation}: limit {before} → {change.new_limit:g} ({change.direction}, "
        f"from {change.evidence.history_runs} runs, history bound {change.evidence.upper_bound:g})"
    )


def _plan_sentences(plan: HealPlan | None) -> list[str]:
    if plan is None:
        return []
    if plan.refused is not None:
        return ["Healing proposes no changes for this run: it was refused."]
    if not plan.changed:
        return ["Healing proposes no threshold or stage changes."]
    lines = [f"Healing proposes {len(plan.thresholds)} threshold and {len(plan.stages)} stage change(s)."]
    lines += [f"- {_limit(change)}" for change in plan.thresholds]
    lines += [f"- {c.kind} in {c.scenario} stage {c.stage}" for c in plan.stages]
    return lines


def deterministic_explanation(verdict: Verdict, plan: HealPlan | None) -> str:
    """Plain sentences from perfgate's own numbers."""
    runs = f"{verdict.history_runs} comparable run{'s' if verdict.history_runs != 1 else ''}"
    lines = [
        f"perfgate's verdict is {VERDICT_HEADLINE[verdict.verdict]} (compared with {runs}): "
        f"{_MEANING[verdict.verdict]}"
    ]
    notable = _notable(verdict)
    lines += [_finding_sentence(f) for f in notable[:MAX_FINDINGS]]
    if len(notable) > MAX_FINDINGS:
        lines.append(f"{len(notable) - MAX_FINDINGS} more metric(s) changed; see the evidence table.")
    quiet = len(verdict.findings) - len(notable)
    if notable and quiet:
        lines.append(f"{quiet} other metric(s) are within their usual range or have no baseline yet.")
    lines += _plan_sentences(plan)
    return "\n".join(lines)
