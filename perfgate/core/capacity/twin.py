"""The digital twin: p95 latency as a function of load, four candidates scored on held-out steps.

The highest load steps (`holdout_fraction` of the distinct user counts, at least one) are held
out: extrapolation is what a capacity answer needs. Everything — the USL, the features, every
candidate — is fitted on the lower steps only, then scored on the held-out ones (MAE in ms, R²,
MAPE); the best hold-out MAE wins and is refitted on all windows for the predictions.

Candidates (features: `features.COLUMNS`, throughput from the USL so they exist at any load):
- `gradient_boosting`, `random_forest`: scikit-learn ensembles of trees (flat beyond the data);
- `voting`: the mean of both and a ridge regression on the standardised features;
- `usl_little`: physics. Little's law for a closed system gives the mean response time
  R(N) = N / X(N) − Z, with X from the USL and Z the think time per request estimated from the
  training windows (median of N/X − mean latency); p95 = a + b·R(N), a and b by least squares.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor, VotingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from perfgate.core.capacity.features import baseline_rate, modelled_matrix
from perfgate.core.capacity.usl import fit_usl, usl_throughput
from perfgate.models.capacity import CapacityWindow, FloatArray, ModelScore, UslFit

Predictor = Callable[[FloatArray], FloatArray]  # users -> p95 ms
CANDIDATES = ("gradient_boosting", "random_forest", "voting", "usl_little")


@dataclass(frozen=True)
class Twin:
    name: str
    usl: UslFit
    think_time_s: float
    predict: Predictor


@dataclass(frozen=True)
class TwinReport:
    scores: dict[str, ModelScore]
    chosen: str
    holdout_steps: list[float]
    holdout_errors_ms: FloatArray  # |error| of the chosen model on the hold-out windows
    scored: Twin  # the chosen model as trained without the hold-out
    final: Twin  # the chosen model refitted on every window


def split_steps(windows: list[CapacityWindow], fraction: float) -> tuple[list[float], list[float]]:
    """(training steps, held-out steps): the highest `fraction` of distinct loads are held out."""
    steps = sorted({w.users for w in windows})
    held = max(1, math.ceil(fraction * len(steps)))
    if len(steps) - held < 3:
        raise ValueError(f"{len(steps)} load steps: the twin needs at least 4 (3 to train, 1 to hold out)")
    return steps[:-held], steps[-held:]


def think_time(windows: list[CapacityWindow]) -> float:
    """Z per request: median over windows of N/X − mean latency (s), never below 0."""
    values = [w.users / w.throughput_rps - w.mean_ms / 1000 for w in windows if w.throughput_rps > 0]
    return max(float(np.median(values)), 0.0) if values else 0.0


def _little(usl: UslFit, z: float, users: FloatArray) -> FloatArray:
    throughput = np.maximum(usl_throughput(users, usl.alpha, usl.beta, usl.gamma), 1e-9)
    return np.maximum(users / throughput - z, 0.0) * 1000.0


def _ml_model(name: str, seed: int) -> object:
    boosting = GradientBoostingRegressor(n_estimators=150, max_depth=2, learning_rate=0.1, random_state=seed)
    forest = RandomForestRegressor(n_estimators=150, min_samples_leaf=2, random_state=seed, n_jobs=1)
    if name == "gradient_boosting":
        return boosting
    if name == "random_forest":
        return forest
    ridge = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    return VotingRegressor([("gbr", boosting), ("rf", forest), ("ridge", ridge)])


def train(name: str, windows: list[CapacityWindow], seed: int) -> Twin:
    """One candidate trained on `windows` (which hold at least 3 distinct loads)."""
    users = np.array([w.users for w in windows])
    p95 = np.array([w.p95_ms for w in windows])
    usl = fit_usl(users, np.array([w.throughput_rps for w in windows]))
    z = think_time(windows)
    if name == "usl_little":
        design = np.column_stack([_little(usl, z, users), np.ones(users.size)])
        slope, intercept = np.linalg.lstsq(design, p95, rcond=None)[0]

        def physics(at: FloatArray) -> FloatArray:
            latency = intercept + slope * _little(usl, z, np.asarray(at, dtype=np.float64))
            return np.asarray(np.maximum(latency, 0.0), dtype=np.float64)

        return Twin(name, usl, z, physics)
    base = baseline_rate(windows)
    model = _ml_model(name, seed)
    model.fit(modelled_matrix(users, usl, base), p95)  # type: ignore[attr-defined]

    def learned(at: FloatArray) -> FloatArray:
        matrix = modelled_matrix(np.asarray(at, dtype=np.float64), usl, base)
        return np.asarray(model.predict(matrix), dtype=np.float64)  # type: ignore[attr-defined]

    return Twin(name, usl, z, learned)


def score(actual: FloatArray, predicted: FloatArray) -> ModelScore:
    r2 = float(r2_score(actual, predicted)) if actual.size > 1 else math.nan
    return ModelScore(
        mae_ms=round(float(mean_absolute_error(actual, predicted)), 4),
        r2=round(r2, 4) if math.isfinite(r2) else 0.0,
        holdout_mape=round(float(mean_absolute_percentage_error(actual, predicted)), 4),
    )


def build_twin(windows: list[CapacityWindow], *, holdout_fraction: float, seed: int) -> TwinReport:
    """Score every candidate on the held-out steps, pick by hold-out MAE, refit it on everything."""
    train_steps, held_steps = split_steps(windows, holdout_fraction)
    training = [w for w in windows if w.users in train_steps]
    held = [w for w in windows if w.users in held_steps]
    actual = np.array([w.p95_ms for w in held])
    held_users = np.array([w.users for w in held])
    trained = {name: train(name, training, seed) for name in CANDIDATES}
    predictions = {name: twin.predict(held_users) for name, twin in trained.items()}
    scores = {name: score(actual, predicted) for name, predicted in predictions.items()}
    chosen = min(CANDIDATES, key=lambda name: (scores[name].mae_ms, CANDIDATES.index(name)))
    return TwinReport(
        scores=scores,
        chosen=chosen,
        holdout_steps=held_steps,
        holdout_errors_ms=np.abs(actual - predictions[chosen]),
        scored=trained[chosen],
        final=train(chosen, windows, seed),
    )
