"""Verdicts as text: terminal, Markdown (step summary, PR comment), JSON, JUnit XML, HTML.

Pure: models in, one `str` out; the CLI and the pipeline print or write it.
"""

from typing import Any

from perfgate.core.render.junit import render_junit
from perfgate.core.render.markdown import MARKER, escape_md, render_markdown, render_trend_markdown
from perfgate.core.render.text import render_json, render_text, render_trend_text

__all__ = [
    "MARKER",
    "escape_md",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
    "render_trend_markdown",
    "render_trend_text",
]


def __getattr__(name: str) -> Any:
    """`render_html` pulls in matplotlib (~0.4 s): imported only when a report needs it."""
    if name == "render_html":
        from perfgate.core.render.html import render_html

        return render_html
    raise AttributeError(name)
