"""Verdicts as text: `render_text` (terminal), `render_markdown` (step summary, PR comment), `render_json`."""

from perfgate.core.render.markdown import render_markdown
from perfgate.core.render.text import render_json, render_text

__all__ = ["render_json", "render_markdown", "render_text"]
