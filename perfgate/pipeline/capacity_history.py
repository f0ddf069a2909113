"""A capacity result against the history of its scenario, and its run recorded there.

The run is stored like any run (`perfgate record`), its record carrying the capacity metrics
(`core.capacity.regression.capacity_metrics`); comparable runs are those of the same load model.
"""

from __future__ import annotations

from datetime import datetime

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.run_dir import load_run
from perfgate.core.capacity.regression import capacity_metrics, judge_capacity
from perfgate.models.capacity import CapacityRegression, CapacityRequest, CapacityResult
from perfgate.pipeline.analyze import comparable_runs, locate_run_history


def judge_and_record(request: CapacityRequest, result: CapacityResult, *, now: datetime) -> CapacityResult:
    assert request.baselines is not None
    loaded = load_run(request.run)
    where = locate_run_history(request.baselines, request.scenario, loaded)
    runs = comparable_runs(loaded, BaselineStore(where.root).summaries(where.scenario)).runs
    observed = capacity_metrics(result)
    history: dict[str, list[float]] = {}
    for run in runs:
        for metric in observed:
            value = run.record.value(metric, "value")
            if value is not None and run.usable_as_baseline:
                history.setdefault(metric, []).append(value)
    verdict = judge_capacity(
        observed,
        history,
        scenario=where.scenario,
        source=request.run.name,
        min_runs=load_policy(request.policy).history.min_runs,
    )
    if request.record:
        record = loaded.record.model_copy(update={"metrics": {**loaded.record.metrics, **observed}})
        BaselineStore(where.root).record(where.scenario, record, recorded_at=now, verdict=verdict.verdict)
    return result.model_copy(update={"regression": CapacityRegression(verdict=verdict)})
