"""The verdict's one piece of advice and its confidence, each computed once per detection.

Advice: the next step a reader should take. A re-run is advised only when the environment
excused a value that would otherwise have failed the gate; a noise verdict without such a value
says no re-run is needed. Every report prints this one sentence (`Verdict.advice`), nothing else
advises.

Confidence: how likely the verdict is right, from the deciding tests with the number of gated
values they were chosen from (Bonferroni: the smallest of m p-values is small by chance m times
as often):

- regression: 1 - min(1, m · p) of the most significant regressed value;
- any other verdict: how well the run's most worrying value fits "no regression", min(1, m · p)
  of the value closest to failing (its one-sided p towards worse: its own change against the
  other endpoints for endpoint latencies, else the raw one): on the corpora most faults the gate
  misses sit there, just short of significance;
- and no more than twice the one-sided p of a shift the runner's measured load explains
  (`runner.py`): a shift near the edge of what the load explains is a doubtful noise;
- noise with a re-run advised: 0.5 (the environment excused a value that would have failed: a
  re-run, not this run, tells which it was).

`bench/verdicts.py` prints the reliability table: among the verdicts of each confidence bin, the
share that was right on the labelled corpora.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.core.detect.evidence import DetectorTuning, Evidence, would_fail
from perfgate.core.detect.robust import t_sf
from perfgate.models import Finding, VerdictKind

ADVICE: dict[str, str] = {
    "regression": "If the change is intended, acknowledge it in perfgate.yml with an expiry; "
    "otherwise fix it and push again.",
    "rerun": "A value would have failed the gate, but the runner explains it: re-run the job to confirm. "
    "A real regression shows up again; noise does not.",
    "noise": "The changes are within the runner's usual swings: no re-run needed.",
    "warn": "Not failing the gate: the change is acknowledged or not gated yet. Keep an eye on it.",
    "no_baseline": "Nothing to compare with yet: runs recorded on the default branch build the baseline.",
    "improvement": "Faster than the baseline: healing can tighten the thresholds to keep the gain.",
    "pass": "Nothing to do.",
}


def rerun_advised(evidences: Sequence[Evidence], settings: DetectorTuning) -> bool:
    """A re-run helps only when the environment excused a value that would otherwise have failed."""
    return any(
        ev.attribution is not None and ev.attribution.kind == "environment" and would_fail(ev, settings)
        for ev in evidences
    )


def advice(kind: VerdictKind, rerun: bool) -> str:
    if kind == "noise" and rerun:
        return ADVICE["rerun"]
    return ADVICE[kind]


def verdict_confidence(
    kind: VerdictKind, findings: Sequence[Finding], evidences: Sequence[Evidence], rerun: bool
) -> float:
    m = max(len(evidences), 1)
    if kind == "regression":
        p = min((1.0 - f.confidence for f in findings if f.classification == "regression"), default=1.0)
        return round(1.0 - min(1.0, m * p), 4)
    if kind == "noise" and rerun:
        return 0.5
    p = min((_p_worse(ev) for ev in evidences), default=1.0)
    explained = [
        ev.attribution.p_value
        for ev in evidences
        if ev.attribution is not None
        and ev.attribution.kind == "environment"
        and ev.attribution.p_value is not None
    ]
    confidence = min(1.0, m * p)
    if explained:  # a shift the runner's load explains: no surer than that explanation
        confidence = min(confidence, 2.0 * min(explained))
    return round(min(confidence, 1.0), 4)


def _p_worse(ev: Evidence) -> float:
    """One-sided p of the evidence towards worse (1 when it moved the better way)."""
    if ev.baseline is None:
        return 1.0
    z = ev.mean_excess_z if ev.mean_excess_z is not None else ev.excess_z
    if z is not None:
        return t_sf(z, ev.excess_df)
    worse = (ev.observed - ev.baseline) * ev.target.sign > 0
    return ev.p_value if worse else 1.0
