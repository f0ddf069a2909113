"""Synthetic access logs with known personas, for the `perfgate profile` tests.

Each session gets its own client address, so the ground truth of a session is readable from the
`client` column of assignments.csv. Seeded: the same arguments give the same log.

    kinds = {"reader": ..., "writer": ..., "api": ..., "bouncer": ...}
    lines, truth = synth_log(sessions_per_kind=60, seed=1)   # truth: ip -> kind
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC).timestamp()  # a Monday
Step = tuple[str, str, int]  # method, path, status


def _reader(rng: random.Random) -> tuple[list[Step], float, str]:
    steps: list[Step] = [("GET", "/", 200), ("GET", "/static/site.css", 200), ("GET", "/static/app.js", 200)]
    for _ in range(rng.randint(4, 8)):
        article = rng.randint(1, 500)
        steps += [("GET", f"/articles/{article}", 200), ("GET", f"/img/a{article}.png", 200)]
    return steps, rng.uniform(25, 60), BROWSER


def _writer(rng: random.Random) -> tuple[list[Step], float, str]:
    steps: list[Step] = [("GET", "/notes?page=1", 200)]
    for _ in range(rng.randint(3, 6)):
        note = rng.randint(1000, 9999)
        steps += [("POST", "/notes", 201), ("GET", f"/notes/{note}", 200), ("PUT", f"/notes/{note}", 200)]
    return steps, rng.uniform(6, 12), BROWSER


def _api(rng: random.Random) -> tuple[list[Step], float, str]:
    uuid = "3f2a7c1e-9b4d-4e8a-a1c2-{:012x}"
    steps: list[Step] = [("GET", "/api/v1/items?limit=50", 200)]
    steps += [
        ("GET", f"/api/v1/items/{uuid.format(rng.randrange(16**12))}", 200)
        for _ in range(rng.randint(25, 40))
    ]
    return steps, rng.uniform(0.6, 1.4), "python-requests/2.31"


def _bouncer(rng: random.Random) -> tuple[list[Step], float, str]:
    return [("GET", rng.choice(["/", "/about", "/pricing"]), 200)], 0.0, BROWSER


def _crawler(rng: random.Random) -> tuple[list[Step], float, str]:
    steps: list[Step] = [("GET", "/robots.txt", 200)]
    steps += [("GET", f"/articles/{rng.randint(1, 500)}", 200) for _ in range(rng.randint(5, 15))]
    return (
        steps,
        rng.uniform(1, 3),
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )


KINDS: dict[str, Callable[[random.Random], tuple[list[Step], float, str]]] = {
    "reader": _reader,
    "writer": _writer,
    "api": _api,
    "bouncer": _bouncer,
}


def synth_requests(sessions_per_kind: int = 50, seed: int = 1, bots: int = 20, span_s: float = 2 * 86400):
    """[(ts, ip, agent, method, path, status, kind)] sorted by time, and {ip: kind}."""
    rng = random.Random(seed)
    rows, truth = [], {}
    plan = [kind for kind in KINDS for _ in range(sessions_per_kind)] + ["bot"] * bots
    for index, kind in enumerate(plan):
        ip = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
        steps, think, agent = (_crawler if kind == "bot" else KINDS[kind])(rng)
        ts = START + rng.uniform(0, span_s)
        for method, path, status in steps:
            rows.append((ts, ip, agent, method, path, status, kind))
            ts += rng.lognormvariate(0, 0.3) * think if think else 0
        truth[ip] = kind
    rows.sort(key=lambda row: row[0])
    return rows, truth


def _apache_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def combined_lines(rows) -> list[str]:
    return [
        f'{ip} - - [{_apache_time(ts)}] "{method} {path} HTTP/1.1" {status} 512 "-" "{agent}"'
        for ts, ip, agent, method, path, status, _ in rows
    ]


def jsonl_lines(rows) -> list[str]:
    return [
        json.dumps({"@timestamp": datetime.fromtimestamp(ts, UTC).isoformat(), "remote_addr": ip,
                    "http_user_agent": agent, "request": f"{method} {path} HTTP/1.1", "status": status})
        for ts, ip, agent, method, path, status, _ in rows
    ]  # fmt: skip


def csv_lines(rows) -> list[str]:
    lines = ["session_id,timestamp,path,method,response_time_ms,status_code,user_agent"]
    for ts, ip, agent, method, path, status, _ in rows:
        stamp = datetime.fromtimestamp(ts, UTC).isoformat()
        lines.append(f'{ip},{stamp},{path},{method},{12.5},{status},"{agent}"')
    return lines
