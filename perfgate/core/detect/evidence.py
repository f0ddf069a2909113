"""The numbers gathered for one target before it is classified, and the minimum-effect rule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from perfgate.core.detect.environment import Attribution
from perfgate.core.detect.extract import Target


@dataclass(frozen=True)
class DetectorTuning:
    """Decision thresholds (documented defaults; tests and benchmarks may override)."""

    alpha: float = 0.001  # one-sided p-value below which a change is significant
    # On a busy runner (the whole run ×2 slower or faster, blamed on the environment) endpoints
    # do not slow down alike and their noise grows: an endpoint's own change must then be 10×
    # more significant, else the run is noise and a re-run is advised (bench/detection.py,
    # quiet corpus: 11/16 heavily contended runs were false regressions without this and the
    # runner-sensitivity correction, 2/16 with both).
    busy_runner_factor: float = 2.0
    busy_runner_alpha_scale: float = 0.1
    confirm_alpha: float = 0.05  # a second detector confirms at this level
    # Runs pooled into the candidate (repeats of the same code, `perfgate.core.pool`): its own
    # noise is the history's per-run noise / sqrt(candidate_runs) in every prediction interval.
    candidate_runs: int = 1
    recent_window: int = 30  # newest comparable runs forming the recent baseline
    anchor_window: int = 20  # oldest runs forming the long-run (drift) baseline, at most
    trend_z: float = 2.33  # Mann-Kendall z for a creep in the recent window (p < 0.01)
    drift_alpha: float = 0.01  # drift: against the anchor at p < 0.01 AND a creep at p < 0.01
    # The learned detectors did not earn their place on the real-run corpus (bench/detection.py:
    # identical verdicts with and without them; alone, the context model flags 4/16 clean and
    # 8/16 contended runs, the Isolation Forest no single-endpoint fault) and they cost ~1 s of
    # scikit-learn import per analysis: available, off by default.
    use_context_model: bool = False
    context_model: Literal["rf", "gbr", "voting"] = "rf"  # rf: OOB conformal; gbr/voting: 5-fold CV+
    use_isolation_forest: bool = False
    max_train_runs: int = 200  # newest runs the context model trains on
    anomaly_quantile: float = 0.99  # Isolation Forest: score beyond this history quantile


@dataclass(frozen=True)
class Drift:
    anchor: float  # raw long-run baseline (median of the anchored window)
    p_value: float
    trend_z: float
    relative: bool = False  # judged on the endpoint's excess over the other endpoints (runner-free)
    own_ratio: float | None = None  # that excess as a multiplier, when relative


@dataclass
class Evidence:
    target: Target
    observed: float
    baseline: float | None
    n: int
    p_value: float = 1.0  # robust prediction interval (and exact count test) against the recent window
    detectors: list[str] = field(default_factory=list)
    excess_ratio: float | None = None  # endpoint's own multiplier over the shared factor (this stat)
    excess_z: float | None = None  # studentised excess of this stat
    excess_scale: float | None = None  # run-to-run sigma of that excess in the history (log)
    mean_excess_z: float | None = None  # studentised excess of the endpoint's typical latency
    mean_excess: float | None = None  # that excess (log) and its sigma in the history
    mean_excess_scale: float | None = None
    excess_df: int = 1
    context_p: float | None = None  # conformal p-value of the context model's residual
    drift: Drift | None = None
    attribution: Attribution | None = None
    anomalous_run: bool = False
    # An endpoint latency in a global shift the runner's measured load does not explain: the value
    # at the runner's expected level (observed / the factor that load predicts). The floors judge
    # it, not the value as measured: a global slowdown on a runner measured 2× faster than usual
    # can land on the baseline as measured. Reports still show the value as measured.
    judged: float | None = None

    @property
    def compared(self) -> float:
        """The value the floors judge: `judged` when set, else as measured."""
        return self.observed if self.judged is None else self.judged


def pooled_own_ratio(ev: Evidence) -> float | None:
    """The endpoint's own multiplier for this stat, pooled with its typical latency's.

    A shift of an endpoint moves its whole distribution, and its typical latency measures that
    shift with a fraction of the stat's run-to-run noise, so the two excesses are averaged in log
    space with inverse-variance weights (the stat's alone when the typical latency is missing).
    The multiplicative reading: an endpoint whose typical request got ×1.2 slower is taken to have
    a ×1.2 slower p95 too (for a constant added delay this overstates the tail's change).
    """
    if ev.excess_ratio is None:
        return None
    if ev.mean_excess is None or not ev.mean_excess_scale or not ev.excess_scale:
        return ev.excess_ratio
    return math.exp(
        pool_logs(math.log(ev.excess_ratio), ev.excess_scale, ev.mean_excess, ev.mean_excess_scale)
    )


def pool_logs(stat: float, stat_scale: float, typical: float, typical_scale: float) -> float:
    """Inverse-variance weighted mean of two log excesses (a stat's and the typical latency's)."""
    w_stat, w_typical = 1.0 / stat_scale**2, 1.0 / typical_scale**2
    return (w_stat * stat + w_typical * typical) / (w_stat + w_typical)


def would_fail(ev: Evidence, settings: DetectorTuning) -> bool:
    """Worse past both floors and significant: what fails the gate unless something explains it."""
    return (
        ev.baseline is not None
        and ev.p_value < settings.alpha
        and floors_exceeded(ev.target, ev.compared, ev.baseline)
    )


def change_ratio(observed: float, baseline: float | None) -> float | None:
    if baseline is None or baseline == 0:
        return None
    return observed / baseline


def floors_exceeded(target: Target, observed: float, baseline: float, *, worse: bool = True) -> bool:
    """Both floors: the change must reach `min_change_ratio` AND `min_change_abs` (and be non-zero).

    Higher-is-worse, worse: observed/baseline >= min_change_ratio and observed - baseline >=
    min_change_abs. Lower-is-worse mirrors it (baseline/observed, baseline - observed). With
    `worse=False` the same floors are applied in the better direction (improvements). A zero
    baseline has no ratio: only the absolute floor applies.
    """
    rule = target.rule
    rising = (target.sign > 0) == worse
    high, low = (observed, baseline) if rising else (baseline, observed)
    delta = high - low
    if delta <= 0 or delta < rule.min_change_abs:
        return False
    if low <= 0:
        return True
    return high / low >= rule.min_change_ratio
