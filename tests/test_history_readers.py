"""The readers of the history that go through the index give what they give from every run in full:
`history list` (heads and value matrix, no run parsed), `trend` and `heal` (only the runs they
scan or fit built; heal judges its --result as `analyze` does, from the columns) and the capacity
gate's history (value matrix). The reference is the readers' former path: every run parsed from
its file, then summarized.

The history is real: the corpus's k6 runs (bench/corpus/runs) recorded through `BaselineStore`,
with runs that lack what a line shows (no request rate in the context, no p95), are invalid,
regressions, or of another load model, scattered through it.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from test_indexed_baseline import _corpus

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.history_index import index_path, summarize
from perfgate.adapters.run_dir import LoadedRun, load_run
from perfgate.cli.app import main
from perfgate.cli.history import history_line
from perfgate.core.detect import scan_trend
from perfgate.core.heal import propose_heal
from perfgate.core.history import select_baseline
from perfgate.models import HistoryRow, Policy, RunRecord
from perfgate.pipeline.analyze import comparable_runs
from perfgate.pipeline.baseline import full_baseline
from perfgate.pipeline.capacity_history import capacity_history
from perfgate.pipeline.heal import HealRequest, compute_plan
from perfgate.pipeline.history import HistoryRequest, list_runs, trend
from perfgate.pipeline.judge import compare

SCENARIO = "notes-profile"
CORPUS = Path(__file__).resolve().parents[1] / "bench" / "corpus"
SAMPLE = CORPUS / "sample-run"
PROFILE = CORPUS / "profile.yaml"
TODAY = date(2026, 3, 1)


def _varied(record: RunRecord, i: int) -> RunRecord:
    if i % 5 == 1:  # no request rate in the context
        return record.model_copy(
            update={"context": record.context.model_copy(update={"http_reqs_per_s": None})}
        )
    if i % 5 == 2:  # no p95 of the whole run
        metrics = {key: series for key, series in record.metrics.items() if key != "http_req_duration"}
        return record.model_copy(update={"metrics": metrics})
    if i % 5 == 3:  # k6 crashed: invalid
        return record.model_copy(update={"context": record.context.model_copy(update={"k6_exit_code": 107})})
    if i % 7 == 4:  # another (unknown) load model
        return record.model_copy(update={"fingerprint": None})
    return record


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> BaselineStore:
    store = BaselineStore(tmp_path_factory.mktemp("baselines"))
    pool = _corpus(("calibration", "history", "clean", "contention"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(40):
        verdict = ("pass", "warn", "regression", None)[i % 4]
        record = _varied(pool[(7 * i) % len(pool)], i)
        # recorded out of name order, so the index's order (recorded_at) is not the directory's
        store.record(
            SCENARIO,
            record,
            recorded_at=start + timedelta(hours=(5 * i) % 24),
            run_id=f"r{i:02d}",
            verdict=verdict,
        )
    return store


def _full(store: BaselineStore) -> list[HistoryRow]:
    return [HistoryRow.of(run) for run in store.runs(SCENARIO)]


def test_rows_from_the_index_equal_rows_from_every_run_in_full(store: BaselineStore) -> None:
    request = HistoryRequest(baselines=store.root, scenario=SCENARIO)
    index_path(store.run_dir(SCENARIO).parent).unlink(missing_ok=True)
    built = list_runs(request)  # the index written from the files
    assert index_path(store.run_dir(SCENARIO).parent).is_file()
    reread = list_runs(request)  # the rows read back from it
    full = _full(store)
    assert built == reread == (SCENARIO, full)
    assert {row.p95_ms is None for row in full} == {True, False}
    assert {row.http_reqs_per_s is None for row in full} == {True, False}
    assert {row.valid for row in full} == {True, False}


def test_the_printed_list_is_byte_identical(store: BaselineStore) -> None:
    stdout = io.StringIO()
    assert main(["history", "list", "--baselines", str(store.root)], stdout=stdout) == 0
    full = _full(store)
    assert stdout.getvalue() == f"{SCENARIO}: {len(full)} runs\n" + "".join(
        history_line(row) + "\n" for row in full
    )


def test_trend_from_the_chosen_runs_equals_trend_from_every_run_in_full(store: BaselineStore) -> None:
    runs = [run for run in store.runs(SCENARIO) if run.valid]
    runs = [run for run in runs if run.fingerprint == runs[-1].fingerprint]
    full = scan_trend([(run.run_id, summarize(run).record) for run in runs], Policy())
    scenario, report = trend(HistoryRequest(baselines=store.root, scenario=SCENARIO), None)
    assert (scenario, report) == (SCENARIO, full)
    assert 0 < report.runs < len(store.runs(SCENARIO))


def test_the_capacity_history_from_the_matrix_equals_the_one_from_every_run(store: BaselineStore) -> None:
    newest = [run for run in store.runs(SCENARIO) if run.fingerprint is not None][-1]
    candidate = LoadedRun(record=newest.record, meta=None)
    metrics = ["vus_max", "vus", "iterations", "no_such_metric"]
    full: dict[str, list[float]] = {}
    for run in comparable_runs(candidate, store.runs(SCENARIO)).runs:
        for metric in metrics:
            value = run.record.value(metric, "value")
            if value is not None and run.usable_as_baseline:
                full.setdefault(metric, []).append(value)
    assert capacity_history(store.history(SCENARIO), candidate, metrics) == full
    assert set(full) == {"vus_max", "vus"}


def test_heal_plans_from_the_index_what_it_planned_from_every_run(store: BaselineStore) -> None:
    request = HealRequest(
        profile=PROFILE, baselines=store.root, scenario=SCENARIO, result=SAMPLE, dry_run=True
    )
    plan, file, judged = compute_plan(request, today=TODAY)
    runs = [summarize(run) for run in store.runs(SCENARIO)]
    loaded = load_run(SAMPLE)
    selection = select_baseline(runs, fingerprint=loaded.record.fingerprint.digest())  # type: ignore[union-attr]
    policy = Policy()
    verdict = compare(
        loaded,
        full_baseline(comparable_runs(loaded, runs)),
        policy,
        scenario=SCENARIO,
        source=SAMPLE.name,
        today=TODAY,
    )
    expected = propose_heal(
        scenario=SCENARIO,
        profile_name=PROFILE.name,
        options=file.options,
        history=[run.record for run in selection.runs],
        verdict=verdict.verdict,
        policy=policy,
        candidate=loaded.record,
    )
    notices = [*selection.notices, *expected.notices, *file.left_alone]
    assert plan == expected.model_copy(update={"notices": notices})
    assert judged is not None and judged.verdict == verdict
    assert plan.thresholds and 0 < len(selection.runs) < len(runs)
