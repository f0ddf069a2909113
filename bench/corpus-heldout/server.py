"""The held-out target: a small shop catalogue on the standard library's ThreadingHTTPServer.

Unlike the notes API (Flask + gunicorn + SQLite, six endpoints of one CRUD journey), this is a
single process with threads, in-memory data, a cheap `ping`, CPU-bound endpoints (search, order)
and endpoints that wait on a simulated downstream (item, report). Based on the k6-facts
`notes_server.py` (TCP_NODELAY, HTTP/1.1 keep-alive). Binds to 127.0.0.1 only.

    python server.py PORT

Endpoints (the k6 `name` tag in brackets): GET /ping [ping], GET /items?page=N [catalog],
GET /items/ID [item], GET /search?q=WORD [search], POST /orders [order], GET /report [report].
PUT /admin/faults {"latency_ms": {name: ms}, "cpu_ms": {name: ms}, "wait_scale": {name: x}}
switches faults between runs: extra sleep, extra CPU burn, the downstream wait multiplied.
"""

import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

WORDS = ["amber", "basalt", "cedar", "dune", "ember", "fjord", "garnet", "harbor", "iris", "jade"]
ITEMS = [
    {"id": i, "name": f"{WORDS[i % 10]} {WORDS[(i * 7) % 10]} {i}", "price": (i * 37) % 500 / 10}
    for i in range(6000)
]
DOWNSTREAM_WAIT_MS = {"item": 3.0, "report": 8.0}
FAULTS = {"latency_ms": {}, "cpu_ms": {}, "wait_scale": {}}
ORDERS_LOCK = threading.Lock()
ORDERS = []


def burn(ms):
    end = time.thread_time() + ms / 1000.0
    x = 0
    while time.thread_time() < end:
        x += 1
    return x


def apply_faults(name):
    extra = FAULTS["latency_ms"].get(name, 0.0)
    if extra > 0:
        time.sleep(extra / 1000.0)
    cpu = FAULTS["cpu_ms"].get(name, 0.0)
    if cpu > 0:
        burn(cpu)


def downstream(name):
    wait = DOWNSTREAM_WAIT_MS.get(name, 0.0) * FAULTS["wait_scale"].get(name, 1.0)
    if wait > 0:
        time.sleep(wait / 1000.0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        if parts == ["ping"]:
            return self._send(200, {"ok": True})
        if parts == ["items"]:
            apply_faults("catalog")
            page = int(query.get("page", ["0"])[0]) % 60
            return self._send(200, ITEMS[page * 50 : page * 50 + 50])
        if len(parts) == 2 and parts[0] == "items":
            apply_faults("item")
            downstream("item")
            return self._send(200, ITEMS[int(parts[1]) % len(ITEMS)])
        if parts == ["search"]:
            apply_faults("search")
            pattern = re.compile(re.escape(query.get("q", ["a"])[0]) + r"\w* \w+ [0-9]*7\b")
            found = [item for item in ITEMS if pattern.search(item["name"])]
            return self._send(200, {"count": len(found), "items": found[:20]})
        if parts == ["report"]:
            apply_faults("report")
            downstream("report")
            with ORDERS_LOCK:
                recent = ORDERS[-200:]
            total = sum(order["total"] for order in recent)
            return self._send(200, {"orders": len(recent), "total": round(total, 2)})
        return self._send(404, {"error": "no route"})

    def do_PUT(self):
        if urlparse(self.path).path != "/admin/faults":
            return self._send(404, {"error": "no route"})
        data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        for key in FAULTS:
            FAULTS[key] = {str(k): float(v) for k, v in (data.get(key) or {}).items()}
        return self._send(200, FAULTS)

    def do_POST(self):
        if urlparse(self.path).path != "/orders":
            return self._send(404, {"error": "no route"})
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        apply_faults("order")
        try:
            data = json.loads(raw or b"{}")
            lines = [(int(line["id"]) % len(ITEMS), int(line["qty"])) for line in data["lines"]]
        except (ValueError, KeyError, TypeError):
            return self._send(400, {"error": "bad order"})
        token = hashlib.pbkdf2_hmac("sha256", raw, b"shop", 3000).hex()[:16]
        total = sum(ITEMS[i]["price"] * qty for i, qty in lines)
        with ORDERS_LOCK:
            ORDERS.append({"token": token, "total": total})
            del ORDERS[:-1000]
        return self._send(201, {"token": token, "total": round(total, 2)})


class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8766
    Server(("127.0.0.1", port), Handler).serve_forever()
