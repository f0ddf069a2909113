"""`detect_regressions`: one candidate run against its comparable history → `Detection`.

candidate + history + policy
  ├─ gated_targets            (metric, stat) pairs the policy gates and the candidate has
  ├─ basic_evidence           robust prediction interval (+ exact count test, drift guard)
  ├─ add_environment          shared factor across endpoints: environment or code?
  ├─ add_model_evidence       context regressor (conformal) + Isolation Forest (optional)
  ├─ classify                 → Finding per target
  ├─ typical_regressions      the median of each gated latency, reported when it is a regression
  └─ acknowledgements, gating → verdict + one-sentence reason
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from perfgate.core.detect.advice import advice, rerun_advised, verdict_confidence
from perfgate.core.detect.drift import LEVEL_RUNS, TREND_WINDOW, relative_drift
from perfgate.core.detect.environment import Attribution
from perfgate.core.detect.evidence import DetectorTuning
from perfgate.core.detect.extract import HistoryColumns, gated_targets
from perfgate.core.detect.gather import add_environment, basic_evidence
from perfgate.core.detect.judge import classify
from perfgate.core.detect.learned import add_model_evidence
from perfgate.core.detect.typical import typical_regressions
from perfgate.core.detect.verdict import apply_acknowledgements, decide_verdict, ungated
from perfgate.models import Policy, RunRecord
from perfgate.models.detect import Detection


def detect_regressions(
    candidate: RunRecord,
    history: Sequence[RunRecord],
    policy: Policy,
    *,
    today: date,
    random_state: int = 0,
    settings: DetectorTuning | None = None,
    columns: HistoryColumns | None = None,
) -> Detection:
    """Classify every gated (metric, stat) of `candidate` against `history` (oldest first).

    `history` must already hold only comparable runs (same load model, valid, not regressions).
    With `columns` (every comparable run's values), `history` may be only the newest
    `history_tail(settings)` of those runs: the result is the same.
    """
    settings = settings or DetectorTuning()
    runs = list(history)
    size = _history_size(runs, columns, settings)
    recent = runs[-settings.recent_window :]
    evidences = [
        basic_evidence(t, candidate, runs, settings, columns) for t in gated_targets(candidate, policy)
    ]
    attributions = add_environment(evidences, candidate, recent, settings)
    relative_drift(evidences, candidate, runs, settings)
    notices: list[str] = []
    gating = size >= policy.history.min_runs
    if gating:
        notices += add_model_evidence(evidences, candidate, runs, settings, random_state=random_state)
    findings = [classify(ev, settings) for ev in evidences]
    typical, typical_evidences = typical_regressions(evidences, findings, candidate, runs, settings, columns)
    findings += typical
    if not gating:
        findings = ungated(findings)
    findings, ack_notices = apply_acknowledgements(findings, policy.acknowledgements, today)
    env_notes = [a.note for a in attributions.values() if a.kind == "environment"]
    code_notes = [a.note for a in attributions.values() if a.kind == "code"]
    notices += ack_notices + [f"{note}." for note in (env_notes[:1] + code_notes[:1])]
    kind, reason = decide_verdict(
        findings,
        history_runs=size,
        min_runs=policy.history.min_runs,
        environment_note=env_notes[0] if env_notes else "",
    )
    rerun = rerun_advised(evidences, settings)
    return Detection(
        verdict=kind,
        reason=reason,
        findings=findings,
        notices=notices,
        history_runs=size,
        environment=_environment_summary(attributions),
        advice=advice(kind, rerun),
        confidence=verdict_confidence(kind, findings, [*evidences, *typical_evidences], rerun),
    )


def _history_size(runs: Sequence[RunRecord], columns: HistoryColumns | None, settings: DetectorTuning) -> int:
    size = len(runs) if columns is None else columns.size
    if len(runs) < min(size, history_tail(settings)):
        raise ValueError(f"{len(runs)} newest runs given for a history of {size}: the windows need more")
    return size


def history_tail(settings: DetectorTuning) -> int:
    """How many of the newest comparable runs the detector reads in full (the recent baseline, the
    models' training runs, the runner-free drift guard's window); older ones only as columns."""
    return max(settings.recent_window, settings.max_train_runs + LEVEL_RUNS - 1, TREND_WINDOW)


def _environment_summary(attributions: dict[str, Attribution]) -> dict[str, float]:
    """Shared latency multiplier per stat, k6's runner-contention z and the runner's probe time
    against the history's (when measured), for the report."""
    environment = {f"factor|{stat}": round(a.factor_ratio, 4) for stat, a in attributions.items()}
    contention = next((a.contention_z for a in attributions.values() if a.contention_z is not None), None)
    if contention is not None:
        environment["contention_z"] = round(contention, 3)
    probe = next((a.probe_ratio for a in attributions.values() if a.probe_ratio is not None), None)
    if probe is not None:
        environment["probe_ratio"] = round(probe, 4)
    return environment
