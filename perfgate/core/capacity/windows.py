"""A ramp run's raw points cut into settled fixed-length windows.

A window [start, start + window_s) is kept when the load was constant through it and for
`settle_s` before it (every `vus` sample in [start − settle_s, end] equal and > 0: ramps and the
first moments after a step are not steady state), and when it holds at least `min_requests`
requests. Throughput is requests finished in the window / window_s; p50/p95 use k6's
percentile rule (linear interpolation between closest ranks).
"""

from __future__ import annotations

import math

import numpy as np

from perfgate.models.capacity import CapacityWindow, FloatArray, RampPoints

MIN_REQUESTS = 20
SETTLE_S = 1.0


def _sorted(pair: tuple[FloatArray, FloatArray]) -> tuple[FloatArray, FloatArray]:
    order = np.argsort(pair[0], kind="stable")
    return pair[0][order], pair[1][order]


def _slice(pair: tuple[FloatArray, FloatArray], start: float, end: float) -> FloatArray:
    times, values = pair
    low, high = np.searchsorted(times, [start, end], side="left")
    return values[low:high]


def _steady_users(
    vus: tuple[FloatArray, FloatArray], start: float, end: float, settle_s: float
) -> float | None:
    times, values = vus
    low = int(np.searchsorted(times, start - settle_s, side="left"))
    high = int(np.searchsorted(times, end, side="right"))
    seen = values[low:high]
    if seen.size == 0 or seen.min() != seen.max() or seen[0] <= 0:
        return None
    return float(seen[0])


def _mean_at(pair: tuple[FloatArray, FloatArray] | None, start: float, end: float) -> float | None:
    """Mean of the samples in the window, else the value interpolated at its middle."""
    if pair is None or pair[0].size == 0:
        return None
    inside = _slice(pair, start, end)
    if inside.size:
        return round(float(inside.mean()), 3)
    middle = (start + end) / 2
    if middle < pair[0][0] or middle > pair[0][-1]:
        return None
    return round(float(np.interp(middle, pair[0], pair[1])), 3)


def compute_windows(
    points: RampPoints, window_s: float, *, settle_s: float = SETTLE_S, min_requests: int = MIN_REQUESTS
) -> list[CapacityWindow]:
    """The settled windows of a ramp run, oldest first (see the module docstring)."""
    duration, failed, vus = _sorted(points.duration), _sorted(points.failed), _sorted(points.vus)
    cpu = _sorted(points.cpu) if points.cpu is not None else None
    rss = _sorted(points.rss) if points.rss is not None else None
    end_of_run = float(duration[0][-1]) if duration[0].size else 0.0
    windows = []
    for k in range(math.ceil(end_of_run / window_s) + 1):
        start, end = k * window_s, (k + 1) * window_s
        users = _steady_users(vus, start, end, settle_s)
        latencies = _slice(duration, start, end)
        if users is None or latencies.size < min_requests:
            continue
        failures = _slice(failed, start, end)
        windows.append(
            CapacityWindow(
                start_s=round(start, 3),
                end_s=round(end, 3),
                users=users,
                requests=int(latencies.size),
                throughput_rps=round(latencies.size / window_s, 4),
                mean_ms=round(float(latencies.mean()), 4),
                p50_ms=round(float(np.percentile(latencies, 50)), 4),
                p95_ms=round(float(np.percentile(latencies, 95)), 4),
                error_rate=round(float(failures.mean()), 6) if failures.size else 0.0,
                cpu_percent=_mean_at(cpu, start, end),
                rss_mb=_mean_at(rss, start, end),
            )
        )
    return windows
