"""Findings → one verdict: acknowledgements, gating and the one-sentence reason.

The verdict is the most severe classification among the findings (`VERDICT_SEVERITY`), except:
with fewer than `policy.history.min_runs` comparable runs it is `no_baseline` and regressions are
reported as `warn` (classified, not gated); a finding matched by an unexpired acknowledgement is
`warn` and cites it. Acknowledgements whose `until` is before `today` are ignored with a notice.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from datetime import date

from perfgate.models import VERDICT_SEVERITY, Acknowledgement, Finding, VerdictKind


def _matches(ack: Acknowledgement, finding: Finding) -> bool:
    return fnmatch.fnmatchcase(finding.metric, ack.metric) and fnmatch.fnmatchcase(finding.stat, ack.stat)


def apply_acknowledgements(
    findings: Sequence[Finding], acks: Sequence[Acknowledgement], today: date
) -> tuple[list[Finding], list[str]]:
    out: list[Finding] = []
    notices: list[str] = []
    for finding in findings:
        if finding.classification != "regression":
            out.append(finding)
            continue
        active = next((a for a in acks if _matches(a, finding) and a.until >= today), None)
        expired = [a for a in acks if _matches(a, finding) and a.until < today]
        for ack in expired:
            notices.append(
                f"acknowledgement for {ack.metric} {ack.stat} expired on {ack.until.isoformat()}: ignored"
            )
        if active is None:
            out.append(finding)
            continue
        reason = f"acknowledged until {active.until.isoformat()} ({active.reason}): {finding.reason}"
        out.append(finding.model_copy(update={"classification": "warn", "reason": reason}))
    return out, sorted(set(notices))


def ungated(findings: Sequence[Finding]) -> list[Finding]:
    """Too little history: a would-be regression is only a warning."""
    return [
        f.model_copy(
            update={"classification": "warn", "reason": f"not gated (too little history): {f.reason}"}
        )
        if f.classification == "regression"
        else f
        for f in findings
    ]


def _labels(findings: Sequence[Finding], limit: int = 3) -> str:
    parts = []
    for f in findings[:limit]:
        ratio = f"×{f.change_ratio:.2f}" if f.change_ratio is not None else f"{f.observed:.3g}"
        if f.own_change_ratio is not None:
            ratio = f"×{f.own_change_ratio:.2f} against the other endpoints"
        elif f.expected_level_ratio is not None:
            ratio = f"×{f.expected_level_ratio:.2f} at the runner's expected level ({ratio} as measured)"
        parts.append(f"{f.metric} {f.stat} {ratio}")
    more = f" and {len(findings) - limit} more" if len(findings) > limit else ""
    return ", ".join(parts) + more


def decide_verdict(
    findings: Sequence[Finding], *, history_runs: int, min_runs: int, environment_note: str = ""
) -> tuple[VerdictKind, str]:
    if history_runs < min_runs:
        return "no_baseline", (
            f"only {history_runs} comparable run(s), {min_runs} needed: findings are reported, not gated."
        )
    if not findings:
        return "pass", "no gated metric in this run."
    kind: VerdictKind = max((f.classification for f in findings), key=lambda c: VERDICT_SEVERITY[c])
    if kind == "no_baseline":
        return "pass", "no gated metric has history yet."
    chosen = [f for f in findings if f.classification == kind]
    chosen.sort(key=lambda f: -abs((f.expected_level_ratio or f.change_ratio or 1.0) - 1.0))
    sentences: dict[str, str] = {
        "regression": f"{len(chosen)} regression(s): {_labels(chosen)}.",
        "warn": f"{len(chosen)} known or ungated change(s), not failing the gate: {_labels(chosen)}.",
        "noise": f"changes within noise only: {_labels(chosen)}.",
        "improvement": f"{len(chosen)} improvement(s): {_labels(chosen)}.",
        "pass": f"all {len(findings)} gated values within their baselines.",
    }
    if kind == "noise" and environment_note:
        return kind, f"{environment_note}."
    return kind, sentences[kind]
