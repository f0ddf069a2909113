"""Environment or code? The structure across endpoints and k6's own timings.

A slow runner makes every endpoint slower together (and k6 itself: its per-iteration overhead,
request sending/receiving, connection set-up). A code change usually moves one endpoint.

For one latency stat (say p95) let L[run, e] be log latency of endpoint e, c_e its history
median and r = L - c. Then

- the run's *shared factor* is median_e r[run, e] (exp(factor) = the common multiplier);
- an endpoint's *excess* is r[run, e] minus the median of the *other* endpoints' r (leave-one-out,
  so a single slow endpoint among four does not drag the factor with it).

A candidate whose shared factor passes the latency floor is a *global shift*. When the run
measured its runner's load (the probe, k6's own client timings: `runner.py`), the history's model
of the factor on that load decides: within its prediction interval → the environment, beyond it →
the code, however many endpoints moved. Without such signals it is attributed to
the environment when the history's own factors spread that far (not significant against them)
and the target's CPU per request did not rise, when k6's own timings moved with it (contention),
or when at least 5 % of the history saw such swings (precedent); otherwise to the code. What cannot be told apart: a code
slowdown that lands on a contended runner (reported as noise: a re-run settles it), and a global
code slowdown that costs no CPU (waiting, sleeping, I/O) on a runner whose speed swings as much.

Size (over 300 lines): the shared factor, the leave-one-out excess and the three attribution
rules (spread, k6 timings, precedent) are one decision and read best top to bottom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from perfgate.core.detect.extract import (
    LOCATION_STAT,
    LOG_EPSILON,
    PROBE_SIGNAL,
    Target,
    raw_values,
    stat_value,
)
from perfgate.core.detect.robust import FloatArray, mad_df, mad_sigma, prediction_z, robust_center_scale
from perfgate.core.detect.runner import BUSY_PROBE, PROBE, RunnerJudgement
from perfgate.models import RunRecord

MIN_PROBE_RUNS = 3  # history runs with a probe before a busy probe can excuse a global slowdown

RUNNER_SIGNALS = ("k6_overhead_ms", "http_req_sending_ms", "http_req_receiving_ms", "http_req_blocked_ms")
SIGNAL_FLOOR = 0.05
FACTOR_FLOOR = 0.01
PRECEDENT_SHARE = 0.75
PRECEDENT_RUNS = 0.05  # share of history runs with a factor at least PRECEDENT_SHARE of the candidate's

MEAN_STAT = LOCATION_STAT  # the typical latency: steadier than any one percentile
SENSITIVITY_RUNS = 2  # history runs needed near the candidate's runner factor to use a slope
SENSITIVITY_MIN_FACTOR = np.log(1.5)  # below ×1.5 overall there is nothing to correct
SENSITIVITY_RANGE = (-0.5, 0.5)
WIDE_SPREAD = float(np.log(1.15))

AttributionKind = Literal["none", "environment", "code"]


@dataclass(frozen=True)
class SharedShift:
    """Shared factor and per-endpoint excess of the candidate for one latency stat."""

    stat: str
    endpoints: list[str]
    factor: float
    factor_z: float
    history_factors: FloatArray
    excess: dict[str, float] = field(default_factory=dict)
    excess_z: dict[str, float] = field(default_factory=dict)
    excess_df: int = 1
    excess_scale: dict[str, float] = field(default_factory=dict)
    residual: dict[str, float] = field(default_factory=dict)  # log, against the endpoint's history median


@dataclass(frozen=True)
class Attribution:
    kind: AttributionKind
    factor_ratio: float
    contention_z: float | None
    cpu_per_req_z: float | None
    precedent: float
    note: str
    p_value: float | None = None  # one-sided p of the shift against the runner's measured load
    probe_ratio: float | None = None  # the runner's probe time / the history's median, when measured
    runner_factor: float | None = None  # the shared factor (log) the history predicts at that probe time


def _loo_median(residuals: FloatArray, reference: NDArray[np.bool_] | None = None) -> FloatArray:
    """For each column, the median of the other columns' residuals (row-wise, NaN-aware); only
    the `reference` columns count as others when given (all when fewer than 2 would be left)."""
    out = np.full(residuals.shape, np.nan)
    complete = np.isfinite(residuals).all(axis=1)
    for e in range(residuals.shape[1]):
        keep = np.ones(residuals.shape[1], dtype=bool) if reference is None else reference.copy()
        keep[e] = False
        if keep.sum() < 2:
            keep = np.arange(residuals.shape[1]) != e
        others = residuals[:, keep]
        out[complete, e] = np.median(others[complete], axis=1)
        partial = ~complete & np.isfinite(others).any(axis=1)
        if partial.any():
            out[partial, e] = np.nanmedian(others[partial], axis=1)
    return out


def excess_rows(
    history_logs: FloatArray,
    rows_logs: FloatArray,
    runs: int = 1,
    reference: NDArray[np.bool_] | None = None,
    busy: float | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Excess of each row's endpoints over the other endpoints of the same row, against the
    history's levels: (excess k x E, studentised z k x E, history sigma per endpoint E). In the
    rows, only the `reference` endpoints count as "the others" when given (`improvers`).

    Endpoints do not all slow down alike on a busy runner (on the quiet corpus, writes slowed
    ×1.2-1.9 more than reads under two CPU hogs), so an endpoint's expected excess depends on the
    shared factor. Where the history has runs at the rows' factor (`sensitivity`), that slope is
    removed before judging; elsewhere it is taken as 0 (no extrapolation from quiet runs), unless
    the history's runner speed itself swings widely (`wide_history_slope`): then the slope over
    all its runs is removed, with the rows' factor clipped to the history's range (on the shared
    corpus this cut the typical-latency noise of get/list/search from 13-18 % to 10-15 % and
    raised +15 % faults caught from 1/8 to 3/8, +25 % from 7/8 to 8/8, clean still 0/16).
    `busy`: the rows' shared factor, when one row is judged (`compute_shared_shift`): whether the
    run was busy, and which history runs were as busy, is then the same for every endpoint.
    """
    centers = np.array([_nanmedian(history_logs[:, e]) for e in range(history_logs.shape[1])])
    hist_r = history_logs - centers
    rows_r = rows_logs - centers
    hist_f, rows_f = _loo_median(hist_r), _loo_median(rows_r, reference)
    hist_x, rows_x = hist_r - hist_f, rows_r - rows_f
    excess = np.full(rows_x.shape, np.nan)
    z = np.full(rows_x.shape, np.nan)
    sigma = np.full(rows_x.shape[1], np.nan)
    for e in range(rows_x.shape[1]):
        ok = np.isfinite(hist_x[:, e]) & np.isfinite(hist_f[:, e])
        if ok.sum() < 2:
            continue
        excess[:, e], z[:, e], sigma[e] = _endpoint_excess(
            hist_f[ok, e], hist_x[ok, e], rows_f[:, e], rows_x[:, e], runs, busy
        )
    return excess, z, sigma


