"""Markdown for the GitHub step summary and the PR comment: the verdict first, then evidence."""

from __future__ import annotations

from perfgate.core.render.formatting import (
    VERDICT_HEADLINE,
    VERDICT_ICON,
    fmt_change,
    fmt_int,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    fmt_value,
    metric_label,
)
from perfgate.models import Verdict

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~"})


def escape_md(text: str) -> str:
    """Untrusted or free text rendered as text, never as Markdown or HTML."""
    return text.translate(_MD_SPECIAL).replace("\n", " ")


def _summary_table(verdict: Verdict) -> list[str]:
    lines = ["| endpoint | requests | p50 | p95 | p99 | errors | req/s |", "|---|--:|--:|--:|--:|--:|--:|"]
    for row in verdict.summary:
        cells = [
            f"`{row.endpoint}`",
            fmt_int(row.requests),
            fmt_ms(row.p50_ms),
            fmt_ms(row.p95_ms),
            fmt_ms(row.p99_ms),
            fmt_ratio(row.error_rate),
            fmt_rps(row.rps),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _findings_table(verdict: Verdict) -> list[str]:
    lines = ["| metric | baseline → observed | change | confidence | verdict |", "|---|--:|--:|--:|---|"]
    for f in verdict.findings:
        mark = VERDICT_ICON.get(f.classification, "")
        arrow = f"{fmt_value(f.baseline, f.unit)} → {fmt_value(f.observed, f.unit)}"
        cells = [
            f"`{metric_label(f)}`",
            arrow,
            fmt_change(f),
            f"{f.confidence:.2f}",
            f"{mark} {f.classification}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_markdown(verdict: Verdict) -> str:
    icon = VERDICT_ICON[verdict.verdict]
    lines = [
        f"## {icon} perfgate: {VERDICT_HEADLINE[verdict.verdict]}",
        "",
        escape_md(verdict.reason),
        "",
        f"Scenario `{verdict.scenario}`, compared with {verdict.history_runs} comparable runs.",
        "",
    ]
    if verdict.findings:
        lines += ["### Evidence", "", *_findings_table(verdict), ""]
    if verdict.summary:
        lines += ["### This run", "", *_summary_table(verdict), ""]
    if verdict.resources:
        res = verdict.resources
        lines.append(
            f"Target resources: CPU peak {res.get('cpu_peak_percent', 0):.0f} %, "
            f"RSS peak {res.get('rss_peak_mb', 0):.0f} MB."
        )
        lines.append("")
    for notice in verdict.notices:
        lines.append(f"> {escape_md(notice)}")
    return "\n".join(lines).rstrip() + "\n"
