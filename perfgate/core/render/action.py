"""What the action posts besides the report: one GitHub issue per regression (kept up to date
night after night by its key) and the healing section of the step summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfgate.models import PublishResult, Verdict


@dataclass(frozen=True)
class Issue:
    key: str
    title: str
    body: str


def render_regression_issues(verdict: Verdict, *, run_url: str = "") -> list[Issue]:
    """One issue per regressed metric; the key keeps the same issue up to date night after night."""
    issues = []
    for f in (f for f in verdict.findings if f.classification == "regression"):
        change = f"×{f.change_ratio:.2f}" if f.change_ratio is not None else "new"
        body = [
            f"perfgate found a regression in scenario `{verdict.scenario}`: `{f.metric}` {f.stat}.",
            "",
            "| baseline | observed | change | confidence | detectors |",
            "|--:|--:|--:|--:|---|",
            f"| {f.baseline if f.baseline is not None else '–'} {f.unit} | {f.observed:.4g} {f.unit} | {change} "
            f"| {f.confidence:.3f} | {', '.join(f.detectors) or '–'} |",
            "",
            f"Why: {f.reason}" if f.reason else "",
            f"Latest run: {run_url}" if run_url else "",
            "",
            "This issue is updated by each nightly run while the regression lasts; close it once fixed.",
        ]
        key = f"{verdict.scenario}:{f.metric}:{f.stat}"
        title = f"perfgate: {f.metric} {f.stat} regressed ({verdict.scenario})"
        issues.append(Issue(key=key, title=title, body="\n".join(body)))
    return issues


def _fenced(text: str, info: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}\n"


def render_heal_summary(output: str, result: PublishResult | None) -> str:
    """Step-summary section for `perfgate heal`: its diff (fenced) and what was published."""
    lines = ["### perfgate: healing", ""]
    if result is not None:
        where = result.pr_url or result.branch or ""
        lines += [f"Publish: **{result.operation}** {where}".rstrip(), ""]
    body = output.strip()
    return "\n".join(lines) + "\n" + (_fenced(body, "diff") if body else "Nothing to change.\n")
