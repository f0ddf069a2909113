"""Was the runner busy? Evidence measured in the run, never the shape of the change.

Every endpoint moving together says nothing by itself: a busy runner does that, and so does a
code change on a shared path (a serializer, a middleware, a slower dependency). What tells them
apart is measured beside the run (`RunRecord.runner`, recorded by `perfgate run`):

- the calibration probe: a fixed piece of CPU work timed just before and just after k6; on a
  runner whose cores are taken by others it takes longer. perfgate never divides results by it
  (its work is not the target's, and projects that normalised by such a probe found it
  unreliable): it only says how busy the runner was;
- the CPU others used on the runner (the whole machine's busy time minus k6's and the
  target's) and CPU steal, kept in the record for the reader;
- k6's own client-side timings and the target's CPU per request (`environment.py`).

The history says how far a given load moves the run: a robust (Theil-Sen) line of each history
run's shared latency factor (log) on its probe time (log). A candidate whose factor lies within
the prediction interval of that line at its own probe time is explained by the runner, however
large the factor; one beyond it is the code's, even when every endpoint moved. On a history with
both quiet and busy runs this is "no further than the history's own busy runs went at that load".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfgate.core.detect.robust import FloatArray, mad_df, qn_scale, t_sf
from perfgate.models import RunRecord

MIN_EVIDENCE_RUNS = 8  # history runs with a probe time needed to fit the line
FACTOR_FLOOR = 0.03  # log sigma floor of the residual factor (3 %)
SLOPE_RANGE = (0.0, 2.0)  # more load never speeds the run up; at most ×(probe ratio)²
BUSY_PROBE = float(np.log(1.5))  # a probe ×1.5 slower than the history's median: a busy runner


def probe_log(run: RunRecord) -> float | None:
    """Log of the run's probe time (ms; before and after k6 averaged in log space), None without one."""
    runner = run.runner
    if runner is None:
        return None
    probes = [p for p in (runner.probe_before_ms, runner.probe_after_ms) if p]
    return float(np.mean(np.log(probes))) if probes else None


@dataclass(frozen=True)
class RunnerJudgement:
    """The candidate's measured load and how far the history says such a load moves a run."""

    probe_ratio: float  # the candidate's probe time / the history's median
    expected_factor: float  # log: the shared factor the history's line predicts at that probe time
    factor_z: float  # the candidate's factor against that prediction (studentised)
    df: int
    runs: int  # history runs the line was fitted on

    @property
    def busy(self) -> bool:
        return bool(np.log(self.probe_ratio) >= BUSY_PROBE)

    def explains(self, z_crit: float) -> bool:
        return abs(self.factor_z) < z_crit

    @property
    def p_value(self) -> float:
        """One-sided p of a factor this much above the prediction."""
        return t_sf(self.factor_z, self.df)


def judge_runner(
    history_probes: list[float | None],
    candidate_probe: float | None,
    history_factors: FloatArray,
    factor: float,
    runs: int = 1,
) -> RunnerJudgement | None:
    """None when the candidate or fewer than `MIN_EVIDENCE_RUNS` history runs have a probe time
    (the caller falls back on the history's swings). `history_factors` (log) align with
    `history_probes`; `runs` > 1 for a pooled candidate (its noise divided by √runs)."""
    x = np.array([p if p is not None else np.nan for p in history_probes], dtype=float)
    ok = np.isfinite(x) & np.isfinite(history_factors)
    if candidate_probe is None or ok.sum() < MIN_EVIDENCE_RUNS:
        return None
    xs, ys = x[ok], history_factors[ok]
    slope = _slope(xs, ys)
    intercept = float(np.median(ys - slope * xs))
    residuals = ys - (intercept + slope * xs)
    scale = max(qn_scale(residuals), FACTOR_FLOOR)
    expected = intercept + slope * candidate_probe
    z = (factor - expected) / (scale * np.sqrt(1.0 / runs + 1.0 / xs.size))
    return RunnerJudgement(
        probe_ratio=float(np.exp(candidate_probe - np.median(xs))),
        expected_factor=float(expected),
        factor_z=float(z),
        df=mad_df(int(xs.size)),
        runs=int(xs.size),
    )


def _slope(xs: FloatArray, ys: FloatArray) -> float:
    """Theil-Sen slope over the pairs whose probe times differ by at least 10 %, clipped."""
    dx = xs[:, None] - xs[None, :]
    dy = ys[:, None] - ys[None, :]
    pairs = np.abs(dx) > np.log(1.1)
    slope = float(np.median(dy[pairs] / dx[pairs])) if pairs.any() else 0.0
    return float(np.clip(slope, *SLOPE_RANGE))
