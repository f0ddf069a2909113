"""Verdicts as text: terminal, Markdown (step summary, PR comment), JSON, JUnit XML, HTML.

Pure: models in, one `str` out; the CLI and the pipeline print or write it.
"""

from perfgate.core.render.html import render_html
from perfgate.core.render.junit import render_junit
from perfgate.core.render.markdown import MARKER, escape_md, render_markdown
from perfgate.core.render.text import render_json, render_text

__all__ = [
    "MARKER",
    "escape_md",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
]
