"""Per-target evidence from robust statistics, exact count tests and the environment structure. Models (context regressor, Isolation Forest) add theirs in `models.py`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from perfgate.core.detect.drift import drift_evidence
from perfgate.core.detect.environment import (
    Attribution,
    SharedShift,
    attribute_shift,
    improvers,
    mean_latency_shift,
    shared_shift,
)
from perfgate.core.detect.evidence import DetectorTuning, Evidence
from perfgate.core.detect.extract import HistoryColumns, Target, bad_events, raw_values, run_signals, to_space
from perfgate.core.detect.robust import (
    binomial_sf,
    mad_df,
    poisson_sf,
    prediction_z,
    robust_center_scale,
    t_sf,
)
from perfgate.core.detect.runner import RunnerJudgement, judge_runner_load, runner_signals
from perfgate.models import RunRecord

LOAD_DERIVED_UNITS = ("per_s", "count")


def basic_evidence(
    target: Target,
    candidate: RunRecord,
    history: Sequence[RunRecord],
    settings: DetectorTuning,
    columns: HistoryColumns | None = None,
) -> Evidence:
    """`columns`, when given, hold the whole history; `history` its newest runs (`detect_regressions`)."""
    observed = candidate.value(target.metric, target.stat)
    assert observed is not None
    values = raw_values(history, target) if columns is None else columns.raw_values(target)
    values = values[np.isfinite(values)]
    recent = values[-settings.recent_window :]
    if recent.size == 0:
        return Evidence(target, observed, None, 0)
    ev = Evidence(target, observed, float(np.median(recent)), int(recent.size))
    space = to_space(recent, target)
    obs_space = float(to_space(np.array([observed]), target)[0])
    stats = robust_center_scale(space, target.scale_floor)
    z = prediction_z(obs_space, stats, settings.candidate_runs)
    ev.p_value = t_sf(abs(z), mad_df(stats.n))
    if ev.p_value < settings.alpha:
        ev.detectors.append("robust_pi")
    if z > 0:  # worse than the recent median; a creep's newest run is above the recent runs too
        _count_test(ev, candidate, history[-settings.recent_window :], settings)
        ev.drift = drift_evidence(target, values, observed, settings)
    return ev


def _count_test(
    ev: Evidence, candidate: RunRecord, recent: Sequence[RunRecord], settings: DetectorTuning
) -> None:
    """Exact tail for error/check counts (binomial) and dropped iterations (Poisson): both tests must agree."""
    target = ev.target
    if target.rule.unit == "ratio":
        events = bad_events(candidate, target)
        pooled = [e for run in recent if (e := bad_events(run, target)) is not None]
        if events is None or not pooled:
            return
        bad = sum(e[0] for e in pooled)
        trials = sum(e[1] for e in pooled)
        p_count = binomial_sf(events[0], events[1], (bad + 0.5) / (trials + 1.0))
    elif target.rule.unit == "count":
        values = raw_values(recent, target)
        mean = float(np.mean(values[np.isfinite(values)])) if np.isfinite(values).any() else 0.0
        p_count = poisson_sf(round(ev.observed), max(mean, 0.5))
    else:
        return
    ev.p_value = max(ev.p_value, p_count)
    if p_count < settings.alpha:
        ev.detectors.append("count_test")


def add_environment(
    evidences: Sequence[Evidence], candidate: RunRecord, recent: Sequence[RunRecord], settings: DetectorTuning
) -> dict[str, Attribution]:
    """Shared factor per latency stat; attaches attribution and endpoint excess to the evidence."""
    signals_hist = [run_signals(run) for run in recent]
    signals_cand = run_signals(candidate)
    by_stat: dict[str, list[Evidence]] = {}
    for ev in evidences:
        if ev.target.is_endpoint_latency and ev.baseline is not None:
            by_stat.setdefault(ev.target.stat, []).append(ev)
    attributions: dict[str, Attribution] = {}
    runs = settings.candidate_runs
    z_crit = _z_crit(settings, len(recent))
    targets = [ev.target for ev in next(iter(by_stat.values()), [])]
    mean_shift, runner, better = _typical_shift(targets, candidate, recent, runs, z_crit)
    for stat, group in by_stat.items():
        shift = shared_shift(
            stat, [ev.target for ev in group], [ev.observed for ev in group], recent, runs, better
        )
        if shift is None:
            continue
        min_ratio = min(ev.target.rule.min_change_ratio for ev in group)
        runner = runner or judge_candidate_runner(shift, candidate, recent, runs)
        attribution = attribute_shift(
            shift,
            signals_hist,
            signals_cand,
            z_crit=z_crit,
            min_ratio=min_ratio,
            runs=runs,
            runner=_at_stat_level(runner, shift, candidate, recent, runs),
        )
        attributions[stat] = attribution
        for ev in group:
            name = str(ev.target.endpoint)
            ev.attribution = attribution
            _take_code_shift(ev, attribution, settings)
            ev.excess_df = shift.excess_df
            if name in shift.excess:
                ev.excess_ratio = float(np.exp(shift.excess[name]))
                ev.excess_z = shift.excess_z[name]
                ev.excess_scale = shift.excess_scale[name]
            if mean_shift is not None and name in mean_shift.excess:
                ev.mean_excess_z = mean_shift.excess_z[name]
                ev.mean_excess = mean_shift.excess[name]
                ev.mean_excess_scale = mean_shift.excess_scale[name]
    _attribute_load_metrics(evidences, attributions)
    return attributions


def _typical_shift(
    targets: Sequence[Target], candidate: RunRecord, recent: Sequence[RunRecord], runs: int, z_crit: float
) -> tuple[SharedShift | None, RunnerJudgement | None, frozenset[str]]:
    """The typical latency's shift, the runner's judgement on it, and the improvers (`improvers`),
    the shift recomputed without them in the others' reference."""
    mean_shift = mean_latency_shift(targets, candidate, recent, runs=runs)
    runner = judge_candidate_runner(mean_shift, candidate, recent, runs) if mean_shift else None
    if mean_shift is None or runner is None:
        return mean_shift, runner, frozenset()
    floor = math.log(min(t.rule.min_change_ratio for t in targets))
    better = improvers(mean_shift, runner, z_crit, floor)
    if better:
        mean_shift = mean_latency_shift(targets, candidate, recent, runs=runs, improvers=better)
    return mean_shift, runner, better