def _endpoint_excess(
    factors: FloatArray,
    excess: FloatArray,
    row_factors: FloatArray,
    row_excess: FloatArray,
    runs: int,
    busy: float | None,
) -> tuple[FloatArray, FloatArray, float]:
    """One endpoint's excess in the rows, studentised, and its sigma in the history: its slope on
    the shared factor removed where the history has runs as busy (`sensitivity`), else the wide
    history's slope (`wide_history_slope`) on the factor clipped to the history's range."""
    slope, near = sensitivity(factors, excess, row_factors, busy)
    used = np.nan_to_num(row_factors)
    if slope == 0.0 and not near.any():
        slope = wide_history_slope(factors, excess)
        used = np.clip(used, factors.min(), factors.max())
    residuals = excess - slope * factors
    stats = robust_center_scale(residuals, FACTOR_FLOOR)
    scale = stats.scale
    if near.any():  # noise grows with contention: judge against the runs that were as busy
        scale = max(scale, float(np.sqrt(np.mean((residuals[near] - stats.center) ** 2))))
    out = row_excess - slope * used - stats.center
    return out, out / (scale * np.sqrt(1.0 / runs + 1.0 / stats.n)), scale


def wide_history_slope(factors: FloatArray, excess: FloatArray) -> float:
    """On a history whose runner speed itself swings widely (robust spread of the shared factor at
    least `WIDE_SPREAD`), the Theil-Sen slope of an endpoint's excess on the factor over all runs
    (clipped like `sensitivity`'s); 0 on a steadier history."""
    spread = mad_sigma(factors)
    if spread < WIDE_SPREAD or factors.size < 10:
        return 0.0
    return _clipped_slope(factors, excess, min_dx=spread / 4)


