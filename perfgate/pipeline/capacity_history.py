"""A capacity result against the history of its scenario, and its run recorded there.

The run is stored like any run (`perfgate record`), its record carrying the capacity metrics
(`core.capacity.regression.capacity_metrics`); comparable runs are those of the same load model.
"""

from __future__ import annotations

import math
from datetime import datetime

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.indexed_history import IndexedHistory
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.run_dir import LoadedRun, load_run
from perfgate.core.capacity.regression import capacity_metrics, judge_capacity
from perfgate.models.capacity import CapacityRegression, CapacityRequest, CapacityResult
from perfgate.pipeline.analyze import locate_run_history
from perfgate.pipeline.baseline import comparable_positions, model_digest


def judge_and_record(request: CapacityRequest, result: CapacityResult, *, now: datetime) -> CapacityResult:
    assert request.baselines is not None
    loaded = load_run(request.run)
    where = locate_run_history(request.baselines, request.scenario, loaded)
    observed = capacity_metrics(result)
    history = capacity_history(BaselineStore(where.root).history(where.scenario), loaded, list(observed))
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


def capacity_history(
    history: IndexedHistory, loaded: LoadedRun, metrics: list[str]
) -> dict[str, list[float]]:
    """Each capacity metric's value in the comparable runs that have it, oldest first: read from the
    heads and the value matrix (the selection leaves out invalid runs and regressions)."""
    _, chosen = comparable_positions(history, model_digest(loaded.record), loaded.record.context.vus_max)
    columns = history.values(chosen)
    found: dict[str, list[float]] = {}
    for metric in metrics:
        values = [float(v) for v in columns.get((metric, "value"), []) if not math.isnan(v)]
        if values:
            found[metric] = values
    return found
