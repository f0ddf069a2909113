"""Markdown for the GitHub step summary and the PR comment: the verdict first, then evidence.

Layout: the verdict headline (ending in the hidden upsert marker `<!-- perfgate -->`, so the first
line both leads with the verdict and identifies the comment), the reason, the findings of the endpoints that
moved (grouped by endpoint, run-level metrics last), the rest folded away, the next step
(acknowledge or re-run), healing proposals as a diff, this run's numbers, resources, notices.
Every free-text value goes through `escape_md`; code blocks get a fence longer than their text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from perfgate.core.render.formatting import (
    VERDICT_HEADLINE,
    VERDICT_ICON,
    FindingGroup,
    fence_for,
    fmt_arrow,
    fmt_change,
    fmt_int,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    group_findings,
    one_line,
    short_metric,
)
from perfgate.core.render.gate_facts import CONFIDENCE_TEXT, coverage_lines, k6_lines
from perfgate.core.render.sections import (
    ack_snippet,
    acknowledgeable,
    context_line,
    next_step,
    plan_diff,
    plan_reasons,
    resources_text,
)
from perfgate.models import HealPlan, Verdict
from perfgate.models.detect import TrendReport

MARKER = "<!-- perfgate -->"
MAX_ROWS = 80
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~&:"})
_WORD_JOINER = "\u2060"


def escape_md(text: str) -> str:
    """Untrusted or free text rendered as text, never as Markdown, HTML, a mention or a link (one line).

    Backslash escapes stop Markdown and HTML; GitHub finds @mentions and bare URLs after that, so
    `@`, `://` and `www.` are broken with an invisible word joiner.
    """
    escaped = one_line(text).translate(_MD_SPECIAL)
    escaped = escaped.replace("@", "@" + _WORD_JOINER).replace("\\://", "\\:" + _WORD_JOINER + "//")
    return escaped.replace("www\\.", "www" + _WORD_JOINER + "\\.")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _findings_table(groups: Sequence[FindingGroup]) -> list[str]:
    lines = [
        _row(["endpoint", "metric", "baseline → observed", "change", "confidence", "verdict"]),
        "|---|---|--:|--:|--:|---|",
    ]
    rows = 0
    total = sum(len(group.findings) for group in groups)
    for group in groups:
        for i, f in enumerate(group.findings):
            if rows == MAX_ROWS:
                return [*lines, "", f"… and {total - rows} more metrics (see the JSON or HTML report)."]
            where = f"**{escape_md(group.title)}**" if i == 0 else ""
            verdict = f"{VERDICT_ICON[f.classification]} {f.classification}"
            cells = [where, escape_md(short_metric(f)), fmt_arrow(f), fmt_change(f)]
            lines.append(_row([*cells, f"{f.confidence * 100:.0f} %", verdict]))
            rows += 1
    return lines


def _findings(verdict: Verdict) -> list[str]:
    groups = group_findings(verdict.findings)
    moved = [g for g in groups if g.notable]
    quiet = [g for g in groups if not g.notable]
    lines = [*_findings_table(moved), ""] if moved else []
    if quiet:
        count = sum(len(g.findings) for g in quiet)
        summary = f"{count} metric{'s' if count != 1 else ''} within noise"
        lines += [f"<details><summary>{summary}</summary>", "", *_findings_table(quiet), "", "</details>", ""]
    return lines


def _summary_table(verdict: Verdict) -> list[str]:
    opened = "" if verdict.findings else " open"  # without findings, the run's numbers are the report
    lines = [
        f"<details{opened}><summary>This run, per endpoint</summary>",
        "",
        _row(["endpoint", "requests", "p50", "p95", "p99", "errors", "req/s"]),
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for row in verdict.summary:
        lines.append(
            _row(
                [
                    escape_md(row.endpoint),
                    fmt_int(row.requests),
                    fmt_ms(row.p50_ms),
                    fmt_ms(row.p95_ms),
                    fmt_ms(row.p99_ms),
                    fmt_ratio(row.error_rate),
                    fmt_rps(row.rps),
                ]
            )
        )
    return [*lines, "", "</details>", ""]


def _code_block(text: str, language: str) -> list[str]:
    fence = fence_for(text)
    return [f"{fence}{language}", text, fence, ""]


def _next_steps(verdict: Verdict, ack_until: date | None) -> list[str]:
    step = next_step(verdict)
    lines = [f"**Next step:** {escape_md(step)}", ""] if step else []
    regressed = acknowledgeable(verdict)
    if regressed:
        lines += _code_block(ack_snippet(regressed, ack_until), "yaml")
    return lines


def _healing(plan: HealPlan) -> list[str]:
    lines = ["### Proposed threshold and stage changes", ""]
    diff = plan_diff(plan)
    if diff is not None:
        lines += _code_block(diff, "diff")
    lines += [f"- {escape_md(reason)}" for reason in plan_reasons(plan)]
    return [*lines, ""]


def render_markdown(
    verdict: Verdict,
    *,
    plan: HealPlan | None = None,
    ack_until: date | None = None,
    explanation: str | None = None,
) -> str:
    """The step summary / PR comment. `ack_until`: expiry for the acknowledgement snippet;
    `explanation`: an already-rendered (escaped) explanation block, placed under the verdict."""
    lines = [
        f"## {VERDICT_ICON[verdict.verdict]} perfgate: {VERDICT_HEADLINE[verdict.verdict]} {MARKER}",
        "",
        escape_md(verdict.reason),
        "",
        f"<sub>{escape_md(context_line(verdict))}</sub>",
        "",
        *([explanation.rstrip(), ""] if explanation else []),
        *_findings(verdict),
        *_next_steps(verdict, ack_until),
    ]
    if plan is not None:
        lines += _healing(plan)
    if verdict.summary:
        lines += _summary_table(verdict)
    resources = resources_text(verdict)
    if resources:
        lines += [escape_md(resources[0].upper() + resources[1:]) + ".", ""]
    facts = [*k6_lines(verdict), *coverage_lines(verdict)]
    if facts:
        shown = " open" if verdict.k6.fails_gate or verdict.k6.log_tail else ""  # what failed the run
        lines += [
            f"<details{shown}><summary>k6's verdict and what was gated</summary>",
            "",
            "```text",
            *(fact.replace("`", "'") for fact in facts),
            "```",
            "",
        ]
        lines += ["</details>", ""]
    if verdict.findings:
        lines += [f"<sub>{escape_md(CONFIDENCE_TEXT)}</sub>", ""]
    if verdict.notices:
        lines += ["> **Notices**", *(f"> - {escape_md(notice)}" for notice in verdict.notices)]
    return "\n".join(lines).rstrip() + "\n"


def render_trend_markdown(scenario: str, report: TrendReport) -> str:
    """`perfgate trend` as a step summary section: the regressions and improvements with the run
    each starts at; the changes called noise (the runner's, or below the floors) only counted."""
    changes = [(m, cp) for m in report.metrics for cp in m.change_points]
    flagged = [(m, cp) for m, cp in changes if cp.classification != "noise"]
    lines = [
        f"### Change points in {escape_md(scenario)}",
        "",
        f"{report.runs} runs scanned: {len(flagged)} regression(s) or improvement(s) past the policy's floors"
        + (
            f"; {len(changes) - len(flagged)} more change(s) called noise (the runner's, or too small)."
            if len(changes) > len(flagged)
            else "."
        ),
        "",
    ]
    if flagged:
        lines += [
            _row(["metric", "from run", "mean before → after", "change", "kind"]),
            "|---|---|--:|--:|---|",
        ]
        for metric, point in flagged:
            change = "–" if point.change_ratio is None else f"{(point.change_ratio - 1) * 100:+.1f} %"
            where = " (against the other endpoints)" if point.space == "relative" else ""
            lines.append(
                _row(
                    [
                        f"{escape_md(metric.metric)} {escape_md(metric.stat)}",
                        escape_md(point.run_id),
                        f"{point.mean_before:.4g} → {point.mean_after:.4g}",
                        change + where,
                        f"{VERDICT_ICON[point.classification]} {point.classification}",
                    ]
                )
            )
        lines.append("")
    lines += [f"> {escape_md(notice)}" for notice in report.notices]
    return "\n".join(lines).rstrip() + "\n"
