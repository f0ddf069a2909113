"""Was the runner busy? Evidence measured in the run, never the shape of the change.

Every endpoint moving together says nothing by itself: a busy runner does that, and so does a
code change on a shared path (a serializer, a middleware, a slower dependency). What tells them
apart is measured beside the run:

- the calibration probe (`RunRecord.runner`, recorded by `perfgate run`): a fixed piece of CPU
  work timed just before and just after k6; on a runner whose cores are taken by others it takes
  longer. perfgate never divides results by it (its work is not the target's, and projects that
  normalised by such a probe found it unreliable): it only says how busy the runner was;
- k6's own client-side timings, which a busy runner slows and a slower target does not: the
  time to send a request, to read a response once its first byte arrived, and the part of an
  iteration not spent in requests (JavaScript, sleeps, scheduling; `extract.run_signals`);
- the CPU others used on the runner and CPU steal, kept in the record for the reader.

The history says how far a given load moves the run: a robust (Huber) linear model of each
history run's shared latency factor (log) on those signals (log), every coefficient at least 0
(more load never speeds a run up). A candidate whose factor lies within the prediction interval
of that model at its own signals is explained by the runner, however large the factor; one
beyond it is the code's, even when every endpoint moved. On the corpora the model explains far
more of the runner's swings than the probe alone (bench/corpus, no probe: residual sigma 0.40 →
0.14 log; the notes API with probes: 0.48 → 0.21, the probe alone 0.34).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from perfgate.core.detect.extract import probe_times, run_signals
from perfgate.core.detect.robust import FloatArray, mad_df, qn_scale, t_sf
from perfgate.models import RunRecord

MIN_EVIDENCE_RUNS = 8  # history runs with a signal needed to fit on it
RUNS_PER_SIGNAL = 6  # at most one signal per this many history runs (no over-fitting short histories)
FACTOR_FLOOR = 0.03  # log sigma floor of the residual factor (3 %)
SIGNAL_SPREAD = 0.01  # a signal that never moved in the history (log SD under 1 %) says nothing
HUBER_K = 1.345
# A candidate whose signals lie so far from the history's that the model's own uncertainty there
# exceeds one run's noise (leverage > 1; 1/n at the history's centre) is not judged by it: the
# model is interpolated, never extrapolated (the history-swing rules and k6's timings decide).
MAX_LEVERAGE = 1.0
BEYOND_PROBE = float(np.log(1.25))  # a probe ×1.25 past the history's slowest: a load it never saw
BUSY_PROBE = float(np.log(1.5))  # a probe ×1.5 slower than the history's median: a busy runner
BUSY_QUANTILE = 0.75  # predicted slower than this share of the history: a busy load (`_as_busy_scale`)
NEAR_RUNS = 5  # history runs nearest a busy candidate's predicted load: how far the model misses there
PROBE = "probe"
# In order of preference when a short history allows only some of them.
RUNNER_SIGNALS = (PROBE, "k6_overhead_ms", "http_req_receiving_ms", "http_req_sending_ms")


def probe_log(run: RunRecord) -> float | None:
    """Log of the run's probe time (ms; before and after k6 averaged in log space), None without one."""
    probes = probe_times(run)
    return float(np.mean(np.log(probes))) if probes else None


def runner_signals(run: RunRecord) -> dict[str, float]:
    """The run's runner-load signals (log), those it has."""
    signals = {
        name: math.log(value)
        for name, value in run_signals(run).items()
        if name in RUNNER_SIGNALS and value > 0
    }
    probe = probe_log(run)
    if probe is not None:
        signals[PROBE] = probe
    return signals


