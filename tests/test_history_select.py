"""core.history: which runs are comparable (and why not), and the history as a frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from factories import make_run_record, make_stored_run

from perfgate.core.history import CONTEXT_COLUMNS, history_frame, select_baseline
from perfgate.models import ResourceUsage, StoredRun, VerdictKind


@dataclass(frozen=True)
class R:
    """A stored run in a table row: id, fingerprint, validity, verdict."""

    run_id: str
    fingerprint: str | None = "A"
    valid: bool = True
    verdict: VerdictKind | None = None


@dataclass(frozen=True)
class Case:
    name: str
    runs: list[R]
    fingerprint: str | None
    comparable: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    changed: bool = False
    include_regressions: bool = False
    include_invalid: bool = False


def _stored(rows: list[R]) -> list[StoredRun]:
    return [
        make_stored_run(
            row.run_id, minutes=i, fingerprint=row.fingerprint, valid=row.valid, verdict=row.verdict
        )
        for i, row in enumerate(rows)
    ]


CASES = [
    Case("empty history", [], "A", []),
    Case("all comparable", [R("1"), R("2", verdict="pass"), R("3", verdict="noise")], "A", ["1", "2", "3"]),
    Case("invalid left out", [R("1"), R("2", valid=False)], "A", ["1"], {"invalid": 1}),
    Case("invalid kept on request", [R("1"), R("2", valid=False)], "A", ["1", "2"], include_invalid=True),
    Case("regression left out", [R("1"), R("2", verdict="regression")], "A", ["1"], {"regression_verdict": 1}),
    Case("regression kept on request", [R("1"), R("2", verdict="regression")], "A", ["1", "2"], include_regressions=True),
    Case("other load model left out", [R("1"), R("2", "B")], "A", ["1"], {"different_load_model": 1}),
    Case("load model changed", [R("1", "B"), R("2", "B")], "A", [], {"different_load_model": 2}, changed=True),
    Case("changed, among unknowns", [R("1", None), R("2", "B")], "A", [], {"different_load_model": 2}, changed=True),
    Case("unknown runs vs known candidate", [R("1", None), R("2", None)], "A", [], {"different_load_model": 2}),
    Case("unknown candidate vs unknown runs", [R("1", None), R("2", None)], None, ["1", "2"]),
    Case("unknown candidate vs known runs", [R("1", "A"), R("2", None)], None, ["2"], {"different_load_model": 1}),
    Case("same model, only invalid runs", [R("1", valid=False)], "A", [], {"invalid": 1}),
    Case("load model wins over invalid", [R("1", "B", valid=False), R("2", "A")], "A", ["2"], {"different_load_model": 1}),
    Case("invalid wins over regression", [R("1", valid=False, verdict="regression")], "A", [], {"invalid": 1}),
    Case(
        "everything at once",
        [R("1", "B"), R("2", valid=False), R("3", verdict="regression"), R("4"), R("5", None)],
        "A",
        ["4"],
        {"different_load_model": 2, "invalid": 1, "regression_verdict": 1},
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_select_baseline(case: Case) -> None:
    runs = _stored(case.runs)
    selection = select_baseline(
        runs,
        fingerprint=case.fingerprint,
        include_regressions=case.include_regressions,
        include_invalid=case.include_invalid,
    )
    assert [run.run_id for run in selection.runs] == case.comparable
    expected_counts = {"different_load_model": 0, "invalid": 0, "regression_verdict": 0, **case.counts}
    assert selection.excluded_counts == expected_counts
    assert selection.load_model_changed is case.changed
    assert selection.fingerprint == case.fingerprint
    assert len(selection.runs) + len(selection.excluded) == len(runs)


def test_selection_is_chronological_names_excluded_runs_and_leaves_input_alone() -> None:
    runs = _stored([R("1"), R("2", "B"), R("3"), R("4", valid=False)])
    shuffled = [runs[2], runs[3], runs[0], runs[1]]
    before = [run.model_dump() for run in shuffled]
    selection = select_baseline(shuffled, fingerprint="A")
    assert [run.run_id for run in selection.runs] == ["1", "3"]
    assert [(e.run_id, e.reason) for e in selection.excluded] == [
        ("2", "different_load_model"),
        ("4", "invalid"),
    ]
    assert selection.notices == [
        "1 stored run left out of the baseline: a different load model.",
        "1 stored run left out of the baseline: an invalid run.",
    ]
    assert [run.model_dump() for run in shuffled] == before
    assert [run.run_id for run in shuffled] == ["3", "4", "1", "2"]


# --- history_frame ---------------------------------------------------------------------------


def test_history_frame_has_one_row_per_run_in_time_order() -> None:
    older = make_stored_run("older", minutes=0, record=make_run_record({"a": {"p(95)": 10.0}}, rps=20))
    newer = make_stored_run("newer", minutes=5, record=make_run_record({"b": {"p(95)": 30.0}}, rps=40))
    frame = history_frame([newer, older])
    assert list(frame.index) == ["older", "newer"]
    assert frame.index.name == "run_id"
    assert frame.loc["older", "http_req_duration{name:a}|p(95)"] == 10.0
    assert frame["http_req_duration{name:b}|p(95)"].isna().tolist() == [True, False]
    assert frame.loc["newer", "http_req_duration{name:b}|p(95)"] == 30.0
    assert list(frame["ctx|http_reqs_per_s"]) == [20.0, 40.0]
    assert list(frame["ctx|duration_s"]) == [30.0, 30.0]
    assert list(frame["ctx|dropped_iterations"]) == [0.0, 0.0]
    assert all(dtype == np.float64 for dtype in frame.dtypes)


def test_history_frame_columns_metrics_sorted_then_context_then_resources() -> None:
    plain = make_stored_run("plain", minutes=0, record=make_run_record({"a": {}}))
    sampled = make_stored_run("sampled", minutes=1, record=make_run_record({"a": {}}, detail=True))
    frame = history_frame([plain, sampled])
    metric_columns = [c for c in frame.columns if not c.startswith(("ctx|", "res|"))]
    assert metric_columns == sorted(metric_columns)
    assert list(frame.columns) == [
        *metric_columns,
        *CONTEXT_COLUMNS,
        "res|cpu_mean_percent",
        "res|cpu_peak_percent",
        "res|rss_mean_mb",
        "res|rss_peak_mb",
    ]
    assert frame["res|cpu_mean_percent"].isna().tolist() == [True, False]
    assert frame.loc["sampled", "res|cpu_mean_percent"] == 43.0
    assert "res|cpu_mean_percent" not in history_frame([plain]).columns


def test_history_frame_resource_columns_appear_only_when_known() -> None:
    record = make_run_record({"a": {}}).model_copy(
        update={"resources": ResourceUsage(source="container app", interval_s=1.0, cpu_mean_percent=12.5)}
    )
    frame = history_frame([make_stored_run("r", record=record)])
    assert [c for c in frame.columns if c.startswith("res|")] == ["res|cpu_mean_percent"]


def test_history_frame_of_no_runs_is_empty_with_context_columns() -> None:
    frame = history_frame([])
    assert frame.empty and frame.index.name == "run_id"
    assert list(frame.columns) == list(CONTEXT_COLUMNS)


def test_history_frame_leaves_its_input_alone() -> None:
    runs = [make_stored_run(f"r{i}", minutes=10 - i) for i in range(3)]
    before = [run.model_dump() for run in runs]
    frame = history_frame(runs)
    frame.iloc[0, 0] = -1.0
    assert [run.model_dump() for run in runs] == before
    assert [run.run_id for run in runs] == ["r0", "r1", "r2"]
