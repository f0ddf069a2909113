"""gunicorn config for the httpbin corpus: faults injected before httpbin handles a request.

Read by `gunicorn -c gunicorn_faults.py httpbin:app`. The fault file (path in PERFGATE_FAULTS)
is JSON `{"latency_ms": {path: ms}, "cpu_ms": {path: ms}, "wait_ms": {path: ms}}`, re-read when
its mtime changes; `wait_ms` is a downstream dependency's wait that the improvement runs shorten.
httpbin itself is not modified.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

bind = "127.0.0.1:" + os.environ.get("HTTPBIN_PORT", "8767")
workers = 2
worker_class = "gthread"
threads = 4
keepalive = 5
accesslog = None

_cache: dict[str, Any] = {"mtime": None, "faults": {}}


def _faults() -> dict[str, dict[str, float]]:
    path = os.environ.get("PERFGATE_FAULTS", "")
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    if mtime != _cache["mtime"]:
        with open(path, encoding="utf-8") as handle:
            _cache["faults"] = json.load(handle)
        _cache["mtime"] = mtime
    faults: dict[str, dict[str, float]] = _cache["faults"]
    return faults


def _burn(ms: float) -> None:
    end = time.thread_time() + ms / 1000
    while time.thread_time() < end:
        pass


def pre_request(worker: Any, req: Any) -> None:
    faults = _faults()
    wait = faults.get("wait_ms", {}).get(req.path, 0.0) + faults.get("latency_ms", {}).get(req.path, 0.0)
    if wait:
        time.sleep(wait / 1000)
    cpu = faults.get("cpu_ms", {}).get(req.path, 0.0)
    if cpu:
        _burn(cpu)
