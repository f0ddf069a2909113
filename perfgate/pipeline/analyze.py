"""Wires adapters and core together: one short function per use of perfgate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.run_dir import LoadedRun, load_run
from perfgate.core.detect import Settings, TrendReport, detect_regressions, scan_trend
from perfgate.core.history import BaselineSelection, select_baseline
from perfgate.core.pool import pool_runs
from perfgate.core.summary import summarize_resources, summarize_run
from perfgate.errors import InputDataError, UsageError
from perfgate.models import Policy, RunRecord, StoredRun, Verdict

DEFAULT_SCENARIO = "default"


@dataclass(frozen=True)
class HistoryLocation:
    """Where a scenario's runs live: `<root>/<scenario>/runs/`."""

    root: Path
    scenario: str


@dataclass
class AnalyzeOptions:
    result: Path
    baselines: Path | None = None
    scenario: str | None = None
    policy: Path | None = None
    notices: list[str] = field(default_factory=list)
    repeats: list[Path] = field(default_factory=list)  # more runs of the same code, pooled with `result`


def locate_history(baselines: Path, scenario: str | None, loaded: LoadedRun) -> HistoryLocation:
    """`--baselines` may name the root (`baselines/`) or one scenario (`baselines/notes-smoke`)."""
    if (baselines / "runs").is_dir() and scenario in (None, baselines.name):
        return HistoryLocation(baselines.parent, baselines.name)
    if scenario:
        return HistoryLocation(baselines, scenario)
    if loaded.meta is not None and loaded.meta.scenario:
        return HistoryLocation(baselines, loaded.meta.scenario)
    known = BaselineStore(baselines).scenarios() if baselines.is_dir() else []
    return HistoryLocation(baselines, known[0] if len(known) == 1 else DEFAULT_SCENARIO)


def check_candidate(path: Path, record: RunRecord) -> None:
    """A run that did no work is bad input, never a regression."""
    requests = record.context.http_reqs
    if requests is None:
        value = record.value("http_reqs", "count")
        requests = None if value is None else round(value)
    if not record.metrics:
        raise InputDataError(path, "the result has no metrics; nothing to analyse")
    if requests == 0:
        raise InputDataError(path, "the run made no HTTP requests; nothing to analyse")


def _verdict_without_history(loaded: LoadedRun, scenario: str, source: str, reason: str) -> Verdict:
    return Verdict(
        verdict="no_baseline",
        reason=reason,
        scenario=scenario,
        source=source,
        history_runs=0,
        summary=summarize_run(loaded.record),
        resources=summarize_resources(loaded.record),
    )


def comparable_runs(loaded: LoadedRun, runs: list[StoredRun]) -> BaselineSelection:
    return select_baseline(runs, fingerprint=_digest(loaded.record))


def compare(
    loaded: LoadedRun,
    selection: BaselineSelection,
    policy: Policy,
    *,
    scenario: str,
    source: str,
    today: date,
    candidate_runs: int = 1,
) -> Verdict:
    """`candidate_runs` > 1: `loaded` pools that many runs of the same code (`pool_runs`)."""
    candidate = loaded.record
    if selection.load_model_changed:
        return _verdict_without_history(
            loaded,
            scenario,
            source,
            "The load model changed (executor, stages or VUs): this run starts a new baseline.",
        )
    if not selection.runs:
        return _verdict_without_history(
            loaded,
            scenario,
            source,
            f"No history yet for scenario '{scenario}': record runs to build a baseline.",
        )
    detection = detect_regressions(
        candidate,
        [run.record for run in selection.runs],
        policy,
        today=today,
        settings=Settings(candidate_runs=candidate_runs),
    )
    pooled = (
        [
            f"{candidate_runs} runs of the same code pooled ({source}): each value's noise is the history's / √{candidate_runs}"
        ]
        if candidate_runs > 1
        else []
    )
    return Verdict(
        verdict=detection.verdict,
        reason=detection.reason,
        scenario=scenario,
        source=source,
        history_runs=len(selection.runs),
        findings=detection.findings,
        summary=summarize_run(candidate),
        resources=summarize_resources(candidate),
        notices=[*pooled, *selection.notices, *detection.notices],
    )


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    loaded: LoadedRun
    where: HistoryLocation | None
    policy: Policy
    history: list[StoredRun] = field(default_factory=list, metadata={"doc": "the comparable runs"})
    runs: list[LoadedRun] = field(
        default_factory=list, metadata={"doc": "each run, when `loaded` pools repeats"}
    )


