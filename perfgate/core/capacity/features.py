"""Features of a load level, as performance engineers read them.

With N users, throughput X, the USL fit and the low-load baseline's throughput per user x₀:

    load factor   N / N_knee        N_knee = 1/α (R usl's "optimal scalability"), capped at N*
    stress index  N / N*            past 1 the service is in its retrograde region
    efficiency    (X / N) / x₀      1 = scales linearly; 0.5 = half of each added user is lost
    utilisation   X / X(N*)         share of the peak throughput in use

They depend only on (N, X), so the digital twin can evaluate them where nothing was measured:
at a load N the USL gives X(N).
"""

from __future__ import annotations

import numpy as np

from perfgate.core.capacity.usl import usl_throughput
from perfgate.models.capacity import CapacityWindow, FloatArray, UslFit, WindowFeatures

COLUMNS = ("users", "throughput_rps", "load_factor", "stress_index", "efficiency", "utilisation")


def baseline_rate(windows: list[CapacityWindow]) -> float:
    """Throughput per user of the lowest-load windows (median), the efficiency reference."""
    lowest = min(w.users for w in windows)
    rates = [w.throughput_rps / w.users for w in windows if w.users == lowest]
    return float(np.median(rates))


def _scales(usl: UslFit, users: FloatArray) -> tuple[float, float]:
    highest = float(np.max(users)) if users.size else 1.0
    peak = usl.peak_load if usl.peak_load is not None else max(highest, 1.0) * 10.0
    knee = usl.knee_load if usl.knee_load is not None else peak
    return max(knee, 1e-9), max(peak, 1e-9)


def feature_matrix(users: FloatArray, throughput: FloatArray, usl: UslFit, base_rate: float) -> FloatArray:
    """One row per load level, columns `COLUMNS`."""
    users = np.asarray(users, dtype=np.float64)
    throughput = np.asarray(throughput, dtype=np.float64)
    knee, peak = _scales(usl, users)
    efficiency = (throughput / users) / base_rate if base_rate > 0 else np.ones_like(users)
    utilisation = throughput / usl.peak_throughput if usl.peak_throughput > 0 else np.zeros_like(users)
    return np.column_stack([users, throughput, users / knee, users / peak, efficiency, utilisation])


def modelled_matrix(users: FloatArray, usl: UslFit, base_rate: float) -> FloatArray:
    """Features at loads where nothing was measured: throughput from the USL."""
    return feature_matrix(users, usl_throughput(users, usl.alpha, usl.beta, usl.gamma), usl, base_rate)


def window_features(windows: list[CapacityWindow], usl: UslFit) -> list[WindowFeatures]:
    users = np.array([w.users for w in windows])
    matrix = feature_matrix(users, np.array([w.throughput_rps for w in windows]), usl, baseline_rate(windows))
    return [
        WindowFeatures(
            load_factor=round(float(row[2]), 4),
            stress_index=round(float(row[3]), 4),
            efficiency=round(float(row[4]), 4),
            utilisation=round(float(row[5]), 4),
        )
        for row in matrix
    ]
