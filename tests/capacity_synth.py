"""Synthetic ramp runs of a closed system that obeys the USL, written as k6 NDJSON raw points.

At N users the service completes X(N) = γN / (1 + α(N−1) + βN(N−1)) requests/s; by Little's law
each request takes R = N/X − Z on average (Z think time), drawn lognormal around it. Errors
appear when R exceeds `error_above_ms` (a share rising with the excess) or in injected bursts.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

T0 = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


@dataclass
class Ramp:
    alpha: float = 0.02
    beta: float = 0.0004
    gamma: float = 9.0
    think_s: float = 0.1
    steps: tuple[int, ...] = (2, 5, 10, 20, 30, 40, 55, 70)
    hold_s: float = 9.0
    sigma: float = 0.35  # lognormal spread of each request's latency
    error_above_ms: float | None = None
    bursts: dict[int, float] = field(default_factory=dict)  # second -> error rate in that second
    pauses: dict[int, float] = field(default_factory=dict)  # second -> latency multiplier
    seed: int = 1

    def throughput(self, n: float) -> float:
        return self.gamma * n / (1 + self.alpha * (n - 1) + self.beta * n * (n - 1))

    def mean_ms(self, n: float) -> float:
        return (n / self.throughput(n) - self.think_s) * 1000


def _stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _point(metric: str, seconds: float, value: float, tags: dict[str, str]) -> str:
    data = {"time": _stamp(seconds), "value": value, "tags": tags}
    return json.dumps({"metric": metric, "type": "Point", "data": data}, separators=(",", ":"))


def ramp_lines(ramp: Ramp) -> list[str]:
    rng = np.random.default_rng(ramp.seed)
    lines = []
    tags = {"name": "get_note", "method": "GET", "status": "200", "scenario": "notes"}
    for index, users in enumerate(ramp.steps):
        start = index * ramp.hold_s
        for second in range(int(ramp.hold_s)):
            now = start + second
            lines.append(_point("vus", now + 0.999, float(users), {}))
            mean = ramp.mean_ms(users) * ramp.pauses.get(int(now), 1.0)
            count = rng.poisson(ramp.throughput(users))
            times = np.sort(now + rng.random(count))
            durations = rng.lognormal(np.log(mean) - ramp.sigma**2 / 2, ramp.sigma, count)
            error_p = ramp.bursts.get(int(now), 0.0)
            if ramp.error_above_ms is not None and mean > ramp.error_above_ms:
                error_p = max(error_p, min(0.5, (mean / ramp.error_above_ms - 1.0) * 0.2))
            failed = rng.random(count) < error_p
            for t, duration, fail in zip(times, durations, failed, strict=True):
                lines.append(_point("http_req_duration", float(t), round(float(duration), 4), tags))
                lines.append(_point("http_req_failed", float(t), 1.0 if fail else 0.0, tags))
                lines.append(_point("http_reqs", float(t), 1.0, tags))
    return lines


def write_ramp(path: Path, ramp: Ramp) -> Path:
    text = "\n".join(ramp_lines(ramp)) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path
