"""Render a verdict in any output format, and write a run directory's report files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from perfgate.core.render import render_json, render_junit, render_markdown, render_text
from perfgate.core.render.sections import ACK_DAYS
from perfgate.pipeline.analyze import Analysis

REPORT_FILES = {"report.md": "markdown", "verdict.json": "json", "report.html": "html", "junit.xml": "junit"}


def render_report(analysis: Analysis, fmt: str, *, today: date, color: bool = False) -> str:
    verdict = analysis.verdict
    ack = today + timedelta(days=ACK_DAYS)
    if fmt == "json":
        return render_json(verdict)
    if fmt == "markdown":
        return render_markdown(verdict, ack_until=ack)
    if fmt == "junit":
        return render_junit(verdict)
    if fmt == "html":
        from perfgate.core.detect import scan_trend
        from perfgate.core.render.html import render_html

        # change points over the comparable history are marked on the charts (cheap: pure numpy)
        trend = scan_trend([(run.run_id, run.record) for run in analysis.history], analysis.policy)
        return render_html(
            verdict, history=analysis.history, run=analysis.loaded.record, change_points=trend, ack_until=ack
        )
    return render_text(verdict, color=color, ack_until=ack)


def write_run_reports(analysis: Analysis, run_dir: Path, *, today: date) -> Path:
    """Write report.md, verdict.json, report.html and junit.xml; return the HTML report's path."""
    for name, fmt in REPORT_FILES.items():
        (run_dir / name).write_text(render_report(analysis, fmt, today=today), encoding="utf-8")
    return run_dir / "report.html"
