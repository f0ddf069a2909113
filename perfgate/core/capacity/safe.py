"""Maximum safe users: the largest load whose predicted latency stays under the SLO with a failure
probability under 5 %, with an interval, searched no further than `REACH` × the highest load
measured (and flagged `extrapolated` whenever the answer lies beyond it).

Latency side: the twin's prediction ± the 90th percentile of its absolute hold-out errors; the
first load where prediction − error reaches the limit bounds the crossing from above, where
prediction + error does from below. Failure side: the 0.05 crossing and its bootstrap interval.
The answer is the lower of the two crossings; each end of the interval the lower of the two ends.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from perfgate.models.capacity import FailureCrossings, FloatArray, MaxSafe

REACH = 1.5
GRID_POINTS = 400
ERROR_QUANTILE = 90


def load_grid(lowest: float, highest: float, points: int = GRID_POINTS) -> FloatArray:
    return np.linspace(max(lowest, 1.0), highest * REACH, points)


def _first(grid: FloatArray, crossed: NDArray[np.bool_]) -> float | None:
    hits = np.flatnonzero(crossed)
    return round(float(grid[hits[0]]), 2) if hits.size else None


def latency_crossing(
    grid: FloatArray, predicted: FloatArray, errors_ms: FloatArray, limit_ms: float
) -> tuple[float | None, float | None, float | None]:
    """(lower bound, point, upper bound) of the first load whose p95 reaches `limit_ms`."""
    margin = float(np.percentile(errors_ms, ERROR_QUANTILE)) if errors_ms.size else 0.0
    return (
        _first(grid, predicted + margin >= limit_ms),
        _first(grid, predicted >= limit_ms),
        _first(grid, predicted - margin >= limit_ms),
    )


def _lowest(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def max_safe_users(
    grid: FloatArray,
    latency: tuple[float | None, float | None, float | None] | None,
    failure: FailureCrossings,
    highest_measured: float,
) -> MaxSafe:
    low_l, point_l, high_l = latency if latency is not None else (None, None, None)
    f_low, f_high = failure.p05_interval or (None, None)
    if failure.windows and failure.violations == failure.windows:
        note = f"every window broke the SLO, from the lowest measured load ({grid[0]:g} users) on"
        return MaxSafe(users=None, interval=None, limited_by="failure", extrapolated=False, note=note)
    point = _lowest(point_l, failure.p05_users)
    reach = float(grid[-1])
    if point is None or point > reach:
        note = (
            f"no crossing up to {REACH:g}× the highest measured load ({highest_measured:g} users); "
            "not extrapolated further: measure higher loads"
        )
        return MaxSafe(users=round(reach, 1), interval=None, limited_by="range", extrapolated=True, note=note)
    limited_by = "latency" if point_l is not None and point == point_l else "failure"
    low = min(point, _lowest(low_l, f_low) or point)
    high = min(high_l if high_l is not None else reach, f_high if f_high is not None else reach)
    extrapolated = point > highest_measured
    note = f"within the measured range (up to {highest_measured:g} users)"
    if extrapolated:
        note = f"beyond the highest measured load ({highest_measured:g} users): extrapolated by the model"
    elif point <= float(grid[0]):
        note = f"the SLO is already at risk at the lowest measured load ({grid[0]:g} users)"
    return MaxSafe(
        users=round(point, 1),
        interval=(round(low, 1), round(max(high, point), 1)),
        limited_by=limited_by,
        extrapolated=extrapolated,
        note=note,
    )
