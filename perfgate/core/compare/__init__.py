"""Paired base/head comparison: per-pair effects, the sequential decision, and its reports."""

from perfgate.core.compare.html import render_compare_html
from perfgate.core.compare.render import render_compare_json, render_compare_markdown, render_compare_text
from perfgate.core.compare.sequential import Judgement, Plan, judge

__all__ = [
    "Judgement",
    "Plan",
    "judge",
    "render_compare_html",
    "render_compare_json",
    "render_compare_markdown",
    "render_compare_text",
]
