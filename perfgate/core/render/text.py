"""Terminal text and JSON renderings of a verdict.

The same content as the Markdown report, as aligned plain text. Colour (ANSI) only when the
caller asks (`color=stdout.isatty()`); free text passes through `one_line`, so a metric name
cannot smuggle escape sequences into the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from perfgate.core.render.formatting import (
    VERDICT_HEADLINE,
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
from perfgate.models import Finding, HealPlan, Verdict
from perfgate.models.detect import TrendReport

_COLOURS = {
    "regression": "31",
    "broken": "31",
    "warn": "33",
    "noise": "36",
    "improvement": "32",
    "pass": "32",
    "+": "32",
    "-": "31",
    "@": "36",
}


def _paint(text: str, code: str | None, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)) -> list[str]:
    """Aligned columns: those in `left` are left-aligned, numbers right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def _summary_lines(verdict: Verdict) -> list[str]:
    header = ["endpoint", "requests", "p50", "p95", "p99", "errors", "req/s"]
    rows = [
        [
            one_line(row.endpoint),
            fmt_int(row.requests),
            fmt_ms(row.p50_ms),
            fmt_ms(row.p95_ms),
            fmt_ms(row.p99_ms),
            fmt_ratio(row.error_rate),
            fmt_rps(row.rps),
        ]
        for row in verdict.summary
    ]
    return _table(header, rows) if rows else []


def _finding_lines(verdict: Verdict, color: bool) -> list[str]:
    ordered: list[Finding] = []
    rows = []
    for group in group_findings(verdict.findings):
        for i, f in enumerate(group.findings):
            where = one_line(group.title) if i == 0 else ""
            rows.append(
                [
                    where,
                    one_line(short_metric(f)),
                    fmt_arrow(f),
                    fmt_change(f),
                    f"{f.confidence:.2f}",
                    f.classification,
                ]
            )
            ordered.append(f)
    if not rows:
        return []
    header = ["endpoint", "metric", "baseline → observed", "change", "confidence", "verdict"]
    lines = _table(header, rows, left=(0, 1, 5))
    for i, finding in enumerate(ordered, start=2):
        wanted = color and finding.classification != "pass"
        lines[i] = _paint(lines[i], _COLOURS.get(finding.classification), wanted)
    return lines


def _next_lines(verdict: Verdict, ack_until: date | None) -> list[str]:
    step = next_step(verdict)
    lines = [f"next: {step}"] if step else []
    regressed = acknowledgeable(verdict)
    if regressed:
        lines += ["", *("    " + line for line in ack_snippet(regressed, ack_until).splitlines())]
    return lines


def _plan_lines(plan: HealPlan, color: bool) -> list[str]:
    lines = ["proposed changes:"]
    diff = plan_diff(plan)
    if diff is not None:
        lines += [_paint(line, _COLOURS.get(line[:1]), color) for line in diff.splitlines()]
    return lines + [f"  - {reason}" for reason in plan_reasons(plan)]


def render_text(
    verdict: Verdict,
    *,
    color: bool = False,
    plan: HealPlan | None = None,
    ack_until: date | None = None,
    explanation: str | None = None,
) -> str:
    """The verdict first, then the reason (and an already-sanitised explanation, when given), the
    evidence, the next step and the run's numbers."""
    headline = f"perfgate: {VERDICT_HEADLINE[verdict.verdict]}"
    lines = [_paint(headline, _COLOURS.get(verdict.verdict), color), one_line(verdict.reason)]
    lines.append(context_line(verdict))
    if explanation:
        lines += ["", explanation.rstrip()]
    findings = _finding_lines(verdict, color)
    if findings:
        lines += ["", *findings]
    next_lines = _next_lines(verdict, ack_until)
    if next_lines:
        lines += ["", *next_lines]
    if plan is not None:
        lines += ["", *_plan_lines(plan, color)]
    summary = _summary_lines(verdict)
    if summary:
        lines += ["", "this run:", *summary]
    resources = resources_text(verdict)
    if resources:
        lines += ["", resources]
    facts = [*k6_lines(verdict), *coverage_lines(verdict)]
    if facts:
        lines += ["", *facts]
    if verdict.findings:
        lines += ["", CONFIDENCE_TEXT]
    if verdict.notices:
        lines += ["", *(f"note: {one_line(notice)}" for notice in verdict.notices)]
    return "\n".join(lines).rstrip() + "\n"


def render_json(verdict: Verdict) -> str:
    return verdict.model_dump_json(indent=2) + "\n"


def render_trend_text(scenario: str, report: TrendReport) -> str:
    """`perfgate trend`: one line per change point with the run it starts at, then notices."""
    changes = [(m, cp) for m in report.metrics for cp in m.change_points]
    lines = [
        f"{scenario}: {report.runs} runs scanned, {len(changes)} change point(s) ({report.penalty_rule})"
    ]
    for metric, point in changes:
        ratio = f"×{point.change_ratio:.2f}" if point.change_ratio is not None else "from 0"
        lines.append(
            f"  {metric.metric} {metric.stat}: {point.classification} {ratio} starting at run {point.run_id} "
            f"({point.mean_before:.4g} → {point.mean_after:.4g})"
        )
    lines += [f"note: {notice}" for notice in report.notices]
    return "\n".join(lines) + "\n"
