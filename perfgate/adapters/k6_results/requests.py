"""Per-request samples from k6's NDJSON (`--out json`): what `perfgate compare` tests.

Each HTTP request leaves one `http_req_duration` point (its latency in ms) and one
`http_req_failed` point (1 = failed) with the same tags. Requests are grouped by their `name`
tag; an untagged request (k6 sets `name` to the URL) by its templated path, as everywhere in
perfgate (`http://base:8081/notes/7` → `/notes/{id}`), so base and head on different hosts or
ports still pair up endpoint by endpoint; requests made in `setup()` or
`teardown()` (group tag `::setup` / `::teardown`) are left out, as they are not the load model.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import ValidationError

from perfgate.adapters.json_text import parse_json
from perfgate.adapters.k6_results.routing import endpoint_name
from perfgate.adapters.k6_results.shapes import PointLine
from perfgate.adapters.k6_results.sources import describe, iter_line_blocks, open_stream
from perfgate.errors import InputDataError
from perfgate.models.compare import Arm, EndpointSamples, HalfSamples

_WANTED = ("http_req_duration", "http_req_failed")
_LIFECYCLE_GROUPS = ("::setup", "::teardown")
UNNAMED = "(unnamed)"


def load_request_samples(path: Path, arm: Arm) -> HalfSamples:
    """Every request of the run in `path` (NDJSON, plain or gzip), grouped by endpoint name."""
    latencies: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    with open_stream(path) as stream:
        lineno = 0
        for block in iter_line_blocks(path, stream):
            for line in block:
                lineno += 1
                if b"http_req_" not in line or b"Point" not in line:  # cheap filter before parsing
                    continue
                point = _parse(path, lineno, line)
                if point.metric not in _WANTED:
                    continue
                tags = point.data.tags or {}
                if tags.get("group", "").startswith(_LIFECYCLE_GROUPS):
                    continue
                name = endpoint_name(tags) or UNNAMED
                if point.metric == "http_req_duration":
                    latencies[name].append(float(point.data.value))
                elif point.data.value:
                    failed[name] += 1
    if not latencies:
        raise InputDataError(path, "no http_req_duration points: the script made no HTTP requests")
    return HalfSamples(
        arm=arm,
        endpoints={
            name: EndpointSamples(latency_ms=tuple(values), failed=failed.get(name, 0))
            for name, values in sorted(latencies.items())
        },
    )


def _parse(path: Path, lineno: int, line: bytes) -> PointLine:
    try:
        return PointLine.model_validate(parse_json(line))
    except ValueError as exc:
        problem = describe(exc) if isinstance(exc, ValidationError) else f"not JSON ({exc})"
        raise InputDataError(path, f"line {lineno}: {problem}") from exc
