"""One access-log line → `LogEntry`, per format (combined, common, JSON lines, CSV rows).

Each parser returns None for a line it cannot read; the reader counts those. Timestamps become
Unix seconds (float, UTC). Apache/nginx times (`17/May/2015:10:05:03 +0000`) are parsed by hand
with a per-day cache: `datetime.strptime` would cost more than the rest of the line.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple


class LogEntry(NamedTuple):
    ts: float
    client: str
    agent: str
    method: str
    path: str
    status: int
    response_ms: float | None
    session: str | None


_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_HEAD = r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}) (?:\d+|-)'
COMBINED = re.compile(_HEAD + rf" {_QUOTED} {_QUOTED}")
COMMON = re.compile(_HEAD + r"\s*$")
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_DAY_CACHE: dict[str, float] = {}

FIELDS = ("timestamp", "client", "user_agent", "method", "path", "status", "response_time_ms", "session_id")
JSON_CANDIDATES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "@timestamp", "time", "ts", "date", "datetime", "time_local"),
    "client": ("client", "client_ip", "clientip", "remote_addr", "ip", "remote_ip", "host", "src_ip"),
    "user_agent": ("user_agent", "http_user_agent", "agent", "useragent", "ua"),
    "method": ("method", "request_method", "verb", "http_method"),
    "path": ("path", "request_uri", "uri", "url", "request", "request_path"),
    "status": ("status", "status_code", "response", "code", "response_code"),
    "response_time_ms": ("response_time_ms", "duration_ms", "latency_ms", "elapsed_ms", "time_ms"),
    "session_id": ("session_id", "session", "sid", "sessionid"),
}


def parse_apache_time(text: str) -> float:
    """`17/May/2015:10:05:03 +0000` → Unix seconds. ValueError when it is not that."""
    if len(text) != 26 or text[11] != ":":
        raise ValueError(text)
    day_key = text[:11] + text[20:]
    base = _DAY_CACHE.get(day_key)
    if base is None:
        day, month, year = int(text[0:2]), _MONTHS[text[3:6]], int(text[7:11])
        sign = -1 if text[21] == "-" else 1
        offset = sign * (int(text[22:24]) * 3600 + int(text[24:26]) * 60)
        base = calendar.timegm((year, month, day, 0, 0, 0)) - offset
        if len(_DAY_CACHE) > 10_000:
            _DAY_CACHE.clear()
        _DAY_CACHE[day_key] = base
    return base + int(text[12:14]) * 3600 + int(text[15:17]) * 60 + int(text[18:20])


def parse_time(value: object) -> float:
    """ISO 8601 text, Apache time, or a Unix time in seconds or milliseconds → Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000.0 if value > 1e11 else float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_time(float(text))
    if len(text) == 26 and text[2] == "/":
        return parse_apache_time(text)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        return calendar.timegm(stamp.timetuple()) + stamp.microsecond / 1e6
    return stamp.timestamp()


def parse_combined(line: str) -> LogEntry | None:
    match = COMBINED.match(line)
    if match is None:
        return None
    client, stamp, method, path, status, _referrer, agent = match.groups()
    try:
        ts = parse_apache_time(stamp)
    except (ValueError, KeyError, IndexError):
        return None
    return LogEntry(ts, client, agent, method, path, int(status), None, None)


def parse_common(line: str) -> LogEntry | None:
    match = COMMON.match(line)
    if match is None:
        return None
    client, stamp, method, path, status = match.groups()
    try:
        ts = parse_apache_time(stamp)
    except (ValueError, KeyError, IndexError):
        return None
    return LogEntry(ts, client, "", method, path, int(status), None, None)


def resolve_fields(keys: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, str]:
    """Our field name → the record's key: flags first, then the first known candidate present."""
    resolved = dict(mapping)
    for field, candidates in JSON_CANDIDATES.items():
        if field not in resolved:
            found = next((key for key in candidates if key in keys), None)
            if found is not None:
                resolved[field] = found
    return resolved


def _dig(record: Mapping[str, Any], key: str) -> Any:
    value: Any = record
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def entry_from_record(record: Mapping[str, Any], fields: Mapping[str, str]) -> LogEntry | None:
    """A JSON object or CSV row with `fields` resolved → LogEntry (None when it lacks time or path)."""
    try:
        path = _dig(record, fields["path"])
        method = _dig(record, fields["method"]) if "method" in fields else None
        if isinstance(path, str) and method is None and " " in path:  # "GET /x HTTP/1.1"
            method, path = path.split(" ")[:2]
        if not isinstance(path, str) or not path:
            return None
        ts = parse_time(_dig(record, fields["timestamp"]))
        status = int(_dig(record, fields["status"]) or 0) if "status" in fields else 0
        rt = _dig(record, fields["response_time_ms"]) if "response_time_ms" in fields else None
        session = _dig(record, fields["session_id"]) if "session_id" in fields else None
        client = _dig(record, fields["client"]) if "client" in fields else None
        agent = _dig(record, fields["user_agent"]) if "user_agent" in fields else None
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    return LogEntry(
        ts,
        str(client or ""),
        str(agent or ""),
        str(method or "GET").upper(),
        path,
        status,
        float(rt) if rt not in (None, "") else None,
        str(session) if session not in (None, "") else None,
    )


def parse_json_line(line: str, fields: Mapping[str, str]) -> LogEntry | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    return entry_from_record(record, resolve_fields(record, fields))
