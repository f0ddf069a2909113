"""`perfgate analyze` and `record`: a run (or pooled repeats) against the comparable history.

    analysis = analyze(AnalyzeRequest(result=Path("run/"), baselines=Path("baselines")), today=d)
    record_analysis(analysis, now=now)      # each run into <baselines>/<scenario>/runs/

`--baselines` always names the folder that holds scenario folders; a scenario's own folder is
accepted too (`pipeline.history.locate_history`, the one reading of it), and the scenario comes
from --scenario, the run, or the only one.

Here the run (its repeats pooled, filed under the load model) and its comparable history are
loaded and located; `pipeline.judge` turns them into the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.run_dir import LoadedRun, load_run
from perfgate.core.history import BaselineSelection, select_baseline
from perfgate.core.k6_verdict import broken_reason
from perfgate.core.pool import pool_runs
from perfgate.errors import InputDataError, UsageError
from perfgate.models import BROKEN_EXIT_CODES, Policy, RunRecord, StoredRun, Verdict
from perfgate.models.base import Frozen
from perfgate.pipeline.baseline import Baseline, indexed_baseline, model_digest
from perfgate.pipeline.history import HistoryLocation, locate_history
from perfgate.pipeline.judge import broken_verdict, compare, verdict_without_history, with_run_facts
from perfgate.pipeline.load_model import LoadModelSource, with_load_model

DEFAULT_SCENARIO = "default"


class AnalyzeRequest(Frozen):
    result: Path
    baselines: Path | None = None
    scenario: str | None = None
    policy: Path | None = None
    repeats: tuple[Path, ...] = ()  # more runs of the same code, pooled with `result`
    load_model: LoadModelSource = LoadModelSource()  # --script/--profile/-e


def own_scenario(loaded: LoadedRun) -> str | None:
    """The scenario the run names itself (run-meta.json), if any."""
    return loaded.meta.scenario if loaded.meta is not None and loaded.meta.scenario else None


def locate_run_history(baselines: Path, scenario: str | None, loaded: LoadedRun) -> HistoryLocation:
    """`locate_history` for a run: --scenario, else the run's own, else the only one, else `default`."""
    return locate_history(baselines, scenario, own=own_scenario(loaded), fallback=DEFAULT_SCENARIO)


def check_candidate(path: Path, record: RunRecord) -> None:
    """A run that did no work is bad input, never a regression; one k6 stopped (exit 104/107/108/110)
    is a broken run whatever it measured, so it passes here to be reported as broken."""
    if record.context.k6_exit_code in BROKEN_EXIT_CODES:
        return
    requests = record.context.http_reqs
    if requests is None:
        value = record.value("http_reqs", "count")
        requests = None if value is None else round(value)
    if not record.metrics:
        raise InputDataError(path, "the result has no metrics; nothing to analyse")
    if requests == 0:
        raise InputDataError(path, "the run made no HTTP requests; nothing to analyse")


def comparable_runs(loaded: LoadedRun, runs: list[StoredRun]) -> BaselineSelection[StoredRun]:
    return select_baseline(
        runs, fingerprint=model_digest(loaded.record), candidate_vus_max=loaded.record.context.vus_max
    )


class Analysis(Frozen):
    """One analysis of a run: computed once, rendered once per format (pipeline/reports.py)."""

    verdict: Verdict
    loaded: LoadedRun
    where: HistoryLocation | None
    policy: Policy
    baseline: Baseline | None = None  # the comparable runs
    runs: tuple[LoadedRun, ...] = ()  # each run, when `loaded` pools repeats

    def history(self) -> tuple[StoredRun, ...]:
        """The comparable runs in full, oldest first (built on first use)."""
        return self.baseline.runs() if self.baseline is not None else ()


def load_candidate(
    result: Path, repeats: Sequence[Path], model: LoadModelSource | None = None
) -> tuple[LoadedRun, list[LoadedRun]]:
    """The run to judge (repeats pooled into one) and every run as loaded, filed under `model`."""
    runs = []
    seen: set[Path] = set()
    for path in [result, *repeats]:
        if path.resolve() in seen:
            raise InputDataError(path, "given twice: a repeat must be another run of the same code")
        seen.add(path.resolve())
        loaded = load_run(path)
        check_candidate(path, loaded.record)
        if model is not None and model.given:
            loaded = with_load_model(path, loaded, model)
        runs.append(loaded)
    digest = model_digest(runs[0].record)
    for path, loaded in zip(repeats, runs[1:], strict=True):
        if model_digest(loaded.record) != digest:
            raise InputDataError(
                path,
                f"a different load model than {result.name}: repeats must run the same profile and script",
            )
    if len(runs) == 1:
        return runs[0], runs
    return LoadedRun(record=pool_runs([run.record for run in runs]), meta=runs[0].meta), runs


