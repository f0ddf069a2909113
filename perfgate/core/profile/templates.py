"""Concrete request paths → endpoint templates.

    /notes/42?page=2&per_page=10   → /notes/{id}?page&per_page
    /u/3f2a…-uuid/2015-05-17/x.png → static:image
    GET /blog/{date}/{slug}        ids, UUIDs, hashes, dates, long tokens become placeholders

Static assets (by extension) are grouped by kind (`static:image`, `static:script`, ...): a page's
assets are one endpoint, not hundreds. Query strings keep only their keys, sorted.
"""

from __future__ import annotations

import re

STATIC_KINDS: dict[str, str] = {
    **dict.fromkeys(("png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "bmp", "avif"), "image"),
    **dict.fromkeys(("css",), "style"),
    **dict.fromkeys(("js", "mjs", "map"), "script"),
    **dict.fromkeys(("woff", "woff2", "ttf", "otf", "eot"), "font"),
    **dict.fromkeys(("mp4", "webm", "mp3", "ogg", "wav"), "media"),
}
_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"), "{uuid}"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$|^(19|20)\d{6}$"), "{date}"),
    (re.compile(r"^\d+$"), "{id}"),
    (re.compile(r"^[0-9a-fA-F]{16,}$"), "{hash}"),
    (re.compile(r"^(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}$"), "{token}"),
)
_NAME_BAD = re.compile(r"[^a-z0-9]+")


def static_kind(path: str) -> str | None:
    """`image`, `style`, ... when the path's last segment has a static-asset extension."""
    last = path.rsplit("/", 1)[-1]
    if "." not in last:
        return None
    return STATIC_KINDS.get(last.rsplit(".", 1)[-1].lower())


def template_segment(segment: str) -> str:
    for pattern, placeholder in _PLACEHOLDERS:
        if pattern.match(segment):
            return placeholder
    return segment


def template_path(raw: str) -> str:
    """The endpoint template of one request path (query keys kept, values dropped)."""
    path, _, query = raw.partition("?")
    path = path.split("#", 1)[0] or "/"
    if path.startswith(("http://", "https://")):  # absolute-form request target
        path = "/" + path.split("/", 3)[-1] if path.count("/") >= 3 else "/"
    kind = static_kind(path)
    if kind is not None:
        return f"static:{kind}"
    template = "/".join(template_segment(segment) for segment in path.split("/"))
    keys = sorted({part.split("=", 1)[0] for part in query.split("&") if part})
    return f"{template}?{'&'.join(keys)}" if keys else template


def endpoint_key(method: str, raw_path: str) -> str:
    """`GET /notes/{id}`: the method and the template (static assets keep no method)."""
    template = template_path(raw_path)
    return template if template.startswith("static:") else f"{method.upper()} {template}"


def collapse_key(key: str) -> str:
    """A rarer endpoint folded into its first path segment: `GET /blog/x/y` → `GET /blog/*`,
    `GET /about?x` → `GET /about`."""
    if key.startswith("static:"):
        return key
    method, _, template = key.partition(" ")
    segments = template.split("?", 1)[0].strip("/").split("/")
    if not segments[0]:
        return f"{method} /"
    return f"{method} /{segments[0]}/*" if len(segments) > 1 else f"{method} /{segments[0]}"


def tag_name(key: str) -> str:
    """A k6 `name` tag for an endpoint key: `GET /notes/{id}` → `get_notes_id`."""
    name = _NAME_BAD.sub("_", key.lower()).strip("_")
    return name[:60] or "root"
