"""Learned evidence: a context regressor with conformal residuals, and an Isolation Forest.

Context regressor (seed paper: tree ensembles predicting a metric from the run's context). One
multi-output `RandomForestRegressor` predicts every gated value (judging space, robustly
standardised) from the run's context: achieved load (requests/s, VUs), k6's own timings
(per-iteration overhead, sending, receiving, blocked) and the shared latency factor (median over
endpoints of log p95 / history median). Its out-of-bag predictions make the calibration set for
free (jackknife+-after-bootstrap, Kim, Xu & Barber 2020): the candidate's residual is ranked
among the history's out-of-bag residuals, giving a conformal p-value
p = (1 + #{oob residual >= candidate residual}) / (n + 1). It only *confirms or explains* a
change the robust test found (judge rule 3); it cannot raise one on its own.

Isolation Forest over the whole run vector (every gated value + runner signals): a candidate
scoring below every history run is *anomalous as a whole*. Evidence only: it adds
`isolation_forest` to the detectors of findings flagged by other tests and a notice.

Both are skipped below `MIN_TRAIN_RUNS` runs (a notice says so); training uses at most
`settings.max_train_runs` newest runs, few shallow trees, no hyper-parameter search.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from perfgate.core.detect.evidence import DetectorTuning, Evidence
from perfgate.core.detect.extract import raw_values, run_signals, to_space
from perfgate.core.detect.robust import MAD_TO_SIGMA, FloatArray
from perfgate.models import RunRecord

MIN_TRAIN_RUNS = 20
CONTEXT_SIGNALS = (
    "http_reqs_per_s",
    "vus_max",
    "k6_overhead_ms",
    "http_req_sending_ms",
    "http_req_receiving_ms",
    "http_req_blocked_ms",
)
FOREST_TREES = 60
IFOREST_SAMPLES = 128
CV_FOLDS = 5


def add_model_evidence(
    evidences: Sequence[Evidence],
    candidate: RunRecord,
    history: Sequence[RunRecord],
    settings: DetectorTuning,
    *,
    random_state: int = 0,
) -> list[str]:
    judged = [ev for ev in evidences if ev.baseline is not None]
    train = list(history)[-settings.max_train_runs :]
    if not judged or not (settings.use_context_model or settings.use_isolation_forest):
        return []
    if len(train) < MIN_TRAIN_RUNS:
        return [f"context model and Isolation Forest skipped: {len(train)} runs, {MIN_TRAIN_RUNS} needed"]
    y_hist, y_cand = _standardised_targets(judged, train, candidate)
    x_hist, x_cand = _context(train, candidate, judged, y_hist, y_cand)
    notices: list[str] = []
    if settings.use_context_model and x_hist.shape[1] > 0:
        for ev, p_value in zip(
            judged, conformal_p_values(x_hist, y_hist, x_cand, y_cand, random_state), strict=True
        ):
            ev.context_p = p_value
            if p_value < settings.confirm_alpha:
                ev.detectors.append("context_model")
    if settings.use_isolation_forest:
        anomalous, below = run_is_anomalous(
            np.hstack([y_hist, x_hist]), np.hstack([y_cand, x_cand]), random_state
        )
        if anomalous:
            notices.append(
                f"the run is anomalous as a whole (Isolation Forest: below all {below} history runs)"
            )
            for ev in judged:
                ev.anomalous_run = True
                ev.detectors.append("isolation_forest")
    return notices


def _standardised_targets(
    judged: Sequence[Evidence], train: Sequence[RunRecord], candidate: RunRecord
) -> tuple[FloatArray, FloatArray]:
    columns, cand = [], []
    for ev in judged:
        values = to_space(raw_values(train, ev.target), ev.target)
        observed = float(to_space(np.array([ev.observed]), ev.target)[0])
        center, scale = _center_scale(values, ev.target.scale_floor)
        columns.append(np.where(np.isfinite(values), (values - center) / scale, 0.0))
        cand.append((observed - center) / scale)
    return np.column_stack(columns), np.array([cand])


def _center_scale(values: FloatArray, floor: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    center = float(np.median(finite))
    return center, max(MAD_TO_SIGMA * float(np.median(np.abs(finite - center))), floor)


def _context(
    train: Sequence[RunRecord],
    candidate: RunRecord,
    judged: Sequence[Evidence],
    y_hist: FloatArray,
    y_cand: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Context features (log of positive signals) the candidate has; missing history → column median."""
    signals = [run_signals(run) for run in train]
    cand_signals = run_signals(candidate)
    names = [
        n
        for n in CONTEXT_SIGNALS
        if cand_signals.get(n, 0) > 0 and sum(n in s for s in signals) >= len(train) // 2
    ]
    hist = np.array([[np.log(s[n]) if s.get(n, 0) > 0 else np.nan for n in names] for s in signals]).reshape(
        len(train), -1
    )
    cand = np.array([[np.log(cand_signals[n]) for n in names]]).reshape(1, -1)
    for j in range(hist.shape[1]):
        column = hist[:, j]
        column[~np.isfinite(column)] = np.median(column[np.isfinite(column)])
    latency = [
        i for i, ev in enumerate(judged) if ev.target.is_endpoint_latency and ev.target.stat == "p(95)"
    ]
    if len(latency) >= 2:
        scales = np.array(
            [
                _center_scale(to_space(raw_values(train, judged[i].target), judged[i].target), 0.01)[1]
                for i in latency
            ]
        )
        hist = np.hstack([hist, np.median(y_hist[:, latency] * scales, axis=1)[:, None]])
        cand = np.hstack([cand, np.median(y_cand[:, latency] * scales, axis=1)[:, None]])
    return hist, cand


