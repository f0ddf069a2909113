"""Evidence for one target → a classified `Finding` with its one-line reason.

Order of the rules (first match wins):

1. no history value → `no_baseline`;
2. a value better than its baseline as measured is never a regression (rules 2 and 5), whatever
   the other endpoints did, unless the runner was measured faster (`_improved`); otherwise an
   endpoint latency whose *own* change (against the other endpoints of the same run, i.e. with
   the shared runner factor removed) passes both floors and is significant → `regression`; so
   does its runner-free drift guard;
3. a global shift attributed to the environment → `noise` (the run's one advice, re-run or not,
   is the detector's: `advice.py`);
4. worse, beyond both floors and significant (robust prediction interval, + exact count test
   for rates and counts) → `regression`, unless the context model (trained on the history's
   load and runner signals) explains the value (`noise`); a global shift attributed to the
   code takes this path for every endpoint;
5. the drift guard (long-run baseline + a rising recent window) → `regression`;
6. better and significant, on its own (2.) or raw → `improvement`;
7. worse beyond both floors but not significant → `noise`;
8. otherwise `pass`.

Confidence is 1 - p of the deciding test for regression/improvement, and for pass/noise how
typical the value is: min(1, 2p) (1.0 when the change is below the floors).
"""

from __future__ import annotations

import math

from perfgate.core.detect.environment import Attribution
from perfgate.core.detect.evidence import (
    DetectorTuning,
    Evidence,
    change_ratio,
    floors_exceeded,
    pooled_own_ratio,
    would_fail,
)
from perfgate.core.detect.robust import confidence_from_p, t_sf
from perfgate.models import Classification, Finding


def classify(ev: Evidence, settings: DetectorTuning) -> Finding:
    if ev.baseline is None:
        return _finding(ev, "no_baseline", 0.0, "no comparable run has this value yet")
    base = ev.baseline
    worse = floors_exceeded(ev.target, ev.compared, base)
    significant = ev.p_value < settings.alpha
    failing = would_fail(ev, settings)
    attribution = ev.attribution
    environment = attribution is not None and attribution.kind == "environment"
    improved = _improved(ev, base)
    own = _own_change(ev, settings)
    if own is not None and own.classification == "regression" and improved:
        own = None  # better than its baseline as measured: never a regression, whatever the others did
    if own is not None and own.classification == "regression":
        return own
    if ev.drift is not None and ev.drift.relative and not improved:
        return _drift(ev)
    if environment and (worse or significant):
        assert attribution is not None
        return _finding(ev, "noise", _typical(ev.p_value), f"{_change(ev)}: {attribution.note}")
    if failing:
        if ev.context_p is not None and ev.context_p >= settings.confirm_alpha:
            why = f"the run's load and runner signals explain it (context model p={ev.context_p:.2g})"
            return _finding(ev, "noise", _typical(ev.context_p), f"{_change(ev)}, but {why}")
        detail = f" ({attribution.note})" if attribution is not None and attribution.kind == "code" else ""
        expected = ev.judged / base if ev.judged is not None else None
        if expected is not None:
            detail = f", ×{expected:.2f} at the runner's expected level{detail}"
        reason = f"{_change(ev)}{_p(ev)}{detail}"
        return _finding(ev, "regression", confidence_from_p(ev.p_value), reason, expected_ratio=expected)
    if ev.drift is not None and not improved:
        return _drift(ev)
    if own is not None:
        return own
    if significant and floors_exceeded(ev.target, ev.observed, base, worse=False):
        return _finding(ev, "improvement", confidence_from_p(ev.p_value), f"{_change(ev)}{_p(ev)}")
    if worse:
        return _finding(
            ev, "noise", _typical(ev.p_value), f"{_change(ev)}, within the history's spread{_p(ev)}"
        )
    below = " (below the minimum effect)" if significant else ""
    confidence = 1.0 if significant else _typical(ev.p_value)
    return _finding(ev, "pass", confidence, f"{_change(ev)}{below}")


def _improved(ev: Evidence, base: float) -> bool:
    """Better than its baseline as measured, on a runner not measured faster than usual.

    On a faster runner an endpoint's absolute drop is the runner's, and its own change against
    the other endpoints still decides (on the shared corpus half the +25/+40 % faults landed on
    runs whose faulted endpoint was below its baseline as measured). Evidence measured in the run
    says whether the runner was faster: the shared factor the history predicts at the run's probe
    time, at least the latency floor below 1. Runs recorded without a probe fall back on the
    run's shared factor itself, which other endpoints' own improvements can drag down too.
    """
    if (ev.observed - base) * ev.target.sign >= 0:
        return False
    attribution = ev.attribution
    if attribution is None or attribution.factor_ratio <= 0:
        return True
    floor = math.log(ev.target.rule.min_change_ratio)
    if attribution.runner_factor is not None:
        return attribution.runner_factor > -floor
    return math.log(attribution.factor_ratio) > -floor


