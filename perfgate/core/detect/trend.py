"""`scan_trend`: change points per gated metric over a whole history (oldest first).

Each change is reported at the run where the new level starts, with the mean of the segment
before and after it. A change whose size is below the rule's floors (`min_change_ratio` AND
`min_change_abs`, as in the gate) is classified `noise`; otherwise `regression` or `improvement`
by the metric's direction.

Endpoint latencies are scanned twice: as measured (`space="raw"`) and with the runner's speed
removed (`space="relative"`: log latency minus the median of the other endpoints' centred logs
in the same run), because on a shared runner the run-to-run speed swings hide a one-endpoint step
in the raw series. Relative changes are located on the endpoint's relative *mean* latency (k6's
`avg`: about half the run-to-run noise of p95, no heavy tail) when the run has it, and measured
on the stat's own relative series. A relative change's ratio is the endpoint's own multiplier; a raw change
within ±(min_size - 1) runs of a relative one is dropped as the same change.

Runs on a visibly busy runner — every endpoint slower together by far more than the runs around
them (an isolated spike of the run's shared factor against its rolling median) — are left out of
the raw scans of latency and load-derived metrics: they are the environment's, and a few of them
scattered through a history otherwise split it into "calm" and "busy" segments (bench/corpus-quiet,
two CPU hogs on every 5th run: 13 change points on the untouched history before, see
`bench/detection.py`). A real step moves the runs after it together, so it is no isolated spike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from perfgate.core.detect.changepoints import MIN_SIZE, PENALTY_RULE, PENALTY_SCALE, detect_change_points
from perfgate.core.detect.environment import latency_logs
from perfgate.core.detect.evidence import change_ratio, floors_exceeded
from perfgate.core.detect.extract import LOG_EPSILON, Target, gated_targets, raw_values
from perfgate.core.detect.robust import FloatArray, mad_sigma
from perfgate.models import Policy, RunRecord, VerdictKind
from perfgate.models.detect import ChangePoint, MetricTrend, TrendReport

BUSY_WINDOW = 3  # runs either side forming a run's neighbourhood
BUSY_Z = 5.0  # robust z of a run's shared factor over its neighbourhood's median that marks it busy
ENVIRONMENT_UNITS = ("ms", "per_s", "count")
SHARED_SHARE = 0.5  # a raw latency change is the runner's when the shared factor moved this much of it
RUNNER_SHIFT = 1.25  # a relative change is the runner's when the shared factor moved this much with it

# Relative changes are located on k6's mean (`avg`), not on the gate's typical latency (avg with
# med): placing a +25 % step on bench/corpus (shared machine), the mean located 16/18 within ±2
# runs, the typical latency 12/18, the median 9/18 (med swings more than avg there); 18/18 each on
# the quiet corpus.
LOCATOR_STAT = "avg"


def scan_trend(
    history: Sequence[tuple[str, RunRecord]],
    policy: Policy,
    *,
    penalty_scale: float = PENALTY_SCALE,
    min_size: int = MIN_SIZE,
) -> TrendReport:
    """Change points of every gated (metric, stat) found in `history` ((run_id, record), oldest first)."""
    ids = [run_id for run_id, _ in history]
    records = [record for _, record in history]
    targets: dict[tuple[str, str], Target] = {}
    rule_for = cache(policy.rule_for)
    for record in records:
        for target in gated_targets(record, policy, rule_for):
            targets.setdefault((target.metric, target.stat), target)
    relative = _relative_series(list(targets.values()), records)
    factor = shared_factor(list(targets.values()), records)
    busy = busy_runs(factor) if factor is not None else np.zeros(len(records), dtype=bool)
    metrics = []
    for key in sorted(targets):
        target = targets[key]
        trend = _scan_one(
            target,
            ids,
            records,
            relative.get(key),
            relative.get((target.metric, LOCATOR_STAT)),
            busy if target.rule.unit in ENVIRONMENT_UNITS else None,
            factor if target.is_endpoint_latency else None,
            penalty_scale=penalty_scale,
            min_size=min_size,
        )
        metrics.append(trend)
    notices = []
    if len(records) < 2 * min_size:
        notices.append(f"only {len(records)} run(s): at least {2 * min_size} are needed to locate a change")
    if busy.any():
        notices.append(
            f"{int(busy.sum())} run(s) on a visibly busy runner (every endpoint slower together, unlike the "
            "runs around them) left out of the raw scans of latency and load: "
            + ", ".join(ids[i] for i in np.flatnonzero(busy)[:10])
            + (" …" if busy.sum() > 10 else "")
        )
    return TrendReport(runs=len(records), penalty_rule=PENALTY_RULE, metrics=metrics, notices=notices)


def _relative_series(targets: list[Target], records: list[RunRecord]) -> dict[tuple[str, str], FloatArray]:
    """Per endpoint latency and stat (plus `avg`, the mean): log value minus the median of the other
    endpoints' centred logs in the same run, i.e. the series with the runner's speed removed."""
    latency = [t for t in targets if t.is_endpoint_latency]
    groups = {stat: [t for t in latency if t.stat == stat] for stat in {t.stat for t in latency}}
    if groups:
        first = next(iter(groups.values()))
        groups[LOCATOR_STAT] = [replace(t, stat=LOCATOR_STAT) for t in first]
    out: dict[tuple[str, str], FloatArray] = {}
    for group in groups.values():
        logs = latency_logs(group[0].stat, group, records)
        present = [j for j in range(len(group)) if np.isfinite(logs[:, j]).any()]
        if len(present) < 2:
            continue
        centred = logs[:, present] - np.nanmedian(logs[:, present], axis=0)
        for e, target in enumerate(group[j] for j in present):
            others = np.delete(centred, e, axis=1)
            valid = np.isfinite(others).any(axis=1) & np.isfinite(centred[:, e])
            series = np.full(len(records), np.nan)
            series[valid] = centred[valid, e] - np.nanmedian(others[valid], axis=1)
            out[(target.metric, target.stat)] = series
    return out


def _scan_one(
    target: Target,
    ids: list[str],
    records: list[RunRecord],
    relative: FloatArray | None,
    locator: FloatArray | None,
    busy: NDArray[np.bool_] | None,
    factor: FloatArray | None,
    *,
    penalty_scale: float,
    min_size: int,
) -> MetricTrend:
    every = raw_values(records, target)
    measured = int(np.isfinite(every).sum())
    values = np.where(busy, np.nan, every) if busy is not None else every
    judged = np.log(np.maximum(values, LOG_EPSILON)) if target.log_space else values
    found = _changes(judged, target, penalty_scale, min_size)
    points = [_point(target, ids, values, judged, found, k, "raw") for k in range(len(found) - 2)]
    if factor is not None:
        points = [_shared_or_own(p, judged, factor, found, k) for k, p in enumerate(points)]
    if relative is not None:
        own = _changes(locator if locator is not None else relative, target, penalty_scale, min_size)
        extra = [_point(target, ids, every, relative, own, k, "relative") for k in range(len(own) - 2)]
        if factor is not None:
            extra = [_runner_moved(p, factor, own, k) for k, p in enumerate(extra)]
        points = [p for p in points if all(abs(p.index - q.index) > min_size - 1 for q in extra)] + extra
    return MetricTrend(
        metric=target.metric,
        stat=target.stat,
        direction=target.rule.direction,
        runs=measured,
        change_points=sorted(points, key=lambda p: p.index),
    )


def shared_factor(targets: list[Target], records: list[RunRecord]) -> FloatArray | None:
    """Per run, the median over endpoints of log p95 minus each endpoint's history median: the
    runner's speed as every endpoint saw it (None without two endpoint latencies)."""
    latency = [t for t in targets if t.is_endpoint_latency and t.stat == "p(95)"]
    if len(latency) < 2:
        return None
    logs = latency_logs("p(95)", latency, records)
    centred = logs - np.nanmedian(logs, axis=0)
    rows = np.isfinite(centred).any(axis=1)
    factor = np.full(len(records), np.nan)
    factor[rows] = np.nanmedian(centred[rows], axis=1)
    return factor


