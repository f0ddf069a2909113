"""A capacity result in any output format, and the report files of a capacity study."""

from __future__ import annotations

from pathlib import Path

from perfgate.core.render import render_json
from perfgate.core.render.capacity import capacity_json, capacity_markdown, capacity_text
from perfgate.models.capacity import CapacityResult

REPORT_FILES = {"capacity.json": "json", "capacity.md": "markdown", "capacity.html": "html"}


def render_capacity(result: CapacityResult, fmt: str) -> str:
    if fmt == "json":
        return capacity_json(result)
    if fmt == "markdown":
        return capacity_markdown(result)
    if fmt == "html":
        from perfgate.core.render.capacity_html import render_capacity_html

        return render_capacity_html(result)
    return capacity_text(result)


def write_capacity_reports(result: CapacityResult, directory: Path) -> Path:
    """capacity.json/.md/.html, and verdict.json (the capacity verdict, for `action issues`) when
    the result was judged against a history; returns the HTML report's path."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, fmt in REPORT_FILES.items():
        (directory / name).write_text(render_capacity(result, fmt), encoding="utf-8")
    if result.regression is not None:
        (directory / "verdict.json").write_text(render_json(result.regression.verdict), encoding="utf-8")
    return directory / "capacity.html"
