"""Arrival model: a non-homogeneous Poisson rate of session starts per hour of day and day of week.

Rates are sessions per second over the seconds of each hour the log covers (`observed_s`), so a
log that starts at 10:05 does not dilute hour 10. Hours the log does not cover are None, not 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from perfgate.models.profile import ArrivalCurve

HOUR_S = 3600.0
WEEK_HOURS = 7 * 24


def _hour_of_week(ts: float) -> int:
    """Monday 00:00 UTC = 0 (1970-01-01 was a Thursday)."""
    return (int(ts // HOUR_S) + 3 * 24) % WEEK_HOURS


def observed_seconds(start: float, end: float) -> list[float]:
    """How many seconds of each hour of the week [start, end] covers (at least 1 s in all)."""
    covered = [0.0] * WEEK_HOURS
    end = max(end, start + 1.0)
    hour_start = math.floor(start / HOUR_S) * HOUR_S
    while hour_start < end:
        piece = min(end, hour_start + HOUR_S) - max(start, hour_start)
        covered[_hour_of_week(hour_start)] += piece
        hour_start += HOUR_S
    return covered


class ArrivalCounter:
    """Counts session starts per hour of the week, overall and per label."""

    def __init__(self) -> None:
        self.counts = [0] * WEEK_HOURS
        self.by_label: dict[str, list[int]] = {}

    def add(self, ts: float, label: str) -> None:
        cell = _hour_of_week(ts)
        self.counts[cell] += 1
        self.by_label.setdefault(label, [0] * WEEK_HOURS)[cell] += 1


def per_hour_of_day(counts: Iterable[int], covered: list[float]) -> list[float | None]:
    """Sessions/s per hour of day, pooled over the days of the week; None where uncovered."""
    totals, seconds = [0.0] * 24, [0.0] * 24
    for cell, count in enumerate(counts):
        totals[cell % 24] += count
        seconds[cell % 24] += covered[cell]
    return [totals[h] / seconds[h] if seconds[h] >= 1.0 else None for h in range(24)]


def compute_arrival(counter: ArrivalCounter, start: float, end: float) -> ArrivalCurve:
    covered = observed_seconds(start, end)
    per_hour = per_hour_of_day(counter.counts, covered)
    grid: list[list[float | None]] = [
        [counter.counts[d * 24 + h] / covered[d * 24 + h] if covered[d * 24 + h] >= 1.0 else None
         for h in range(24)]
        for d in range(7)
    ]  # fmt: skip
    seen = [rate for rate in per_hour if rate is not None]
    seconds = [0.0] * 24
    for cell, value in enumerate(covered):
        seconds[cell % 24] += value
    return ArrivalCurve(
        per_hour=per_hour,
        per_weekday_hour=grid,
        observed_s=seconds,
        peak_per_s=max(seen, default=0.0),
        average_per_s=sum(counter.counts) / max(end - start, 1.0),
        start=start,
        end=end,
    )