def _own_change(ev: Evidence, settings: DetectorTuning) -> Finding | None:
    """An endpoint judged against the other endpoints of the same run (the runner factor removed).

    Its own change is baseline × its own multiplier — this stat's excess pooled with the typical
    latency's (`pooled_own_ratio`) — and must pass both floors; when every endpoint moved together
    because of code (not the runner), the raw change must pass them too, so an endpoint that only
    improved less than the others is not called a regression. Significance comes from the excess of
    the endpoint's *typical* latency (geometric mean of k6's avg and med), when k6 reports them: on
    the real corpora its run-to-run spread is a half to a third of p95's and it has no heavy tail
    (one slow stall moves p99 by ×1.5 but the mean and median little).
    """
    attribution = ev.attribution
    if ev.excess_ratio is None or ev.excess_z is None or ev.baseline is None:
        return None
    global_code_change = attribution is not None and attribution.kind == "code"
    own_ratio = pooled_own_ratio(ev)
    assert own_ratio is not None
    own_observed = ev.baseline * own_ratio
    for worse in (True, False):
        if not floors_exceeded(ev.target, own_observed, ev.baseline, worse=worse):
            continue
        if global_code_change and not floors_exceeded(ev.target, ev.compared, ev.baseline, worse=worse):
            continue  # everything moved by code: an endpoint that merely moved less is not worse
        z = ev.mean_excess_z if ev.mean_excess_z is not None else ev.excess_z
        p_value = t_sf(z if worse else -z, ev.excess_df)
        if p_value >= _own_alpha(attribution, settings):
            return None
        ev.detectors.append("endpoint_excess")
        factor = attribution.factor_ratio if attribution is not None else 1.0
        reason = (
            f"{_change(ev)}; against the other endpoints of the run it is ×{own_ratio:.2f} on its own "
            f"(its typical request and {ev.target.stat} pooled; shared runner factor ×{factor:.2f}, p={p_value:.2g})"
        )
        kind: Classification = "regression" if worse else "improvement"
        return _finding(ev, kind, confidence_from_p(p_value), reason, own_ratio=own_ratio)
    return None


def _own_alpha(attribution: Attribution | None, settings: DetectorTuning) -> float:
    """Stricter on a busy runner: a large environment-wide factor makes endpoints diverge."""
    if attribution is None or attribution.kind != "environment":
        return settings.alpha
    factor = attribution.factor_ratio
    busy = max(factor, 1.0 / factor) >= settings.busy_runner_factor if factor > 0 else False
    return settings.alpha * settings.busy_runner_alpha_scale if busy else settings.alpha


def _drift(ev: Evidence) -> Finding:
    assert ev.drift is not None
    drift = ev.drift
    ratio = change_ratio(ev.observed, drift.anchor)
    times = f"×{ratio:.2f}" if ratio is not None else f"{ev.observed - drift.anchor:+.3g}"
    if drift.own_ratio is not None:
        times = f"×{drift.own_ratio:.2f} on its own"
    space = " relative to the other endpoints" if drift.relative else ""
    reason = (
        f"slow drift{space}: {times} against the long-run baseline {_num(drift.anchor)} "
        f"(recent {_num(ev.baseline)}), rising over the recent runs (trend z={drift.trend_z:.1f})"
    )
    ev.detectors.append("drift")
    confidence = confidence_from_p(drift.p_value)
    return _finding(ev, "regression", confidence, reason, baseline=drift.anchor, own_ratio=drift.own_ratio)


def _typical(p_value: float) -> float:
    return round(min(1.0, 2.0 * p_value), 4)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _change(ev: Evidence) -> str:
    ratio = change_ratio(ev.observed, ev.baseline)
    times = f"×{ratio:.2f}" if ratio is not None else "from 0"
    unit = ev.target.rule.unit
    return f"{ev.target.label} {times} ({_num(ev.baseline)} → {_num(ev.observed)} {unit})"


def _p(ev: Evidence) -> str:
    return f" (p={ev.p_value:.2g} over {ev.n} runs)"


def _finding(
    ev: Evidence,
    kind: Classification,
    confidence: float,
    reason: str,
    *,
    baseline: float | None = None,
    own_ratio: float | None = None,
    expected_ratio: float | None = None,
) -> Finding:
    base = ev.baseline if baseline is None else baseline
    ratio = change_ratio(ev.observed, base)
    return Finding(
        metric=ev.target.metric,
        stat=ev.target.stat,
        endpoint=ev.target.endpoint,
        direction=ev.target.rule.direction,
        unit=ev.target.rule.unit,
        baseline=base,
        observed=ev.observed,
        change_ratio=ratio if ratio is None or math.isfinite(ratio) else None,
        change_abs=None if base is None else ev.observed - base,
        own_change_ratio=own_ratio,
        expected_level_ratio=expected_ratio,
        classification=kind,
        confidence=min(max(confidence, 0.0), 1.0),
        detectors=sorted(set(ev.detectors)) if kind in ("regression", "improvement", "warn") else [],
        reason=reason,
    )