def analyze(options: AnalyzeRequest, *, today: date) -> Analysis:
    loaded, runs = load_candidate(options.result, options.repeats, options.load_model)
    policy = load_policy(options.policy)
    source = " + ".join(path.name for path in [options.result, *options.repeats])
    if options.baselines is None:
        scenario = options.scenario or own_scenario(loaded) or DEFAULT_SCENARIO
        broken = broken_reason(loaded.record)
        reason = "No baselines directory given (--baselines): showing this run's numbers only."
        verdict = (
            broken_verdict(loaded, scenario, source, broken)
            if broken is not None
            else verdict_without_history(loaded, scenario, source, reason)
        )
        verdict = with_run_facts(verdict, loaded, policy)
        return Analysis(verdict=verdict, loaded=loaded, where=None, policy=policy, runs=tuple(runs))
    where = locate_run_history(options.baselines, options.scenario, loaded)
    baseline = indexed_baseline(
        BaselineStore(where.root).history(where.scenario),
        model_digest(loaded.record),
        loaded.record.context.vus_max,
    )
    verdict = compare(
        loaded,
        baseline,
        policy,
        scenario=where.scenario,
        source=source,
        today=today,
        candidate_runs=len(runs),
    )
    return Analysis(
        verdict=verdict, loaded=loaded, where=where, policy=policy, baseline=baseline, runs=tuple(runs)
    )


def record(
    loaded: LoadedRun,
    where: HistoryLocation,
    *,
    now: datetime,
    run_id: str | None,
    verdict: Verdict | None,
) -> StoredRun:
    broken = broken_reason(loaded.record)
    if broken is not None:
        raise InputDataError(
            Path(loaded.record.source), f"not recorded: a broken run is never a baseline ({broken})"
        )
    store = BaselineStore(where.root)
    kind = verdict.verdict if verdict is not None else None
    return store.record(where.scenario, loaded.record, recorded_at=now, run_id=run_id, verdict=kind)


Recorded = tuple[StoredRun, Path]  # the stored run and the scenario folder it went to


def record_analysis(analysis: Analysis, *, now: datetime, run_id: str | None = None) -> list[Recorded]:
    """`--record`: each run of the analysis (repeats too) into the history, with the verdict.

    A broken run is never recorded: nothing is stored (the caller says so).
    """
    if analysis.where is None:
        raise UsageError("--record needs --baselines DIR")
    if analysis.verdict.verdict == "broken":
        return []
    where = analysis.where
    folder = where.folder
    verdict = analysis.verdict
    return [(record(run, where, now=now, run_id=run_id, verdict=verdict), folder) for run in analysis.runs]


def record_result(
    path: Path,
    baselines: Path,
    scenario: str | None,
    *,
    now: datetime,
    run_id: str | None,
    model: LoadModelSource | None = None,
) -> Recorded:
    """`perfgate record`: one run into the history, not judged, filed under `model` when given."""
    loaded, _ = load_candidate(path, (), model)
    where = locate_run_history(baselines, scenario, loaded)
    stored = record(loaded, where, now=now, run_id=run_id, verdict=None)
    return stored, where.folder


def record_runs(
    paths: Sequence[Path], baselines: Path | None, scenario: str | None, verdict: Verdict, *, now: datetime
) -> list[Recorded]:
    """Record runs already analysed (the action's verdict.json): loaded and stored, not judged again."""
    if baselines is None:
        raise UsageError("--record needs --baselines DIR")
    runs = []
    for path in paths:
        runs.append(load_run(path))
        check_candidate(path, runs[-1].record)
    where = locate_run_history(baselines, scenario, runs[0])
    folder = where.folder
    return [(record(run, where, now=now, run_id=None, verdict=verdict), folder) for run in runs]
