"""The gate from the index (heads, value columns, the newest runs in full) judges exactly as the gate
from every run in full: same verdicts, same findings, same numbers, same report.

The history is real: the corpus's k6 runs (bench/corpus/runs) recorded 260 times (longer than the
detector's windows, `history_tail`), with a per-run runner factor, a slow creep on one endpoint
in the newest runs, and runs the selection must leave out (other load model, invalid, regression
verdicts) scattered through it, so the positions of the comparable runs in the index matter.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from test_detect_typical_gate import _history as typical_history
from test_detect_typical_gate import _run as typical_run

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.run_dir import LoadedRun, load_run
from perfgate.core.detect import DetectorTuning, HistoryColumns, detect_regressions, history_tail
from perfgate.core.detect.extract import LOCATION_STAT, Target, raw_values
from perfgate.models import MetricRule, MetricSeries, Policy, RunRecord
from perfgate.pipeline.analyze import AnalyzeRequest, analyze, comparable_runs
from perfgate.pipeline.baseline import full_baseline, indexed_baseline
from perfgate.pipeline.judge import compare
from perfgate.pipeline.reports import render_report

CORPUS = Path(__file__).resolve().parents[1] / "bench" / "corpus"
SAMPLE = CORPUS / "sample-run"
TODAY = date(2026, 3, 1)
HISTORY_RUNS = 260
CREEP_ENDPOINT = "http_req_duration{name:get_note}"


def _corpus(kinds: tuple[str, ...]) -> list[RunRecord]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    return [
        RunRecord.model_validate_json((CORPUS / "runs" / f"{run['id']}.json").read_text())
        for run in manifest["runs"]
        if run["kind"] in kinds
    ]


def _scaled(run: RunRecord, factor: float, only: str | None = None) -> RunRecord:
    metrics: dict[str, MetricSeries] = {}
    for key, series in run.metrics.items():
        if series.type == "trend" and key.startswith("http_req_duration") and only in (None, key):
            values = {stat: (v if stat == "count" else v * factor) for stat, v in series.values.items()}
            series = series.model_copy(update={"values": values})
        metrics[key] = series
    return run.model_copy(update={"metrics": metrics})


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("baselines")
    scenario = load_run(SAMPLE).meta.scenario  # type: ignore[union-attr]
    pool = _corpus(("calibration", "history", "clean", "contention"))
    rng = np.random.default_rng(17)
    store = BaselineStore(root)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(HISTORY_RUNS):
        record = _scaled(pool[int(rng.integers(len(pool)))], float(np.exp(rng.normal(0, 0.1))))
        if i >= HISTORY_RUNS - 40:  # a creep of 0.6 % per run on one endpoint
            record = _scaled(record, 1 + 0.006 * (i - HISTORY_RUNS + 40), only=CREEP_ENDPOINT)
        if i % 37 == 5:
            record = record.model_copy(update={"fingerprint": None})  # another (unknown) load model
        if i % 41 == 7:
            record = record.model_copy(
                update={"context": record.context.model_copy(update={"k6_exit_code": 107})}
            )
        verdict = "regression" if i % 29 == 3 else "pass"
        store.record(
            scenario, record, recorded_at=start + timedelta(hours=i), run_id=f"r{i:03d}", verdict=verdict
        )
    return root


def test_the_indexed_gate_judges_every_corpus_kind_exactly_as_the_full_one(history: Path) -> None:
    store = BaselineStore(history)
    [scenario] = store.scenarios()
    indexed_history, summaries = store.history(scenario), store.summaries(scenario)
    kinds = ("clean", "latency+25", "global-latency+30", "errors", "contention", "latency+10")
    seen: set[str] = set()
    for kind in kinds:
        for candidate in _corpus((kind,))[:2]:
            loaded = LoadedRun(record=candidate, meta=load_run(SAMPLE).meta)
            digest = candidate.fingerprint.digest() if candidate.fingerprint else None
            indexed = indexed_baseline(indexed_history, digest, candidate.context.vus_max)
            full = full_baseline(comparable_runs(loaded, summaries))
            assert len(indexed.newest) == history_tail(DetectorTuning()) < indexed.size == full.size
            from_index, from_runs = (
                compare(loaded, baseline, Policy(), scenario=scenario, source=kind, today=TODAY)
                for baseline in (indexed, full)
            )
            assert from_index == from_runs
            assert from_index.model_dump_json() == from_runs.model_dump_json()
            seen |= {from_index.verdict} | {d for f in from_index.findings for d in f.detectors}
    assert {"pass", "regression", "robust_pi", "drift"} <= seen, seen  # the detector's ways were all taken


def test_analyze_and_its_reports_are_the_same_from_the_index(history: Path) -> None:
    analysis = analyze(AnalyzeRequest(result=SAMPLE, baselines=history), today=TODAY)
    store = BaselineStore(history)
    full = full_baseline(comparable_runs(analysis.loaded, store.summaries(analysis.verdict.scenario)))
    expected = compare(
        analysis.loaded,
        full,
        analysis.policy,
        scenario=analysis.verdict.scenario,
        source=SAMPLE.name,
        today=TODAY,
    )
    assert analysis.verdict == expected
    assert analysis.verdict.history_runs == full.size > history_tail(DetectorTuning())
    assert analysis.history() == full.runs()
    assert "History" in render_report(analysis, "html", today=TODAY)


RULE = MetricRule(match="m", stats=["p(95)", LOCATION_STAT], direction="higher_is_worse", unit="ms")


@pytest.mark.parametrize("stat", ["p(95)", LOCATION_STAT])
def test_columns_give_the_same_floats_and_gaps_as_the_records(stat: str) -> None:
    """Missing series and stats, zero and negative avg/med, an overflow: `typical` falls back alike."""
    cases: list[dict[str, float] | None] = [
        {"avg": 10.0, "med": 8.0, "p(95)": 20.0},
        {"avg": 10.0, "p(95)": 21.0},
        {"avg": 10.0, "med": 0.0},
        {"avg": 10.0, "med": -3.0},
        {"avg": 0.0, "med": 5.0},
        {"avg": -1.0, "med": 5.0},
        {"avg": 1e200, "med": 1e200},  # the product overflows: no value
        {"med": 4.0},
        None,
        {},
    ]
    runs = [
        RunRecord(
            source_format="summary-export",
            source="s",
            metrics={} if v is None else {"m": MetricSeries(type="trend", values=v)},
        )
        for v in cases
    ]
    columns: dict[tuple[str, str], np.ndarray] = {}
    for i, values in enumerate(cases):
        for key, value in (values or {}).items():
            columns.setdefault(("m", key), np.full(len(cases), np.nan))[i] = value
    target = Target(metric="m", stat=stat, rule=RULE, endpoint=None)
    expected = raw_values(runs, target)
    got = HistoryColumns(size=len(cases), values=columns).raw_values(target)
    assert np.array_equal(got, expected, equal_nan=True)
    assert 0 < np.isfinite(expected).sum() < len(cases)  # values and gaps both


def _columns(runs: list[RunRecord]) -> HistoryColumns:
    values: dict[tuple[str, str], np.ndarray] = {}
    for i, run in enumerate(runs):
        for key, series in run.metrics.items():
            for stat, value in series.values.items():
                values.setdefault((key, stat), np.full(len(runs), np.nan))[i] = value
    return HistoryColumns(size=len(runs), values=values)


def _without(run: RunRecord, stats: tuple[str, ...]) -> RunRecord:
    """The run with `stats` of every endpoint latency gone (an older perfgate or k6 left them out)."""
    metrics = {
        key: series.model_copy(update={"values": {s: v for s, v in series.values.items() if s not in stats}})
        if key.startswith("http_req_duration{name:")
        else series
        for key, series in run.metrics.items()
    }
    return run.model_copy(update={"metrics": metrics})


def test_values_missing_from_the_newest_runs_are_looked_for_further_back_alike() -> None:
    """Short windows (tail 25 of 70 runs) and the newest runs without `med`/p(99): the windows of
    finite values reach past the tail, where only the columns hold them."""
    settings = DetectorTuning(recent_window=10, max_train_runs=20)
    tail = history_tail(settings)
    pool = _corpus(("calibration", "history", "clean"))
    runs = [pool[i % len(pool)] for i in range(70)]
    runs[-tail - 5 :] = [_without(run, ("med", "p(99)")) for run in runs[-tail - 5 :]]
    seen: set[str] = set()
    for candidate in _corpus(("global-latency+30", "latency+40", "clean"))[::2]:
        full = detect_regressions(candidate, runs, Policy(), today=TODAY, settings=settings)
        cut = detect_regressions(
            candidate, runs[-tail:], Policy(), today=TODAY, settings=settings, columns=_columns(runs)
        )
        assert cut == full
        assert any(f.stat == "p(99)" and f.baseline is not None for f in full.findings)
        seen |= {f.stat for f in full.findings if f.classification == "regression"}
    assert "p(95)" in seen, seen


@pytest.mark.parametrize("seed", range(6))
def test_the_typical_gate_reads_the_columns_alike(seed: int) -> None:
    """The typical request's own gate (`typical.py`) on a history longer than the tail: the httpbin
    shape (every median ×4, p95 inside its swings) is the same regression from the columns as from
    the full records."""
    settings = DetectorTuning(recent_window=10, max_train_runs=20)
    tail = history_tail(settings)
    rng = random.Random(seed)
    runs = typical_history(rng, tail + 40)
    candidate = typical_run(rng, add_ms=5.4, p95_ms=20.0)
    full = detect_regressions(candidate, runs, Policy(), today=TODAY, settings=settings)
    cut = detect_regressions(
        candidate, runs[-tail:], Policy(), today=TODAY, settings=settings, columns=_columns(runs)
    )
    assert cut == full
    assert full.verdict == "regression", full.reason  # by its medians, or by its tails at the runner's level
