"""Capacity regressions: did this run's max safe users or peak throughput drop beyond noise?

The same discipline as latency (core.detect): values compared in log space against the comparable
history's median with a robust (Qn) sigma, floored; a Student-t prediction interval with the
robust degrees of freedom gives a one-sided p-value, and a drop is a regression only when it is
significant (p < `alpha`, 0.001 as for latency) AND passes the floor (at least `min_change_ratio`,
10 %: baseline/observed ≥ 1.10). With fewer than `min_runs` history values the verdict is
`no_baseline`. A max safe load that hit the study's reach (no crossing measured) is censored:
it is neither stored nor judged.

Stored form: two gauge metrics in the run's record, `capacity_max_safe_users` and
`capacity_peak_throughput` (`values: {"value": x}`), so the history keeps them like any run's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from perfgate.core.detect.robust import confidence_from_p, mad_df, prediction_z, robust_center_scale, t_sf
from perfgate.models import Finding, MetricSeries, Verdict
from perfgate.models.capacity import CapacityResult

MAX_SAFE = "capacity_max_safe_users"
PEAK = "capacity_peak_throughput"
UNITS = {MAX_SAFE: "count", PEAK: "per_s"}
ALPHA = 0.001
MIN_CHANGE_RATIO = 1.10
LOG_SIGMA_FLOOR = 0.01  # a constant history is never infinitely precise: 1 % in log space


def capacity_metrics(result: CapacityResult) -> dict[str, MetricSeries]:
    """The metrics a capacity result adds to its run's record (censored max safe left out)."""
    metrics = {PEAK: MetricSeries(type="gauge", values={"value": round(result.usl.peak_throughput, 4)})}
    safe = result.max_safe_users
    if safe.users is not None and safe.limited_by != "range":
        metrics[MAX_SAFE] = MetricSeries(type="gauge", values={"value": safe.users})
    return metrics


def _finding(metric: str, observed: float, history: Sequence[float], min_runs: int) -> Finding:
    unit = UNITS[metric]
    if len(history) < min_runs:
        return Finding(
            metric=metric, stat="value", direction="lower_is_worse", unit=unit, observed=observed,
            classification="no_baseline", confidence=0.0,
            reason=f"{len(history)} comparable runs with this value; {min_runs} needed",
        )  # fmt: skip
    logs = np.log(np.maximum(np.asarray(history, dtype=np.float64), 1e-9))
    stats = robust_center_scale(-logs, LOG_SIGMA_FLOOR)  # oriented: larger is worse
    z = prediction_z(-math.log(max(observed, 1e-9)), stats)
    p_drop, p_rise = t_sf(z, mad_df(stats.n)), t_sf(-z, mad_df(stats.n))
    baseline = math.exp(-stats.center)
    ratio = observed / baseline
    if p_drop < ALPHA and baseline / max(observed, 1e-9) >= MIN_CHANGE_RATIO:
        kind, confidence = "regression", confidence_from_p(p_drop)
    elif p_rise < ALPHA and ratio >= MIN_CHANGE_RATIO:
        kind, confidence = "improvement", confidence_from_p(p_rise)
    else:
        kind, confidence = (
            ("noise" if ratio <= 1 / MIN_CHANGE_RATIO else "pass"),
            min(1.0, 2 * min(p_drop, p_rise)),
        )
    reason = f"{baseline:.4g} → {observed:.4g} ({(ratio - 1) * 100:+.1f} %), p={min(p_drop, p_rise):.2g} over {stats.n} runs"
    return Finding(
        metric=metric, stat="value", direction="lower_is_worse", unit=unit, baseline=round(baseline, 4),
        observed=observed, change_ratio=round(ratio, 4), change_abs=round(observed - baseline, 4),
        classification=kind, confidence=round(confidence, 4), detectors=["robust_t"], reason=reason,
    )  # fmt: skip


def judge_capacity(
    observed: Mapping[str, MetricSeries],
    history: Mapping[str, Sequence[float]],
    *,
    scenario: str,
    source: str,
    min_runs: int,
) -> Verdict:
    """A `Verdict` over the capacity metrics present in `observed` (see the module docstring)."""
    findings = [
        _finding(metric, series.values["value"], history.get(metric, []), min_runs)
        for metric, series in sorted(observed.items())
    ]
    kinds = {f.classification for f in findings}
    verdict = next(
        (kind for kind in ("regression", "improvement", "noise", "pass") if kind in kinds), "no_baseline"
    )
    runs = max((len(history.get(f.metric, [])) for f in findings), default=0)
    reasons = {
        "regression": "capacity dropped beyond the history's noise",
        "improvement": "capacity rose beyond the history's noise",
        "noise": "capacity moved within the history's noise",
        "pass": "capacity as before",
        "no_baseline": f"not enough comparable capacity runs yet ({runs}; {min_runs} needed)",
    }
    return Verdict(
        verdict=verdict,
        reason=reasons[verdict],
        scenario=scenario,
        source=source,
        history_runs=runs,
        findings=findings,
    )
