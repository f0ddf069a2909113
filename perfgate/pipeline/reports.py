"""Render one `Analysis` in any output format, and write a run directory's report files.

Every output of a job (terminal, step summary and PR comment, `verdict.json`, JUnit, HTML) is
rendered here from the same `Analysis`; an explanation, when asked for, goes under the verdict in
text and Markdown and into an `explanation` object in JSON.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from perfgate.core.explain import Explanation
from perfgate.core.render import render_json, render_junit, render_markdown, render_text
from perfgate.core.render.explanation import render_explanation_markdown, render_explanation_text
from perfgate.core.render.sections import ACK_DAYS
from perfgate.pipeline.analyze import Analysis

REPORT_FILES = {"report.md": "markdown", "verdict.json": "json", "report.html": "html", "junit.xml": "junit"}


def render_report(
    analysis: Analysis,
    fmt: str,
    *,
    today: date,
    color: bool = False,
    explanation: Explanation | None = None,
) -> str:
    verdict = analysis.verdict
    ack = today + timedelta(days=ACK_DAYS)
    if fmt == "json":
        if explanation is None:
            return render_json(verdict)
        data = verdict.model_dump(mode="json") | {"explanation": explanation.model_dump(mode="json")}
        return json.dumps(data, indent=2) + "\n"
    if fmt == "markdown":
        words = render_explanation_markdown(explanation) if explanation is not None else None
        return render_markdown(verdict, ack_until=ack, explanation=words)
    if fmt == "junit":
        return render_junit(verdict)
    if fmt == "html":
        from perfgate.core.detect import scan_trend
        from perfgate.core.render.html import render_html

        # change points over the comparable history are marked on the charts (cheap: pure numpy)
        history = analysis.history()
        trend = scan_trend([(run.run_id, run.record) for run in history], analysis.policy)
        return render_html(
            verdict, history=history, run=analysis.loaded.record, change_points=trend, ack_until=ack
        )
    words = render_explanation_text(explanation) if explanation is not None else None
    return render_text(verdict, color=color, ack_until=ack, explanation=words)


def write_run_reports(
    analysis: Analysis, run_dir: Path, *, today: date, explanation: Explanation | None = None
) -> Path:
    """Write report.md (with the explanation, if any), verdict.json (the verdict alone: the action's
    later steps read it back), report.html and junit.xml; return the HTML report's path."""
    for name, fmt in REPORT_FILES.items():
        words = explanation if fmt == "markdown" else None
        text = render_report(analysis, fmt, today=today, explanation=words)
        (run_dir / name).write_text(text, encoding="utf-8")
    return run_dir / "report.html"