def judge_candidate_runner(
    shift: SharedShift, candidate: RunRecord, recent: Sequence[RunRecord], runs: int
) -> RunnerJudgement | None:
    """The candidate's measured runner load against the history's (`runner.py`), on `shift`'s
    factor (the typical latency's when k6 reports it: steadier than any percentile)."""
    return judge_runner_load(
        [runner_signals(run) for run in recent],
        runner_signals(candidate),
        shift.history_factors,
        shift.factor,
        runs,
    )


def _at_stat_level(
    runner: RunnerJudgement | None,
    shift: SharedShift,
    candidate: RunRecord,
    recent: Sequence[RunRecord],
    runs: int,
) -> RunnerJudgement | None:
    """The runner's judgement (decided on the typical latency) with the level its load predicts for
    `shift`'s own stat: a p95 swings further with the runner than the typical request does."""
    level = judge_candidate_runner(shift, candidate, recent, runs) if runner is not None else None
    if runner is None or level is None:
        return runner
    return replace(runner, expected_factor=level.expected_factor)


def _take_code_shift(ev: Evidence, attribution: Attribution, settings: DetectorTuning) -> None:
    """A global shift the runner's measured load does not explain is significant for every endpoint
    that moved worse with it (judged at the runner's expected level, `Evidence.judged`): the
    shift's p, not the raw spread of a history with busy runs in it."""
    if attribution.kind != "code" or attribution.p_value is None:
        return
    if attribution.runner_factor is not None and ev.target.is_endpoint_latency:
        ev.judged = ev.observed / math.exp(attribution.runner_factor)
    if (ev.compared - (ev.baseline or 0.0)) * ev.target.sign <= 0:
        return
    ev.p_value = min(ev.p_value, attribution.p_value)
    if ev.p_value < settings.alpha:
        ev.detectors.append("runner_evidence")


def _attribute_load_metrics(evidences: Sequence[Evidence], attributions: dict[str, Attribution]) -> None:
    """Throughput and dropped iterations follow latency in a closed model: they share its cause."""
    attribution = attributions.get("p(95)") or next(iter(attributions.values()), None)
    if attribution is None or attribution.kind == "none":
        return
    for ev in evidences:
        if ev.target.rule.unit in LOAD_DERIVED_UNITS and not ev.target.is_endpoint_latency:
            ev.attribution = attribution


def _z_crit(settings: DetectorTuning, n: int) -> float:
    """The z at which a one-sided t test with n - 1 df reaches `settings.alpha` (bisection, no scipy.stats)."""
    low, high = 0.0, 50.0
    for _ in range(60):
        mid = (low + high) / 2
        if t_sf(mid, mad_df(n)) > settings.alpha:
            low = mid
        else:
            high = mid
    return high
