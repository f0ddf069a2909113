"""Terminal text and JSON renderings of a verdict."""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.core.render.formatting import (
    VERDICT_HEADLINE,
    fmt_change,
    fmt_int,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    fmt_value,
    metric_label,
)
from perfgate.models import Verdict

_COLOURS = {"regression": "31", "warn": "33", "noise": "36", "improvement": "32", "pass": "32"}


def _paint(text: str, code: str | None, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def _summary_lines(verdict: Verdict) -> list[str]:
    header = ["endpoint", "requests", "p50", "p95", "p99", "errors", "req/s"]
    rows = [
        [
            row.endpoint,
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
    header = ["metric", "baseline", "observed", "change", "confidence", "classification"]
    rows = [
        [
            metric_label(f),
            fmt_value(f.baseline, f.unit),
            fmt_value(f.observed, f.unit),
            fmt_change(f),
            f"{f.confidence:.2f}",
            f.classification,
        ]
        for f in verdict.findings
    ]
    if not rows:
        return []
    lines = _table(header, rows)
    for i, finding in enumerate(verdict.findings, start=2):
        lines[i] = _paint(
            lines[i], _COLOURS.get(finding.classification), color and finding.classification != "pass"
        )
    return lines


def _resource_line(verdict: Verdict) -> str | None:
    res = verdict.resources
    if not res:
        return None
    parts = []
    if "cpu_peak_percent" in res:
        parts.append(
            f"CPU peak {res['cpu_peak_percent']:.0f} % / mean {res.get('cpu_mean_percent', 0):.0f} %"
        )
    if "rss_peak_mb" in res:
        parts.append(f"RSS peak {res['rss_peak_mb']:.0f} MB / mean {res.get('rss_mean_mb', 0):.0f} MB")
    return "target resources: " + ", ".join(parts) if parts else None


def render_text(verdict: Verdict, *, color: bool = False) -> str:
    """The verdict first, then the reason, the run's numbers and the evidence."""
    headline = f"perfgate: {VERDICT_HEADLINE[verdict.verdict]}"
    lines = [_paint(headline, _COLOURS.get(verdict.verdict), color), verdict.reason, ""]
    lines.append(f"scenario {verdict.scenario} · {verdict.history_runs} comparable runs · {verdict.source}")
    resources = _resource_line(verdict)
    if resources:
        lines.append(resources)
    lines += ["", *_summary_lines(verdict)]
    findings = _finding_lines(verdict, color)
    if findings:
        lines += ["", *findings]
    if verdict.notices:
        lines += ["", *(f"note: {notice}" for notice in verdict.notices)]
    return "\n".join(lines).rstrip() + "\n"


def render_json(verdict: Verdict) -> str:
    return verdict.model_dump_json(indent=2) + "\n"
