"""The whole capacity study of one ramp run's windows: arrays in, one `CapacityResult` out.

windows ─▶ anomalies (Isolation Forest) ─▶ the rest are fitted:
          USL (all fitted windows) · digital twin (hold-out of the highest steps)
          · failure probability (logistic) ─▶ max safe users (interval, bounded reach)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfgate.core.capacity.anomalies import detect_anomalies
from perfgate.core.capacity.failure import Slo, failure_study
from perfgate.core.capacity.features import window_features
from perfgate.core.capacity.safe import latency_crossing, load_grid, max_safe_users
from perfgate.core.capacity.twin import TwinReport, build_twin
from perfgate.core.capacity.usl import UslFitError, fit_usl
from perfgate.models.capacity import (
    CapacityInputs,
    CapacityResult,
    CapacityWindow,
    LatencyCrossing,
    Prediction,
)


@dataclass(frozen=True)
class StudyOptions:
    source: str
    slo_texts: list[str]
    window_s: float
    holdout_fraction: float = 0.25
    seed: int = 0


class CapacityStudyError(ValueError):
    """The run cannot support a capacity study (too few windows or load steps)."""


def _predictions(windows: list[CapacityWindow], twin: TwinReport) -> list[Prediction]:
    users = np.array([w.users for w in windows])
    predicted = twin.scored.predict(users)
    held = set(twin.holdout_steps)
    return [
        Prediction(
            window=i,
            users=w.users,
            actual_p95_ms=w.p95_ms,
            predicted_p95_ms=round(float(p), 3),
            holdout=w.users in held,
        )
        for i, (w, p) in enumerate(zip(windows, predicted, strict=True))
    ]


def _inputs(
    options: StudyOptions,
    slo: Slo,
    windows: list[CapacityWindow],
    fitted: list[CapacityWindow],
    twin: TwinReport,
) -> CapacityInputs:
    return CapacityInputs(
        source=options.source,
        slo=options.slo_texts,
        latency_stat=slo.latency_stat,
        latency_slo_ms=slo.latency_ms,
        error_budget=slo.error_budget,
        window_s=options.window_s,
        windows=len(windows),
        windows_fitted=len(fitted),
        holdout_steps=twin.holdout_steps,
        think_time_s=round(twin.final.think_time_s, 4),
        highest_measured_users=max(w.users for w in windows),
        seed=options.seed,
    )


def compute_capacity(windows: list[CapacityWindow], slo: Slo, options: StudyOptions) -> CapacityResult:
    """The study (module docstring). A latency SLO on p(95) bounds max safe users through the twin
    and the failure curve; one on avg/med through the failure curve only (the twin models p95)."""
    if len({w.users for w in windows}) < 4:
        steps = sorted({w.users for w in windows})
        raise CapacityStudyError(
            f"settled windows at {len(steps)} load level(s) {steps}: a study needs at least 4"
        )
    anomalies = detect_anomalies(windows, options.seed)
    flagged = {a.window for a in anomalies}
    fitted = [w for i, w in enumerate(windows) if i not in flagged]
    try:
        usl = fit_usl(np.array([w.users for w in fitted]), np.array([w.throughput_rps for w in fitted]))
        twin = build_twin(fitted, holdout_fraction=options.holdout_fraction, seed=options.seed)
    except (UslFitError, ValueError) as exc:
        raise CapacityStudyError(str(exc)) from exc
    highest = max(w.users for w in windows)
    grid = load_grid(min(w.users for w in windows), highest)
    curve, crossings, _ = failure_study(fitted, slo, grid, options.seed)
    latency = None
    if slo.latency_ms is not None and slo.latency_stat == "p(95)":
        latency = latency_crossing(grid, twin.final.predict(grid), twin.holdout_errors_ms, slo.latency_ms)
    return CapacityResult(
        inputs=_inputs(options, slo, windows, fitted, twin),
        usl=usl,
        models=twin.scores,
        chosen_model=twin.chosen,
        max_safe_users=max_safe_users(grid, latency, crossings, highest),
        failure_probability=curve[:: max(1, len(curve) // 60)],
        failure_crossings=crossings,
        latency_crossing=None
        if latency is None
        else LatencyCrossing(users=latency[1], interval=(latency[0], latency[2])),
        anomalies=anomalies,
        windows=windows,
        features=window_features(windows, usl),
        predictions=_predictions(windows, twin),
    )