def _clipped_slope(factors: FloatArray, excess: FloatArray, *, min_dx: float) -> float:
    """Theil-Sen slope of `excess` on `factors` over the pairs at least `min_dx` apart, clipped to
    `SENSITIVITY_RANGE` (0 when no pair is that far apart)."""
    dx = factors[:, None] - factors[None, :]
    dy = excess[:, None] - excess[None, :]
    pairs = np.abs(dx) > min_dx
    slope = float(np.median(dy[pairs] / dx[pairs])) if pairs.any() else 0.0
    return float(np.clip(slope, *SENSITIVITY_RANGE))


def sensitivity(
    factors: FloatArray, excess: FloatArray, target_factors: FloatArray, busy: float | None = None
) -> tuple[float, NDArray[np.bool_]]:
    """Theil-Sen slope of an endpoint's excess on the shared factor, and which history runs were
    "as busy" (a factor at least half as large, same sign, as the largest of `target_factors`, or
    as `busy`, the run's own shared factor, when that is larger: an endpoint's leave-one-out factor
    is smallest for the endpoints a busy runner slows most, as the others are the ones it slows
    less — quiet corpus, two CPU hogs: writes ×1.45 against a run ×1.63). The slope is used only when at least `SENSITIVITY_RUNS` runs were that busy — it is
    interpolated, not extrapolated from quiet runs — and clipped to a plausible range; else 0
    (and no run counts as busy)."""
    none = np.zeros(factors.shape, dtype=bool)
    finite = target_factors[np.isfinite(target_factors)]
    if finite.size == 0:
        return 0.0, none
    target = float(finite[np.argmax(np.abs(finite))])
    if busy is not None and abs(busy) > abs(target) and busy * target > 0:
        target = busy  # the run's own factor says how busy it was, whichever endpoint is judged
    if abs(target) < SENSITIVITY_MIN_FACTOR:
        return 0.0, none
    near = factors * np.sign(target) >= 0.5 * abs(target)
    if near.sum() < SENSITIVITY_RUNS:
        return 0.0, none
    return _clipped_slope(factors, excess, min_dx=SENSITIVITY_MIN_FACTOR / 2), near


def _row_median(residuals: FloatArray) -> FloatArray:
    out = np.zeros(residuals.shape[0])
    valid = np.isfinite(residuals).any(axis=1)
    if valid.any():
        out[valid] = np.nanmedian(residuals[valid], axis=1)
    return out


def compute_shared_shift(
    stat: str,
    endpoints: list[str],
    history_logs: FloatArray,
    candidate_logs: FloatArray,
    runs: int = 1,
    improvers: frozenset[str] = frozenset(),
) -> SharedShift | None:
    """`history_logs`: runs x endpoints log latencies (NaN = missing); `candidate_logs`: endpoints
    (pooled over `runs` runs of the same code); `improvers` are left out of the other endpoints'
    reference (`improvers`)."""
    if len(endpoints) < 2 or history_logs.shape[0] < 2:
        return None
    centers = np.array([_nanmedian(history_logs[:, e]) for e in range(len(endpoints))])
    hist_r = history_logs - centers
    cand_r = (candidate_logs - centers)[None, :]
    hist_factors = _row_median(hist_r)
    factor = float(_row_median(cand_r)[0])
    factor_stats = robust_center_scale(hist_factors, FACTOR_FLOOR)
    reference = np.array([name not in improvers for name in endpoints]) if improvers else None
    excess_all, z_all, sigma = excess_rows(history_logs, candidate_logs[None, :], runs, reference, factor)
    excess: dict[str, float] = {}
    excess_z: dict[str, float] = {}
    excess_scale: dict[str, float] = {}
    for e, name in enumerate(endpoints):
        if np.isfinite(excess_all[0, e]):
            excess[name] = float(excess_all[0, e])
            excess_z[name] = float(z_all[0, e])
            excess_scale[name] = float(sigma[e])
    return SharedShift(
        stat=stat,
        endpoints=endpoints,
        factor=factor,
        factor_z=prediction_z(factor, factor_stats, runs),
        history_factors=hist_factors,
        excess=excess,
        excess_z=excess_z,
        excess_df=mad_df(len(hist_factors)),
        excess_scale=excess_scale,
        residual={name: float(cand_r[0, e]) for e, name in enumerate(endpoints) if np.isfinite(cand_r[0, e])},
    )