def conformal_p_values(
    x_hist: FloatArray, y_hist: FloatArray, x_cand: FloatArray, y_cand: FloatArray, random_state: int
) -> list[float]:
    """One-sided (worse = larger) conformal p-value per target from out-of-bag residuals."""
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(
        n_estimators=FOREST_TREES,
        min_samples_leaf=3,
        max_features=0.7,
        oob_score=True,
        random_state=random_state,
    )
    forest.fit(x_hist, y_hist)
    oob = np.asarray(forest.oob_prediction_).reshape(y_hist.shape)
    predicted = np.asarray(forest.predict(x_cand)).reshape(y_cand.shape)
    residual_hist = y_hist - oob
    residual_cand = (y_cand - predicted)[0]
    n = residual_hist.shape[0]
    return [
        float((1 + np.sum(residual_hist[:, k] >= residual_cand[k])) / (n + 1))
        for k in range(residual_cand.size)
    ]


def cv_plus_p_values(
    x_hist: FloatArray,
    y_hist: FloatArray,
    x_cand: FloatArray,
    y_cand: FloatArray,
    random_state: int,
    kind: str,
) -> list[float]:
    """The same p-values from K-fold CV+ residuals, for models without out-of-bag predictions
    (gradient boosting; a voting ensemble of boosting + forest + ridge). Slower: benchmarks only."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor, VotingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from sklearn.multioutput import MultiOutputRegressor

    def make() -> MultiOutputRegressor:
        boost = GradientBoostingRegressor(n_estimators=40, max_depth=2, random_state=random_state)
        if kind == "gbr":
            return MultiOutputRegressor(boost)
        forest = RandomForestRegressor(n_estimators=40, min_samples_leaf=3, random_state=random_state)
        return MultiOutputRegressor(VotingRegressor([("gbr", boost), ("rf", forest), ("ridge", Ridge())]))

    residual_hist = np.zeros_like(y_hist)
    predictions = []
    for train, test in KFold(n_splits=CV_FOLDS, shuffle=True, random_state=random_state).split(x_hist):
        model = make().fit(x_hist[train], y_hist[train])
        residual_hist[test] = y_hist[test] - model.predict(x_hist[test])
        predictions.append(model.predict(x_cand)[0])
    residual_cand = y_cand[0] - np.median(np.array(predictions), axis=0)
    n = residual_hist.shape[0]
    return [
        float((1 + np.sum(residual_hist[:, k] >= residual_cand[k])) / (n + 1))
        for k in range(residual_cand.size)
    ]


def run_is_anomalous(x_hist: FloatArray, x_cand: FloatArray, random_state: int) -> tuple[bool, int]:
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(
        n_estimators=100, max_samples=min(256, x_hist.shape[0]), random_state=random_state
    )
    forest.fit(x_hist)
    history_scores = forest.score_samples(x_hist)
    candidate_score = float(forest.score_samples(x_cand)[0])
    return candidate_score < float(np.min(history_scores)), int(x_hist.shape[0])
