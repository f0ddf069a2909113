"""Anomalous windows: a sudden error burst or a pause at some load is not the service's capacity.

Each window is described by how far it sits from the other windows of the *same load step*
(a whole step that breaks down is capacity, one odd window is not), each signed so that worse is
positive: log(p95 / the step's median p95), error rate − the step's median, 1 − throughput / the
step's median. An Isolation Forest
over these residuals (scikit-learn, seeded, contamination "auto") proposes outliers, and a
minimum deviation confirms them (as cloud-bulldozer/orion pairs Isolation Forest with one): the
largest worse-side residual must be at least `MIN_Z` robust sigmas (MAD over all windows,
floored) away. A window better than its step is never an anomaly.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from perfgate.models.capacity import Anomaly, CapacityWindow, FloatArray

MIN_Z = 4.0
# sigma floors per residual: 5 % on p95, 0.5 point of error rate, 5 % of throughput
FLOORS = np.array([0.05, 0.005, 0.05])


def residuals(windows: list[CapacityWindow]) -> FloatArray:
    """One row per window: (log p95 ratio, error-rate excess, throughput shortfall) to its step."""
    rows = np.zeros((len(windows), 3))
    steps: dict[float, list[int]] = {}
    for i, window in enumerate(windows):
        steps.setdefault(window.users, []).append(i)
    for members in steps.values():
        p95 = np.array([max(windows[i].p95_ms, 1e-6) for i in members])
        errors = np.array([windows[i].error_rate for i in members])
        rps = np.array([windows[i].throughput_rps for i in members])
        rows[members, 0] = np.log(p95 / np.median(p95))
        rows[members, 1] = errors - np.median(errors)
        rows[members, 2] = 1.0 - rps / max(float(np.median(rps)), 1e-9)
    return rows


def _reason(row: FloatArray, window: CapacityWindow) -> str:
    which = int(np.argmax(row / FLOORS))
    if which == 0:
        return f"p95 {np.exp(row[0]):.2f}× the median of its load step ({window.p95_ms:.1f} ms)"
    if which == 1:
        return f"error rate {window.error_rate * 100:.1f} %, {row[1] * 100:+.1f} points from its load step"
    return f"throughput {row[2] * 100:.0f} % below its load step ({window.throughput_rps:.0f} req/s)"


def detect_anomalies(windows: list[CapacityWindow], seed: int) -> list[Anomaly]:
    if len(windows) < 8:
        return []
    rows = residuals(windows)
    sigma = np.maximum(1.4826 * np.median(np.abs(rows - np.median(rows, axis=0)), axis=0), FLOORS)
    z = np.maximum(rows, 0.0) / sigma
    forest = IsolationForest(n_estimators=200, contamination="auto", random_state=seed).fit(rows)
    flagged = forest.predict(rows) == -1
    scores = forest.score_samples(rows)
    return [
        Anomaly(
            window=i,
            start_s=windows[i].start_s,
            users=windows[i].users,
            score=round(float(scores[i]), 4),
            reason=_reason(rows[i], windows[i]),
        )
        for i in np.flatnonzero(flagged & (z.max(axis=1) >= MIN_Z))
    ]