@dataclass(frozen=True)
class RunnerJudgement:
    """The candidate's measured load and how far the history says such a load moves a run."""

    probe_ratio: float | None  # the candidate's probe time / the history's median, when measured
    expected_factor: float  # log: the shared factor the history's model predicts at that load
    factor_z: float  # the candidate's factor against that prediction (studentised)
    expected_sigma: float  # log: the standard error of that prediction for the candidate
    df: int
    runs: int  # history runs the model was fitted on
    signals: tuple[str, ...] = (PROBE,)  # the signals the model used

    @property
    def busy(self) -> bool:
        return self.probe_ratio is not None and bool(np.log(self.probe_ratio) >= BUSY_PROBE)

    def explains(self, z_crit: float) -> bool:
        """The factor is no further than `z_crit` above what the load predicts (one-sided: a run
        less slow, or faster, than its measured load predicts is no regression of the code)."""
        return self.factor_z < z_crit

    @property
    def p_value(self) -> float:
        """One-sided p of a factor this much above the prediction."""
        return t_sf(self.factor_z, self.df)


def judge_runner_load(
    history: Sequence[Mapping[str, float]],
    candidate: Mapping[str, float],
    history_factors: FloatArray,
    factor: float,
    runs: int = 1,
) -> RunnerJudgement | None:
    """The candidate's shared factor against the history's model of it on the runner signals
    (`runner_signals`); None when the candidate has none that at least `MIN_EVIDENCE_RUNS` history
    runs have too (the caller falls back on the history's swings). `history_factors` (log) align
    with `history`; `runs` > 1 for a pooled candidate (its noise divided by √runs)."""
    names, rows = _usable_signals(history, candidate, history_factors)
    if not names:
        return None
    probes = [history[i][PROBE] for i in rows if PROBE in history[i]]
    if _probe_beyond_history(probes, candidate):
        return None  # the runner measured busier than in any history run: extrapolation
    x = np.array([[1.0] + [history[i][n] for n in names] for i in rows])
    y = history_factors[rows]
    point = np.array([1.0] + [candidate[n] for n in names])
    kept, coef, weights, scale = _fit_nonnegative(x, y)
    if kept.sum() < 2:
        return None  # no signal moved with the factor: nothing measured to judge by
    point = point[kept]
    expected = float(point @ coef)
    leverage = _leverage(x[:, kept], weights, point)
    if leverage > MAX_LEVERAGE:
        return None  # a load far beyond the history's: how far it moves a run is not known here
    scale = _as_busy_scale(x[:, kept] @ coef, y, expected, scale)
    sigma = scale * float(np.sqrt(1.0 / runs + leverage))
    z = (factor - expected) / sigma
    probe_ratio = (
        float(np.exp(candidate[PROBE] - np.median(probes))) if PROBE in candidate and probes else None
    )
    return RunnerJudgement(
        probe_ratio=probe_ratio,
        expected_factor=expected,
        factor_z=float(z),
        expected_sigma=sigma,
        df=mad_df(len(rows) - int(kept.sum()) + 1),
        runs=len(rows),
        signals=tuple(n for n, k in zip(names, kept[1:], strict=True) if k),
    )


def _probe_beyond_history(probes: Sequence[float], candidate: Mapping[str, float]) -> bool:
    """The candidate's probe beyond the slowest of the history's (`probes`, log) by `BEYOND_PROBE`,
    whether or not the model keeps the probe: a signal that never mattered within the history's range says nothing of
    a load past it (seen on httpbin: a probe ×2.6 its usual time, beyond every history run, dropped
    from a model it never explained, left k6's normal timings to call the runner quiet)."""
    return PROBE in candidate and bool(probes) and candidate[PROBE] > max(probes) + BEYOND_PROBE