def load_candidate(result: Path, repeats: list[Path]) -> tuple[LoadedRun, list[LoadedRun]]:
    """The run to judge (repeats pooled into one) and every run as loaded."""
    runs = []
    seen: set[Path] = set()
    for path in [result, *repeats]:
        if path.resolve() in seen:
            raise InputDataError(path, "given twice: a repeat must be another run of the same code")
        seen.add(path.resolve())
        loaded = load_run(path)
        check_candidate(path, loaded.record)
        runs.append(loaded)
    digest = _digest(runs[0].record)
    for path, loaded in zip(repeats, runs[1:], strict=True):
        if _digest(loaded.record) != digest:
            raise InputDataError(
                path,
                f"a different load model than {result.name}: repeats must run the same profile and script",
            )
    if len(runs) == 1:
        return runs[0], runs
    return LoadedRun(record=pool_runs([run.record for run in runs]), meta=runs[0].meta), runs


def _digest(record: RunRecord) -> str | None:
    return record.fingerprint.digest() if record.fingerprint else None


def analyze(options: AnalyzeOptions, *, today: date) -> Analysis:
    loaded, runs = load_candidate(options.result, options.repeats)
    policy = load_policy(options.policy)
    source = " + ".join(path.name for path in [options.result, *options.repeats])
    if options.baselines is None:
        scenario = options.scenario or (loaded.meta.scenario if loaded.meta else None) or DEFAULT_SCENARIO
        reason = "No baselines directory given (--baselines): showing this run's numbers only."
        verdict = _verdict_without_history(loaded, scenario, source, reason)
        return Analysis(verdict, loaded, None, policy, runs=runs)
    where = locate_history(options.baselines, options.scenario, loaded)
    selection = comparable_runs(loaded, BaselineStore(where.root).runs(where.scenario))
    verdict = compare(
        loaded,
        selection,
        policy,
        scenario=where.scenario,
        source=source,
        today=today,
        candidate_runs=len(runs),
    )
    return Analysis(verdict, loaded, where, policy, list(selection.runs), runs=runs)


def record(
    loaded: LoadedRun,
    where: HistoryLocation,
    *,
    now: datetime,
    run_id: str | None,
    verdict: Verdict | None,
) -> StoredRun:
    store = BaselineStore(where.root)
    kind = verdict.verdict if verdict is not None else None
    return store.record(where.scenario, loaded.record, recorded_at=now, run_id=run_id, verdict=kind)


def trend(baselines: Path, scenario: str | None, policy_path: Path | None) -> tuple[str, TrendReport]:
    """Change points over a scenario's whole history (valid runs of the newest load model)."""
    root, name = (
        (baselines.parent, baselines.name) if (baselines / "runs").is_dir() else (baselines, scenario)
    )
    store = BaselineStore(root)
    if name is None:
        known = store.scenarios()
        if len(known) != 1:
            raise UsageError(f"--scenario is required (scenarios: {', '.join(known) or 'none'})")
        name = known[0]
    runs = [run for run in store.runs(name) if run.valid]
    if runs:
        newest = runs[-1].fingerprint
        runs = [run for run in runs if run.fingerprint == newest]
    return name, scan_trend([(run.run_id, run.record) for run in runs], load_policy(policy_path))