def busy_runs(factor: FloatArray) -> NDArray[np.bool_]:
    """Runs whose shared factor is an isolated spike: more than `BUSY_Z` robust sigmas above the
    median of the `BUSY_WINDOW` runs either side. Needs ten runs; otherwise no run is marked."""
    busy = np.zeros(factor.size, dtype=bool)
    if factor.size < 10:
        return busy
    neighbours = np.full(factor.size, np.nan)
    for i in range(factor.size):
        around = np.r_[factor[max(0, i - BUSY_WINDOW) : i], factor[i + 1 : i + 1 + BUSY_WINDOW]]
        around = around[np.isfinite(around)]
        if around.size:
            neighbours[i] = float(np.median(around))
    spike = factor - neighbours
    finite = np.isfinite(spike)
    if finite.sum() < 10:
        return busy
    scale = max(mad_sigma(spike[finite]), 0.01)
    busy[finite] = spike[finite] > BUSY_Z * scale
    return busy


def _changes(series: FloatArray, target: Target, penalty_scale: float, min_size: int) -> list[int]:
    """Change starts as indexes into the full history (runs lacking the value are skipped)."""
    present = np.flatnonzero(np.isfinite(series))
    starts = detect_change_points(
        series[present], penalty_scale=penalty_scale, min_size=min_size, sigma_floor=target.scale_floor
    )
    return [int(present[0])] + [int(present[s]) for s in starts] + [len(series)] if present.size else []


