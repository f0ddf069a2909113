"""A small stdlib HTTP service with endpoints of different cost, for bench/heal_quality.py.

Not the demo app: a different service (stdlib `ThreadingHTTPServer`, after the k6-facts
`notes_server.py`), bound to 127.0.0.1 only. Endpoints and what they cost:

    GET  /health            nothing
    GET  /items             build and serialise 300 records (CPU, ~1 ms)
    GET  /search?q=TEXT     iterated sha256 (CPU, ~2-3 ms)
    GET  /report            sleep 12 ms plus a little CPU (I/O bound)
    POST /orders            sleep 4 ms, parse and store the JSON body
    PUT  /admin/factors     {"items": 1.4, ...}: multiply the work of those endpoints
                            (loop counts for CPU, sleep time for I/O); a factor above 1 also
                            sleeps (factor - 1) × the endpoint's typical p95 (`TYPICAL_MS`), so
                            ×1.4 is about +40 % on its p95 even where the work is a small part
                            of the latency; {} resets

With `--costs io` every endpoint but /health is I/O bound instead: it sleeps `IO_SLEEP_MS`
× its factor (items 3, search 8, report 20, orders 6 ms) plus a little CPU, so its latency
depends little on how busy the machine is (CI runners are shared).

Usage: python3 service.py PORT [--costs mixed|io]
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

FACTORS: dict[str, float] = {}
ORDERS: list[dict[str, object]] = []
LOCK = threading.Lock()
ITEMS = 300
SEARCH_ROUNDS = 4000
REPORT_SLEEP_S = 0.012
ORDER_SLEEP_S = 0.004
TYPICAL_MS = {"items": 4.0, "search": 5.0, "report": 15.0, "orders": 6.0}
IO_SLEEP_MS = {"items": 3.0, "search": 8.0, "report": 20.0, "orders": 6.0}
IO_OVERHEAD_MS = 3.0
MODE = {"costs": "mixed"}


def factor(name: str) -> float:
    with LOCK:
        return FACTORS.get(name, 1.0)


def slow_down(name: str) -> None:
    """The extra sleep of a factor above 1, or the whole I/O wait with `--costs io`."""
    if MODE["costs"] == "io":
        scale = factor(name)  # above 1, also the HTTP overhead's share: ×1.35 is +35 % on the p95
        time.sleep((IO_SLEEP_MS[name] * scale + max(scale - 1.0, 0.0) * IO_OVERHEAD_MS) / 1000.0)
        return
    extra = factor(name) - 1.0
    if extra > 0:
        time.sleep(extra * TYPICAL_MS[name] / 1000.0)


def items() -> list[dict[str, object]]:
    count = int(ITEMS * (factor("items") if MODE["costs"] == "mixed" else 1.0))
    return [{"id": i, "name": f"item-{i}", "price": (i * 37) % 1000 / 10} for i in range(count)]


def search(query: str) -> str:
    digest = query.encode()
    rounds = SEARCH_ROUNDS * factor("search") if MODE["costs"] == "mixed" else SEARCH_ROUNDS / 20
    for _ in range(int(rounds)):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/health":
            return self._send(200, {"ok": True})
        if url.path in ("/items", "/search", "/report"):
            slow_down(url.path[1:])
        if url.path == "/items":
            return self._send(200, items()[:20])
        if url.path == "/search":
            return self._send(200, {"hash": search(parse_qs(url.query).get("q", [""])[0])})
        if url.path == "/report":
            if MODE["costs"] == "mixed":
                time.sleep(REPORT_SLEEP_S * factor("report"))
            return self._send(200, {"total": sum(range(2000))})
        return self._send(404, {"error": "no route"})

    def do_POST(self) -> None:
        body = self._body()
        if urlparse(self.path).path != "/orders":
            return self._send(404, {"error": "no route"})
        slow_down("orders")
        if MODE["costs"] == "mixed":
            time.sleep(ORDER_SLEEP_S * factor("orders"))
        try:
            order = json.loads(body or b"{}")
        except ValueError:
            return self._send(400, {"error": "bad json"})
        with LOCK:
            ORDERS.append(order)
            del ORDERS[:-1000]
        return self._send(201, {"id": len(ORDERS)})

    def do_PUT(self) -> None:
        body = self._body()
        if urlparse(self.path).path != "/admin/factors":
            return self._send(404, {"error": "no route"})
        new = {str(k): float(v) for k, v in json.loads(body or b"{}").items()}
        with LOCK:
            FACTORS.clear()
            FACTORS.update(new)
        return self._send(200, new)


class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def main() -> None:
    port = int(sys.argv[1])
    if sys.argv[2:4] == ["--costs", "io"]:
        MODE["costs"] = "io"
    server = Server(("127.0.0.1", port), Handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
