"""`parse_json`: `json.loads` for text perfgate did not write itself (k6 output, run files, replies).

On top of the standard parser it refuses what later crashes or corrupts a written file:
nesting deeper than `MAX_DEPTH` (checked without recursion, so a 5,000-deep document is an
error, not a `RecursionError`), numbers that are not finite (`NaN`, `Infinity`, `1e999`) or
integers longer than `MAX_INT_DIGITS`, invalid UTF-8 and lone surrogates (`"\\ud800"`),
which cannot be written back as UTF-8. Every refusal is a `JsonTextError` (a `ValueError`)
whose message never quotes more than a short excerpt of the text.
"""

from __future__ import annotations

import json
import math
import re

MAX_DEPTH = 64  # k6's deepest files (nested groups) stay well under this
MAX_INT_DIGITS = 30
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonTextError(ValueError):
    """Text that is JSON-like but not acceptable; the message is one short line."""


def parse_json(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """Parse untrusted JSON text; raises `json.JSONDecodeError` or `JsonTextError` (both ValueError)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonTextError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(data, parse_constant=_reject_constant, parse_float=_finite, parse_int=_bounded)
    except RecursionError:
        raise JsonTextError(f"nested deeper than {max_depth} levels") from None
    _check_tree(value, max_depth, strings=_SURROGATE_ESCAPE.search(data) is not None)
    return value


def _check_tree(value: object, max_depth: int, *, strings: bool) -> None:
    """Depth (and, when the text has surrogate escapes, string validity) without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[object] = [*node.keys(), *node.values()] if strings else list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            if strings and isinstance(node, str) and not _encodable(node):
                raise JsonTextError("a string holds a lone surrogate (\\ud800-\\udfff): not valid Unicode")
            continue
        if depth > max_depth:
            raise JsonTextError(f"nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject_constant(name: str) -> object:
    raise JsonTextError(
        f"{name} is not a valid number (not a finite number; k6 never writes NaN or Infinity)"
    )


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonTextError(f"number {text[:40]} is out of range (not a finite number)")
    return number


def _bounded(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonTextError(f"integer of {len(text)} digits is out of range")
    return int(text)