def _usable_signals(
    history: Sequence[Mapping[str, float]], candidate: Mapping[str, float], history_factors: FloatArray
) -> tuple[list[str], list[int]]:
    """The candidate's signals, in order of preference, that the history can fit on: each moved in
    the history (`SIGNAL_SPREAD`), and at least `MIN_EVIDENCE_RUNS` and `RUNS_PER_SIGNAL` runs per
    signal have them all; and those runs."""
    names: list[str] = []
    rows: list[int] = []
    for name in RUNNER_SIGNALS:
        if name not in candidate:
            continue
        chosen = [*names, name]
        having = [
            i
            for i, row in enumerate(history)
            if np.isfinite(history_factors[i]) and all(n in row for n in chosen)
        ]
        if len(having) < max(MIN_EVIDENCE_RUNS, RUNS_PER_SIGNAL * len(chosen)):
            continue
        if float(np.std([history[i][name] for i in having])) < SIGNAL_SPREAD:
            continue
        names, rows = chosen, having
    return names, rows


def judge_runner(
    history_probes: list[float | None],
    candidate_probe: float | None,
    history_factors: FloatArray,
    factor: float,
    runs: int = 1,
) -> RunnerJudgement | None:
    """`judge_runner_load` on the probe alone (log probe times; None where a run has none)."""
    history = [{PROBE: p} if p is not None else {} for p in history_probes]
    candidate = {PROBE: candidate_probe} if candidate_probe is not None else {}
    return judge_runner_load(history, candidate, history_factors, factor, runs)


def _fit_nonnegative(x: FloatArray, y: FloatArray) -> tuple[np.ndarray, FloatArray, FloatArray, float]:
    """Huber regression of y on x's columns (the first is the intercept); a signal whose
    coefficient comes out negative is dropped and the rest refitted. Returns which columns were
    kept, their coefficients, the final weights and the residuals' robust sigma."""
    kept = np.ones(x.shape[1], dtype=bool)
    while True:
        coef, weights, scale = _huber(x[:, kept], y)
        negative = np.flatnonzero(coef[1:] < 0)
        if negative.size == 0:
            return kept, coef, weights, scale
        columns = np.flatnonzero(kept)[1:]
        kept[columns[negative[np.argmin(coef[1:][negative])]]] = False


def _huber(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Iteratively reweighted least squares with Huber weights and a Qn residual sigma."""
    weights: FloatArray = np.ones(y.size)
    scale = FACTOR_FLOOR
    coef: FloatArray = np.zeros(x.shape[1])
    for _ in range(50):
        root = np.sqrt(weights)
        new: FloatArray = np.asarray(np.linalg.lstsq(x * root[:, None], y * root, rcond=None)[0], dtype=float)
        residuals = y - x @ new
        scale = max(qn_scale(residuals), FACTOR_FLOOR)
        weights = np.minimum(1.0, HUBER_K * scale / np.maximum(np.abs(residuals), 1e-12))
        converged = bool(np.allclose(new, coef, atol=1e-6))
        coef = new
        if converged:
            break
    return coef, weights, scale


def _as_busy_scale(fitted: FloatArray, factors: FloatArray, expected: float, scale: float) -> float:
    """The model's error at a busy load: for a candidate predicted slower than three quarters of
    the history's runs, the root mean square miss (bias included) of the `NEAR_RUNS` history runs
    whose predicted factor is nearest its own, when more than the overall sigma. The robust fit
    follows the many quiet runs; the few busy ones it down-weights are the ones that say how far
    it misses there (bench/corpus-quiet: two-hog runs predicted ×1.6-1.8 were ×1.1-2.2, and 13/16
    two-hog candidates were called a code regression against the overall sigma)."""
    if expected <= float(np.quantile(fitted, BUSY_QUANTILE)):
        return scale
    nearest = np.argsort(np.abs(fitted - expected))[:NEAR_RUNS]
    return max(scale, float(np.sqrt(np.mean((factors[nearest] - fitted[nearest]) ** 2))))


def _leverage(x: FloatArray, weights: FloatArray, point: FloatArray) -> float:
    """How far the candidate's signals sit from the history's: x0ᵀ (XᵀWX)⁻¹ x0 (1/n at the centre)."""
    gram = (x * weights[:, None]).T @ x
    return float(point @ np.linalg.pinv(gram) @ point)