def improvers(shift: SharedShift, runner: RunnerJudgement, z_crit: float, floor: float) -> frozenset[str]:
    """Endpoints that improved on their own: their level fell below what the runner's measured
    load predicts (`runner.expected_factor`) beyond the latency floor and significantly. Left out
    of the others' reference, they no longer drag it down so that an endpoint that stayed put reads
    "slower on its own" (two endpoints ×0.7 made an untouched one read ×1.12). An endpoint the
    others outran (a ping that a global slowdown did not touch) stays in: it did not fall below
    the runner's level. None unless at least two endpoints did not fall (the others' reference):
    when (nearly) every endpoint fell, the runner was faster than predicted, not the code."""
    found = set()
    for name, residual in shift.residual.items():
        drop = residual - runner.expected_factor
        sigma = float(np.hypot(runner.expected_sigma, shift.excess_scale.get(name, 0.0)))
        if drop < -floor and drop < -z_crit * sigma:
            found.add(name)
    return frozenset(found) if len(shift.residual) - len(found) >= 2 else frozenset()


def _nanmedian(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def signal_z(
    history: Sequence[Mapping[str, float]], candidate: Mapping[str, float], name: str, runs: int = 1
) -> float | None:
    """Robust z of the candidate's log signal against the history (None if unavailable)."""
    values = np.array([row[name] for row in history if name in row and row[name] > 0], dtype=float)
    if name not in candidate or candidate[name] <= 0 or values.size < 3:
        return None
    stats = robust_center_scale(np.log(values), SIGNAL_FLOOR)
    return prediction_z(float(np.log(candidate[name])), stats, runs)


def contention_z(
    history: Sequence[Mapping[str, float]], candidate: Mapping[str, float], runs: int = 1
) -> float | None:
    """Median robust z of k6's own runner-speed signals (None when k6 reported none of them)."""
    zs = [z for name in RUNNER_SIGNALS if (z := signal_z(history, candidate, name, runs)) is not None]
    return float(np.median(zs)) if zs else None


def busy_probe(history: Sequence[Mapping[str, float]], candidate: Mapping[str, float]) -> float | None:
    """The candidate's probe time over the history's median, when at least ×1.5 (`BUSY_PROBE`).

    Used where the runner model cannot judge (a history shorter than its minimum, or a load beyond
    the history's): a runner measured that much slower explains a global slowdown, which is then
    the environment's (noise, re-run advised) rather than the code's."""
    probes = [row[PROBE_SIGNAL] for row in history if row.get(PROBE_SIGNAL, 0) > 0]
    if candidate.get(PROBE_SIGNAL, 0) <= 0 or len(probes) < MIN_PROBE_RUNS:
        return None
    ratio = candidate[PROBE_SIGNAL] / float(np.median(probes))
    return ratio if np.log(ratio) >= BUSY_PROBE else None


def attribute_shift(
    shift: SharedShift,
    history: Sequence[Mapping[str, float]],
    candidate: Mapping[str, float],
    *,
    z_crit: float,
    min_ratio: float,
    runs: int = 1,
    runner: RunnerJudgement | None = None,
) -> Attribution:
    """Decide whether the candidate's shared latency factor is a global shift, and whose: from the
    runner evidence measured in the run when it has some (`runner`), else from the history."""
    ratio = float(np.exp(shift.factor))
    runner_z = contention_z(history, candidate, runs)
    cpu_z = signal_z(history, candidate, "cpu_per_req", runs)
    direction = 1.0 if shift.factor >= 0 else -1.0
    same_side = shift.history_factors * direction
    precedent = float(np.mean(same_side >= PRECEDENT_SHARE * abs(shift.factor)))
    # the size of the shift as measured, or against the level the runner's load predicts (a global
    # slowdown on a runner measured faster than usual can land on the baseline as measured)
    size = (
        abs(shift.factor) if runner is None else max(abs(shift.factor), shift.factor - runner.expected_factor)
    )
    if size < np.log(min_ratio):
        return Attribution("none", ratio, runner_z, cpu_z, precedent, "")
    common = f"all {len(shift.endpoints)} endpoints {_times(ratio)} together ({shift.stat})"
    cpu_up = cpu_z is not None and cpu_z * direction >= z_crit
    found = (runner_z, cpu_z, precedent)
    if runner is not None:
        return _by_runner_evidence(runner, common, ratio, found, z_crit=z_crit, cpu_up=cpu_up)
    if abs(shift.factor_z) < z_crit and not cpu_up:
        note = f"{common}, within the runner-speed swings of the history (z={shift.factor_z:.1f})"
        return Attribution("environment", ratio, runner_z, cpu_z, precedent, note)
    if runner_z is not None and runner_z * direction >= z_crit:
        note = f"{common} and k6's own timings moved with them (z={runner_z:.1f}): a slow runner"
        return Attribution("environment", ratio, runner_z, cpu_z, precedent, note)
    busy = busy_probe(history, candidate)
    if busy is not None and direction > 0 and not cpu_up:
        note = (
            f"{common} while the calibration probe ran ×{busy:.2f} slower than in the history: a busy runner"
        )
        return Attribution("environment", ratio, runner_z, cpu_z, precedent, note, probe_ratio=busy)
    if precedent >= PRECEDENT_RUNS and not cpu_up:
        note = f"{common}; {precedent:.0%} of the history shows such environment-wide swings"
        return Attribution("environment", ratio, runner_z, cpu_z, precedent, note)
    evidence = (
        "target CPU per request rose"
        if cpu_up
        else ("k6's own timings stayed normal" if runner_z is not None else "no runner-speed signal to blame")
    )
    note = f"{common} and {evidence}: a global code change"
    return Attribution("code", ratio, runner_z, cpu_z, precedent, note)


def _by_runner_evidence(
    runner: RunnerJudgement,
    common: str,
    ratio: float,
    found: tuple[float | None, float | None, float],
    *,
    z_crit: float,
    cpu_up: bool,
) -> Attribution:
    """A global shift judged on the runner's measured load (`runner.py`), not on its shape."""
    runner_z, cpu_z, precedent = found
    load = (
        f"at the load measured in the run ({_measured_load(runner)}) the history's runs moved "
        f"×{np.exp(runner.expected_factor):.2f}"
    )
    if runner.explains(z_crit) and not cpu_up:
        note = f"{common}: {load} (z={runner.factor_z:.1f}), the runner explains it"
        return Attribution(
            "environment",
            ratio,
            runner_z,
            cpu_z,
            precedent,
            note,
            runner.p_value,
            runner.probe_ratio,
            runner.expected_factor,
        )
    why = (
        "the target's CPU per request rose"
        if cpu_up
        else f"further than that load explains (z={runner.factor_z:.1f})"
    )
    note = f"{common}; {load}: {why}, a global code change"
    p_value = runner.p_value if not runner.explains(z_crit) else None
    return Attribution(
        "code", ratio, runner_z, cpu_z, precedent, note, p_value, runner.probe_ratio, runner.expected_factor
    )


def _measured_load(runner: RunnerJudgement) -> str:
    """What the runner's load was judged on, for the note."""
    parts = [f"probe ×{runner.probe_ratio:.2f} its usual time"] if runner.probe_ratio else []
    if any(signal != PROBE for signal in runner.signals):
        parts.append("k6's own timings")
    return ", ".join(parts) or "no signal"


def _times(ratio: float) -> str:
    return f"×{ratio:.2f}"


def latency_logs(stat: str, targets: Sequence[Target], runs: Sequence[RunRecord]) -> FloatArray:
    """runs x endpoints log latencies of one stat (NaN where missing)."""
    columns = [raw_values(runs, replace(t, stat=stat)) for t in targets]
    return np.log(np.maximum(np.column_stack(columns), LOG_EPSILON))


def shared_shift(
    stat: str,
    targets: Sequence[Target],
    observed: Sequence[float | None],
    recent: Sequence[RunRecord],
    runs: int = 1,
    improvers: frozenset[str] = frozenset(),
) -> SharedShift | None:
    """Shared factor and excess for one stat over the endpoints of `targets` (None if unavailable)."""
    if any(value is None for value in observed):
        return None
    hist = latency_logs(stat, targets, recent)
    cand = np.log(np.maximum(np.array(observed, dtype=float), LOG_EPSILON))
    return compute_shared_shift(stat, [str(t.endpoint) for t in targets], hist, cand, runs, improvers)


def mean_latency_shift(
    targets: Sequence[Target],
    candidate: RunRecord,
    recent: Sequence[RunRecord],
    runs: int = 1,
    improvers: frozenset[str] = frozenset(),
) -> SharedShift | None:
    """The same structure on each endpoint's typical latency: far less noisy than p95 for a shift."""
    observed = [stat_value(candidate, t.metric, MEAN_STAT) for t in targets]
    return shared_shift(MEAN_STAT, targets, observed, recent, runs, improvers) if targets else None
