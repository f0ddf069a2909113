"""The drift guard: the candidate against the long-run (anchored) baseline, not only recent runs.

A creep of a few percent per run hides from the recent baseline, which follows it. The guard
compares the candidate with the *oldest* runs of the history (up to `settings.anchor_window`,
at most a third of it) and fires when the change passes both floors, is significant against
the anchor's spread (p < 0.01), and the newest runs are themselves rising (Mann-Kendall z over the last
`TREND_WINDOW` runs + the candidate ≥ `settings.trend_z`, p < 0.01): two conditions that are
nearly independent under no change, so the joint false-alarm rate is about 1e-4 per value. The last condition tells a creep from
an old, accepted step (flat since), which the guard must not re-flag forever.

For endpoint latencies the same is done in the runner-free space (`relative_drift`): the
endpoint's excess over the other endpoints of the same run, measured against the anchor's
endpoint levels. One run's excess is noisy (σ ≈ 3–6 % on the typical latency, 6–8 % on p95 on a
quiet machine, 11–18 % and 13–19 % on the shared one: `bench/detection.py` prints it), so the
guard pools the newest `LEVEL_RUNS` runs: their median p95 excess must pass the floors, so must
the candidate's own, and their mean typical-latency excess must be significant (σ/√LEVEL_RUNS).
(Pooling the levels with the typical latency, as the single-run test does, caught the corpus
creeps no earlier: ×1.16–1.22 instead of ×1.16–1.19 on the quiet one.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from perfgate.core.detect.environment import MEAN_STAT, excess_rows, latency_logs
from perfgate.core.detect.evidence import DetectorTuning, Drift, Evidence, floors_exceeded
from perfgate.core.detect.extract import Target, raw_values, to_space
from perfgate.core.detect.robust import (
    FloatArray,
    mad_df,
    mann_kendall_z,
    prediction_z,
    robust_center_scale,
    t_sf,
)
from perfgate.models import RunRecord

TREND_WINDOW = 12  # newest runs (+ the candidate) the guard looks for a creep in
MIN_ANCHOR = 5
LEVEL_RUNS = 6  # the newest runs (incl. the candidate) whose pooled level the relative guard judges


def anchor_size(runs: int, settings: DetectorTuning) -> int:
    size = min(settings.anchor_window, runs // 3)
    return size if size >= MIN_ANCHOR and runs - size >= TREND_WINDOW // 2 else 0


def drift_evidence(
    target: Target, values: FloatArray, observed: float, settings: DetectorTuning
) -> Drift | None:
    """Candidate vs the oldest runs (anchored window), only when the newest runs are rising."""
    size = anchor_size(int(values.size), settings)
    if not size:
        return None
    anchor_values = values[:size]
    anchor = float(np.median(anchor_values))
    if not floors_exceeded(target, observed, anchor):
        return None
    stats = robust_center_scale(to_space(anchor_values, target), target.scale_floor)
    obs_space = float(to_space(np.array([observed]), target)[0])
    p_value = t_sf(prediction_z(obs_space, stats, settings.candidate_runs), mad_df(stats.n))
    window = np.append(values[-TREND_WINDOW:], observed)
    trend = mann_kendall_z(to_space(window, target))
    if p_value >= settings.drift_alpha or trend < settings.trend_z:
        return None
    return Drift(anchor=anchor, p_value=p_value, trend_z=trend)


def long_run_window(runs: Sequence[RunRecord], settings: DetectorTuning) -> Sequence[RunRecord]:
    """The long-run baseline of the runner-free guard: every run but the newest LEVEL_RUNS - 1
    (at most `max_train_runs`), so a creep of a few runs barely moves its median."""
    window = list(runs[: len(runs) - (LEVEL_RUNS - 1)])[-settings.max_train_runs :]
    return window if len(window) >= 2 * LEVEL_RUNS else []


def relative_drift(
    evidences: Sequence[Evidence], candidate: RunRecord, runs: Sequence[RunRecord], settings: DetectorTuning
) -> None:
    """Drift of endpoint latencies in the runner-free space (their excess over the other endpoints)."""
    group = [ev for ev in evidences if ev.target.is_endpoint_latency and ev.baseline is not None]
    anchor = long_run_window(runs, settings)
    if not anchor or len(group) < 2:
        return
    newest = [*runs[-TREND_WINDOW:], candidate]
    means = _excess_series(MEAN_STAT, [ev.target for ev in group], newest, anchor)
    for stat in sorted({ev.target.stat for ev in group}):
        members = [ev for ev in group if ev.target.stat == stat and ev.drift is None]
        levels = _excess_series(stat, [ev.target for ev in members], newest[-LEVEL_RUNS:], anchor)
        for ev in members:
            name = str(ev.target.endpoint)
            if means is None or levels is None or name not in means or name not in levels:
                continue
            _judge_relative(ev, levels[name][0], means[name], anchor, settings)


def _excess_series(
    stat: str, targets: Sequence[Target], runs: Sequence[RunRecord], anchor: Sequence[RunRecord]
) -> dict[str, tuple[FloatArray, float]] | None:
    """Per endpoint: its excess (log, vs the anchor's levels) in each of `runs`, and the anchor's sigma."""
    rows = latency_logs(stat, targets, runs)
    if len(targets) < 2 or len(anchor) < 2 or not np.isfinite(rows).all():
        return None
    excess, _, sigma = excess_rows(latency_logs(stat, targets, anchor), rows)
    return {
        str(t.endpoint): (excess[:, e], float(sigma[e]))
        for e, t in enumerate(targets)
        if np.isfinite(excess[:, e]).all()
    }


def _judge_relative(
    ev: Evidence,
    levels: FloatArray,
    means: tuple[FloatArray, float],
    anchor: Sequence[RunRecord],
    settings: DetectorTuning,
) -> None:
    """Level = median excess of the newest LEVEL_RUNS runs (floors); significance = their mean
    typical-latency excess against the anchor's sigma / sqrt(LEVEL_RUNS); creep = Mann-Kendall.
    The candidate must be at or above that level: a creep's newest run carries it, and the level of
    runs that already passed is no reason to fail a candidate below it (a candidate equal to the
    history's median once read ×1.41 "on its own" from five chance-high runs before it)."""
    mean_series, sigma = means
    recent = mean_series[-LEVEL_RUNS:]
    z = float(np.mean(recent)) / (sigma / np.sqrt(recent.size))
    p_value = t_sf(z, mad_df(len(anchor)))
    trend = mann_kendall_z(mean_series)
    anchor_level = float(np.median(raw_values(anchor, ev.target)))
    own_ratio = float(np.exp(np.median(levels)))
    candidate_ratio = float(np.exp(levels[-1]))
    if candidate_ratio < own_ratio:
        return  # the candidate sits below the recent runs' level: it does not carry the creep
    if (
        floors_exceeded(ev.target, anchor_level * own_ratio, anchor_level)
        and floors_exceeded(ev.target, anchor_level * candidate_ratio, anchor_level)
        and (p_value < settings.alpha or (p_value < settings.drift_alpha and trend >= settings.trend_z))
    ):
        ev.drift = Drift(anchor_level, p_value, trend, relative=True, own_ratio=own_ratio)
