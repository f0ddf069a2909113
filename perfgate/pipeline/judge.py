"""A loaded run's verdict: broken, without history, or the detector's against the comparable runs.

    verdict = compare(loaded, baseline, policy, scenario=s, source=src, today=d)

`compare` is the one judgement `analyze`, `heal` and the action share; `with_run_facts` adds
what holds whatever the verdict (k6's own outcome, what was and was not gated, the run's notes).
Nothing here reads files: the run and its history arrive loaded (`pipeline.analyze`).
"""

from __future__ import annotations

from datetime import date

from perfgate.adapters.run_dir import LoadedRun
from perfgate.core.detect import DetectorTuning, detect_regressions
from perfgate.core.history import describe_run
from perfgate.core.k6_verdict import broken_reason, gate_coverage, k6_outcome
from perfgate.core.summary import summarize_resources, summarize_run
from perfgate.models import Detection, Policy, Verdict
from perfgate.pipeline.baseline import Baseline


def verdict_without_history(
    loaded: LoadedRun, scenario: str, source: str, reason: str, notices: list[str] | None = None
) -> Verdict:
    return Verdict(
        verdict="no_baseline",
        reason=reason,
        scenario=scenario,
        source=source,
        history_runs=0,
        summary=summarize_run(loaded.record),
        resources=summarize_resources(loaded.record),
        notices=notices or [],
    )


def broken_verdict(loaded: LoadedRun, scenario: str, source: str, reason: str) -> Verdict:
    return Verdict(
        verdict="broken",
        reason=f"Broken run: {reason}. It is not compared with the history and never recorded as a baseline.",
        scenario=scenario,
        source=source,
        history_runs=0,
        summary=summarize_run(loaded.record) if loaded.record.metrics else [],
        resources=summarize_resources(loaded.record),
    )


def with_run_facts(verdict: Verdict, loaded: LoadedRun, policy: Policy) -> Verdict:
    """The verdict with k6's own outcome (and k6's last log lines, when k6 stopped the run), the
    list of what was (not) gated and the run's own notes."""
    record = loaded.record
    gated, not_gated = gate_coverage(record, policy)
    k6 = k6_outcome(record, policy)
    if loaded.meta is not None and loaded.meta.k6_log_tail:
        k6 = k6.model_copy(update={"log_tail": loaded.meta.k6_log_tail})
    return verdict.model_copy(
        update={
            "k6": k6,
            "gated": gated,
            "not_gated": not_gated,
            "notices": [*verdict.notices, *record.notes],
        }
    )


def compare(
    loaded: LoadedRun,
    baseline: Baseline,
    policy: Policy,
    *,
    scenario: str,
    source: str,
    today: date,
    candidate_runs: int = 1,
) -> Verdict:
    """`candidate_runs` > 1: `loaded` pools that many runs of the same code (`pool_runs`)."""
    verdict = _unjudged(loaded, baseline, scenario, source)
    if verdict is None:
        settings = DetectorTuning(candidate_runs=candidate_runs)
        detection = detect_regressions(
            loaded.record, baseline.newest, policy, today=today, settings=settings, columns=baseline.columns
        )
        verdict = _detected(loaded, detection, baseline, scenario, source, _pooled(candidate_runs, source))
    return with_run_facts(verdict, loaded, policy)


def _unjudged(loaded: LoadedRun, baseline: Baseline, scenario: str, source: str) -> Verdict | None:
    """The verdict of a run that is not compared: broken, a new load model, or no history yet."""
    selection = baseline.selection
    broken = broken_reason(loaded.record)
    if broken is not None:
        return broken_verdict(loaded, scenario, source, broken)
    if selection.load_model_changed:
        previous = selection.previous_model_run
        since = f" since {describe_run(previous)}" if previous is not None else ""
        reason = (
            f"New load model{since} (executor, stages, VUs or rates changed): this run starts a new "
            "baseline, 0 runs so far."
        )
        return verdict_without_history(loaded, scenario, source, reason)
    if not selection.runs:
        reason = f"No history yet for scenario '{scenario}': record runs to build a baseline."
        return verdict_without_history(loaded, scenario, source, reason, selection.notices)
    return None


def _detected(
    loaded: LoadedRun, detection: Detection, baseline: Baseline, scenario: str, source: str, pooled: list[str]
) -> Verdict:
    candidate = loaded.record
    return Verdict(
        verdict=detection.verdict,
        reason=detection.reason,
        scenario=scenario,
        source=source,
        history_runs=len(baseline.selection.runs),
        findings=detection.findings,
        summary=summarize_run(candidate),
        resources=summarize_resources(candidate),
        notices=[*pooled, *baseline.selection.notices, *detection.notices],
        advice=detection.advice,
        confidence=detection.confidence,
    )


def _pooled(candidate_runs: int, source: str) -> list[str]:
    if candidate_runs == 1:
        return []
    return [
        f"{candidate_runs} runs of the same code pooled ({source}): each value's noise is the history's / √{candidate_runs}"
    ]
