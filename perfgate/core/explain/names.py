"""Untrusted text made safe: names for the prompt, model text for the report.

Metric and endpoint names come from the k6 script's tags, so they are untrusted. In the prompt a
name is reduced to `[A-Za-z0-9_.:{}()<>=-]` (every other character becomes `_`) and capped: it can
no longer carry a sentence, quotes, newlines or markup. Model-written text is kept as text but
stripped of control characters (no terminal escapes) and capped; renderers escape it.
"""

from __future__ import annotations

import re
from typing import Final

NAME_LIMIT: Final = 80
TEXT_LIMIT: Final = 1000

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.:{}()<>=\-]")
_UNSAFE_GLOB = re.compile(r"[^A-Za-z0-9_.:{}()<>=\-*?]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def safe_name(text: str, limit: int = NAME_LIMIT) -> str:
    """A name fit for the prompt: only `[A-Za-z0-9_.:{}()<>=-]`, at most `limit` characters."""
    return _UNSAFE_NAME.sub("_", text)[:limit]


def safe_glob(text: str, limit: int = NAME_LIMIT) -> str:
    """A policy glob fit for the prompt: `safe_name`'s alphabet plus `*` and `?`."""
    return _UNSAFE_GLOB.sub("_", text)[:limit]


def clean_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """Model text without control or bidi characters, whitespace collapsed, capped at `limit`."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
