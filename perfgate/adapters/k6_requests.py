"""Every HTTP request of a k6 run, from its NDJSON raw output (`--out json=`), as plain tuples:

    (session tag, `persona` tag, start in Unix seconds, `name` tag, status)

The start is the point's time less `http_req_duration` (k6 stamps a request's points at its end).
Requests without a `session` tag (setup, teardown) are skipped.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import IO

from perfgate.errors import InputDataError

Request = tuple[str, str, float, str, int]


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def load_k6_requests(path: Path) -> list[Request]:
    requests: list[Request] = []
    try:
        with _open(path) as lines:
            for number, line in enumerate(lines, 1):
                if '"http_req_duration"' not in line or '"Point"' not in line:
                    continue
                try:
                    point = json.loads(line)
                    data = point["data"]
                    tags = data.get("tags") or {}
                    end = datetime.fromisoformat(data["time"].replace("Z", "+00:00")).timestamp()
                    value = float(data["value"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise InputDataError(path, f"line {number}: not a k6 JSON point ({exc})") from exc
                if "session" not in tags:
                    continue
                status = int(tags.get("status") or 0)
                session, persona = str(tags["session"]), str(tags.get("persona", ""))
                requests.append((session, persona, end - value / 1000.0, str(tags.get("name", "")), status))
    except OSError as exc:
        raise InputDataError(path, f"cannot read k6 output: {exc}") from exc
    return requests
