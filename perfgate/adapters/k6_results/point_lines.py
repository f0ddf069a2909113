"""k6 NDJSON Point lines as the fast path reads them: the typed shape msgspec decodes a block of
them into (`POINTS`), where the next Metric line is (`declaration`), and the helpers for a Point's
tags text and for handing one line to the json path.
"""

from __future__ import annotations

import json
from typing import Literal

import msgspec

from perfgate.adapters.json_text import parse_json
from perfgate.adapters.k6_results.routing import endpoint_name

DECLARATION = b'"type":"Metric"'  # in every Metric line k6 writes (a Point holding it: json path)
_M_AT = DECLARATION.index(b"M")


class PointData(msgspec.Struct, gc=False):
    time: str
    value: float
    tags: msgspec.Raw = msgspec.Raw(b"null")


class Point(msgspec.Struct, gc=False):
    """`shapes.PointLine` for msgspec: unknown fields ignored, numbers finite, strings valid UTF-8."""

    type: Literal["Point"]
    metric: str
    data: PointData


POINTS = msgspec.json.Decoder(Point)


def declaration(block: bytes, start: int) -> int:
    """Where the next Metric line's `"type":"Metric"` is, or -1. Found by `memchr` of its `M`
    (rare in Point lines); past a few other `M`s, by a plain search."""
    at = block.find(b"M", start)
    for _ in range(8):
        if at < 0:
            return -1
        if at - _M_AT >= start and block.startswith(DECLARATION, at - _M_AT):
            return at - _M_AT
        at = block.find(b"M", at + 1)
    return block.find(DECLARATION, start)


def line_number(point: Point, stretch: bytes, points: list[Point], before: int) -> int:
    """The number of `point`'s line in `stretch` (which follows line `before`): msgspec passes
    over blank lines, so its position among the points is its position among non-blank lines."""
    position = next(index for index, candidate in enumerate(points) if candidate is point)
    filled = [number for number, line in enumerate(stretch.split(b"\n"), before + 1) if line.strip()]
    return filled[position]


def url_template(url: bytes) -> bytes | None:
    """`endpoint_name` of a URL as bytes, when it is its own template (None: keep the URL)."""
    try:
        template = endpoint_name({"name": url.decode(), "url": url.decode()})
    except UnicodeDecodeError:
        return None
    if template is None or endpoint_name({"name": template, "url": template}) != template:
        return None
    return template.encode()


def decode_tags(tags: bytes) -> dict[str, str] | None:
    """The tags object, or None when the text is not exactly a flat object of strings."""
    try:
        # without a backslash there is no escape, so strict UTF-8 and the plain parser suffice
        decoded = json.loads(tags.decode()) if b"\\" not in tags else parse_json(tags)
    except (ValueError, RecursionError):  # deep nesting: the json path says what is wrong
        return None
    if decoded is None:
        return {}
    if isinstance(decoded, dict) and all(isinstance(value, str) for value in decoded.values()):
        return decoded
    return None


def point_text(point: Point, tags: bytes) -> bytes:
    """A Point line with these fields (for the json path, which reports what is wrong)."""
    data = {"time": point.data.time, "value": point.data.value, "tags": "TAGS"}
    text = json.dumps({"metric": point.metric, "type": "Point", "data": data}).encode()
    return text.replace(b'"TAGS"', tags, 1)