def _point(
    target: Target,
    ids: list[str],
    values: FloatArray,
    judged: FloatArray,
    bounds: list[int],
    k: int,
    space: Literal["raw", "relative"],
) -> ChangePoint:
    """The k-th change of `bounds` ([first, *starts, end]); mean_before/after are raw segment means."""
    before_raw, after_raw = values[bounds[k] : bounds[k + 1]], values[bounds[k + 1] : bounds[k + 2]]
    before = float(np.nanmean(before_raw))
    after = float(np.nanmean(after_raw))
    ratio = change_ratio(after, before)
    if space == "relative":
        ratio = float(np.exp(_segment_shift(judged, bounds, k)))
    index = bounds[k + 1]
    return ChangePoint(
        run_id=ids[index],
        index=index,
        mean_before=before,
        mean_after=after,
        change_ratio=ratio,
        space=space,
        classification=_classify(target, before, before * (ratio or 1.0))
        if space == "relative"
        else _classify(target, before, after),
    )


def _shared_or_own(
    point: ChangePoint, judged: FloatArray, factor: FloatArray, bounds: list[int], k: int
) -> ChangePoint:
    """A raw change of an endpoint's latency that the runner's speed explains — every endpoint's
    level moved across the same boundary by at least half as much, same way — is `noise`."""
    if point.classification == "noise":
        return point
    own, shared = _segment_shift(judged, bounds, k), _segment_shift(factor, bounds, k)
    if own * shared > 0 and abs(shared) >= SHARED_SHARE * abs(own):
        return point.model_copy(update={"classification": "noise"})
    return point


def _runner_moved(point: ChangePoint, factor: FloatArray, bounds: list[int], k: int) -> ChangePoint:
    """A change against the other endpoints across a boundary where the runner's speed itself moved
    by `RUNNER_SHIFT` or more is `noise`: on a busy runner endpoints do not slow alike (the demo
    history's 3-run contention burst: writes ×3-4, reads ×1.5, 24 such "changes" before this)."""
    if point.classification == "noise":
        return point
    if abs(_segment_shift(factor, bounds, k)) >= np.log(RUNNER_SHIFT):
        return point.model_copy(update={"classification": "noise"})
    return point


def _segment_shift(series: FloatArray, bounds: list[int], k: int) -> float:
    """Mean of `series` over the segment after the k-th change of `bounds` minus the one before."""
    before = series[bounds[k] : bounds[k + 1]]
    after = series[bounds[k + 1] : bounds[k + 2]]
    return float(np.nanmean(after) - np.nanmean(before))


def _classify(target: Target, before: float, after: float) -> VerdictKind:
    if floors_exceeded(target, after, before):
        return "regression"
    if floors_exceeded(target, after, before, worse=False):
        return "improvement"
    return "noise"
