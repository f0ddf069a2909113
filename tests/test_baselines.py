"""The history store: one atomic JSON file per run, versioned, pruned and compacted, merge-safe."""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import git
import pytest
from factories import T0, make_run_record
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.adapters.baselines import BaselineStore, compact_run, invalid_reason
from perfgate.errors import InputDataError, SchemaVersionError, UsageError
from perfgate.models import (
    CheckResult,
    LoadFingerprint,
    MetricRule,
    MetricSeries,
    Policy,
    RunContext,
    RunRecord,
    Stage,
    StoredRun,
    ThresholdResult,
)

SCENARIO = "notes-smoke"


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _record_many(store: BaselineStore, count: int, *, detail: bool = False) -> list[StoredRun]:
    return [
        store.record(
            SCENARIO,
            make_run_record(detail=detail),
            recorded_at=T0 + timedelta(minutes=i),
            run_id=f"r{i:03d}",
        )
        for i in range(count)
    ]


# --- record and read back ---------------------------------------------------------------


def test_record_then_runs_and_get_return_equal_models(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    stored = store.record(
        SCENARIO, make_run_record(detail=True), recorded_at=T0, verdict="pass", commit="abc123"
    )
    assert store.runs(SCENARIO) == [stored]
    assert store.get(SCENARIO, stored.run_id) == stored
    assert stored.fingerprint == make_run_record().fingerprint.digest()  # type: ignore[union-attr]
    assert (stored.verdict, stored.commit, stored.valid) == ("pass", "abc123", True)


def test_runs_are_oldest_first_by_time_then_run_id(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    for run_id, minutes in [("c", 5), ("b", 0), ("a", 0), ("d", -3)]:
        store.record(SCENARIO, make_run_record(), recorded_at=T0 + timedelta(minutes=minutes), run_id=run_id)
    assert [run.run_id for run in store.runs(SCENARIO)] == ["d", "a", "b", "c"]


def test_a_scenario_without_history_has_no_runs(tmp_path: Path) -> None:
    assert BaselineStore(tmp_path / "missing").runs(SCENARIO) == []
    assert BaselineStore(tmp_path / "missing").scenarios() == []


def test_scenarios_lists_directories_with_runs(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    store.record("b-scenario", make_run_record(), recorded_at=T0)
    store.record("a-scenario", make_run_record(), recorded_at=T0)
    (tmp_path / "not-a-scenario").mkdir()
    assert store.scenarios() == ["a-scenario", "b-scenario"]


def test_file_is_sorted_indented_versioned_json_with_trailing_newline(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    stored = store.record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    text = (tmp_path / SCENARIO / "runs" / "r1.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert data["schema_version"] == 1
    assert data["recorded_at"] == "2026-11-01T12:00:00Z"
    assert StoredRun.model_validate(data) == stored


def test_default_run_id_is_utc_timestamp_plus_suffix_and_time_is_stored_in_utc(tmp_path: Path) -> None:
    local = datetime(2026, 11, 23, 16, 23, 1, tzinfo=timezone(timedelta(hours=2)))
    stored = BaselineStore(tmp_path).record(SCENARIO, make_run_record(), recorded_at=local)
    assert re.fullmatch(r"20261123T142301Z-[0-9a-f]{16}", stored.run_id)
    assert stored.recorded_at == local and stored.recorded_at.utcoffset() == timedelta(0)


def test_naive_recorded_at_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="time zone"):
        BaselineStore(tmp_path).record(SCENARIO, make_run_record(), recorded_at=datetime(2026, 11, 1))
    assert _files(tmp_path) == []


# --- validity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (make_run_record(k6_exit_code=0), None),
        (make_run_record(k6_exit_code=99), None),
        (make_run_record(k6_exit_code=None), None),
        (make_run_record(k6_exit_code=107), "k6 exited with code 107"),
        (make_run_record(k6_exit_code=-9), "k6 exited with code -9"),
        (make_run_record(http_reqs=0), "no HTTP requests"),
        (make_run_record().model_copy(update={"metrics": {}}), "no metrics"),
        (
            make_run_record().model_copy(update={"context": RunContext(), "metrics": {"x": MetricSeries()}}),
            "no HTTP requests",
        ),
        (
            make_run_record().model_copy(
                update={"context": RunContext(), "metrics": {"http_reqs": MetricSeries(values={"count": 3})}}
            ),
            None,
        ),
    ],
    ids=[
        "exit0",
        "exit99",
        "exit-unknown",
        "exit107",
        "killed",
        "zero-requests",
        "no-metrics",
        "no-count",
        "count",
    ],
)
def test_record_flags_invalid_runs(tmp_path: Path, record: RunRecord, reason: str | None) -> None:
    stored = BaselineStore(tmp_path).record(SCENARIO, record, recorded_at=T0)
    assert stored.valid is (reason is None)
    assert invalid_reason(record) == stored.invalid_reason
    if reason is not None:
        assert reason in (stored.invalid_reason or "")
    assert BaselineStore(tmp_path).runs(SCENARIO) == [stored]


# --- refusals ---------------------------------------------------------------------------


def test_an_existing_run_id_is_never_overwritten(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    first = store.record(SCENARIO, make_run_record(rps=10), recorded_at=T0, run_id="same")
    with pytest.raises(UsageError, match="already exists") as caught:
        store.record(SCENARIO, make_run_record(rps=20), recorded_at=T0, run_id="same")
    assert caught.value.exit_code == 2
    assert store.runs(SCENARIO) == [first]


UNSAFE_NAMES = ["", ".", "..", "../x", "a/b", "a\\b", "/etc", ".hidden", "a..b", "x\n", "a b", "é", "x" * 129]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_unsafe_scenario_or_run_id_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    store = BaselineStore(tmp_path / "baselines")
    with pytest.raises(UsageError, match="invalid scenario"):
        store.record(name, make_run_record(), recorded_at=T0)
    with pytest.raises(UsageError, match="invalid run id"):
        store.record(SCENARIO, make_run_record(), recorded_at=T0, run_id=name)
    with pytest.raises(UsageError):
        store.get(SCENARIO, name)
    with pytest.raises(UsageError):
        store.runs(name)
    assert _files(tmp_path) == []


# --- atomic writes ----------------------------------------------------------------------


def test_records_leave_no_temp_files(tmp_path: Path) -> None:
    _record_many(BaselineStore(tmp_path), 3)
    assert _files(tmp_path) == [f"{SCENARIO}/runs/r00{i}.json" for i in range(3)]


def test_a_crash_mid_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BaselineStore(tmp_path)

    def power_cut(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError, match="Input/output"):
        store.record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    assert _files(tmp_path) == []


def test_a_temp_file_left_by_a_crash_is_ignored(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    stored = store.record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    (tmp_path / SCENARIO / "runs" / ".r2.json.k2j3h4.tmp").write_text(
        '{"schema_version": 1, "run_', encoding="utf-8"
    )
    assert store.runs(SCENARIO) == [stored]


# --- schema versions and bad files --------------------------------------------------------


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / SCENARIO / "runs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def test_a_file_from_a_newer_perfgate_is_refused_with_exit_code_3(tmp_path: Path) -> None:
    stored = BaselineStore(tmp_path).record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    newer = {**stored.model_dump(mode="json"), "schema_version": 7, "run_id": "r2"}
    path = _write(tmp_path, "r2.json", json.dumps(newer))
    with pytest.raises(SchemaVersionError) as caught:
        BaselineStore(tmp_path).runs(SCENARIO)
    assert caught.value.exit_code == 3
    assert str(caught.value) == f"{path}: written by a newer perfgate (schema 7 > 1); upgrade perfgate"


def test_a_schema_0_file_is_upgraded_on_read(tmp_path: Path) -> None:
    record = make_run_record(fingerprint=None)
    v0 = {
        "schema_version": 0,
        "run_id": "old-1",
        "scenario": SCENARIO,
        "recorded_at": "2026-10-01T08:00:00Z",
        **record.model_dump(mode="json", include={"source_format", "source", "metrics", "checks", "context"}),
    }
    _write(tmp_path, "old-1.json", json.dumps(v0))
    [run] = BaselineStore(tmp_path).runs(SCENARIO)
    expected = StoredRun(
        run_id="old-1", scenario=SCENARIO, recorded_at=datetime(2026, 10, 1, 8, tzinfo=UTC), record=record
    )
    assert run == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"schema_version": 1, "run_id": ', "not valid JSON: Expecting value at line 1 column 33"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"run_id": "r1"}', "schema_version must be an integer, got None"),
        ('{"schema_version": "1"}', "schema_version must be an integer, got '1'"),
        ('{"schema_version": true}', "schema_version must be an integer, got True"),
        ('{"schema_version": -1}', "unknown schema_version -1"),
        (
            '{"schema_version": 1, "run_id": "r1", "scenario": "notes-smoke", "recorded_at": "2026-11-01T12:00:00Z"}',
            "record: Field required",
        ),
        (
            '{"schema_version": 1, "run_id": "r1", "scenario": "notes-smoke", "recorded_at": "yesterday", "record": {}}',
            "recorded_at: Input should be a valid datetime",
        ),
        (
            '{"schema_version": 1, "run_id": "r1", "scenario": "notes-smoke", "recorded_at": "2026-11-01T12:00:00",'
            ' "record": {"source_format": "csv", "source": "x"}}',
            "recorded_at must carry a time zone",
        ),
        (
            '{"schema_version": 1, "run_id": "other", "scenario": "notes-smoke", "recorded_at": "2026-11-01T12:00:00Z",'
            ' "record": {"source_format": "csv", "source": "x"}}',
            "run_id 'other' does not match the file name",
        ),
        (
            '{"schema_version": 1, "run_id": "r1", "scenario": "other", "recorded_at": "2026-11-01T12:00:00Z",'
            ' "record": {"source_format": "csv", "source": "x"}}',
            "scenario 'other' does not match the directory 'notes-smoke'",
        ),
    ],
    ids=[
        "truncated",
        "list",
        "no-version",
        "str-version",
        "bool-version",
        "negative",
        "shape",
        "date",
        "naive",
        "id-mismatch",
        "scenario-mismatch",
    ],
)
def test_a_bad_file_is_named_in_a_one_line_error(tmp_path: Path, content: str, problem: str) -> None:
    path = _write(tmp_path, "r1.json", content)
    with pytest.raises(InputDataError) as caught:
        BaselineStore(tmp_path).runs(SCENARIO)
    assert caught.value.exit_code == 3
    assert caught.value.source == str(path)
    assert caught.value.problem.startswith(problem), caught.value.problem
    assert "\n" not in str(caught.value)


def test_get_of_an_unknown_run_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no run 'nope'"):
        BaselineStore(tmp_path).get(SCENARIO, "nope")


# --- round trip property --------------------------------------------------------------------

_names = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
_finite = st.floats(allow_nan=False, allow_infinity=False)
_times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7))]),
)
_series = st.builds(
    MetricSeries,
    type=st.sampled_from([None, "trend", "rate", "counter", "gauge"]),
    values=st.dictionaries(st.sampled_from(["avg", "min", "med", "max", "p(95)", "count", "rate"]), _finite),
    thresholds=st.lists(
        st.builds(ThresholdResult, expression=st.text(max_size=20), crossed=st.none() | st.booleans())
    ),
)
_records = st.builds(
    RunRecord,
    source_format=st.sampled_from(["summary-export", "handle-summary", "machine-summary", "ndjson", "csv"]),
    source=st.text(max_size=30),
    metrics=st.dictionaries(
        st.builds(lambda n, t: f"{n}{{name:{t}}}" if t else n, _names, st.none() | _names), _series
    ),
    checks=st.lists(
        st.builds(
            CheckResult, name=st.text(max_size=10), passes=st.integers(0, 10**9), fails=st.integers(0, 9)
        )
    ),
    context=st.builds(
        RunContext,
        duration_s=st.none() | st.floats(0, 1e9),
        http_reqs=st.none() | st.integers(0, 10**12),
        http_reqs_per_s=st.none() | st.floats(0, 1e9),
        k6_exit_code=st.none() | st.integers(-255, 255),
        started_at=st.none() | _times,
    ),
    fingerprint=st.none()
    | st.builds(
        LoadFingerprint,
        executor=_names,
        stages=st.lists(
            st.builds(Stage, duration=st.sampled_from(["10s", "1m30s"]), target=_finite), max_size=3
        ),
        rate=st.none() | _finite,
    ),
)


@settings(max_examples=60, deadline=None)
@given(record=_records, recorded_at=_times, verdict=st.none() | st.sampled_from(["pass", "regression"]))
def test_save_then_load_returns_an_equal_model(
    record: RunRecord, recorded_at: datetime, verdict: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = BaselineStore(Path(tmp))
        stored = store.record(SCENARIO, record, recorded_at=recorded_at, run_id="r1", verdict=verdict)  # type: ignore[arg-type]
        assert store.runs(SCENARIO) == [stored]
        assert stored.record == record


# --- prune and compaction ---------------------------------------------------------------


def _sizes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.json"))


def test_prune_deletes_the_oldest_runs_beyond_keep(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    _record_many(store, 12)
    before = _sizes(tmp_path)
    report = store.prune(SCENARIO, keep=10)
    assert report.deleted == ["r000", "r001"]
    assert (report.kept, report.compacted, report.dry_run) == (10, [], False)
    assert [run.run_id for run in store.runs(SCENARIO)] == [f"r{i:03d}" for i in range(2, 12)]
    assert (report.bytes_before, report.bytes_after) == (before, _sizes(tmp_path))


def test_prune_compacts_runs_older_than_the_newest_m(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    originals = _record_many(store, 6, detail=True)
    report = store.prune(SCENARIO, keep=5, compact_after=2)
    assert report.deleted == ["r000"]
    assert report.compacted == ["r001", "r002", "r003"]
    runs = store.runs(SCENARIO)
    assert [run.compacted for run in runs] == [True, True, True, False, False]
    assert runs[3:] == originals[4:]
    assert report.bytes_after == _sizes(tmp_path) < report.bytes_before
    slim = runs[0].record
    assert slim.stages == [] and slim.resources is not None and slim.resources.samples == []
    assert slim.resources.cpu_mean_percent == originals[1].record.resources.cpu_mean_percent  # type: ignore[union-attr]
    assert sorted(set(originals[1].record.metrics) - set(slim.metrics)) == [
        "data_received",
        *sorted(key for key in originals[1].record.metrics if key.startswith("http_req_waiting")),
    ]
    assert slim.context == originals[1].record.context and slim.checks == originals[1].record.checks
    again = store.prune(SCENARIO, keep=5, compact_after=2)
    assert (again.deleted, again.compacted, again.bytes_after) == ([], [], report.bytes_after)


def test_compaction_keeps_what_the_rules_thresholds_and_headlines_need() -> None:
    record = make_run_record(endpoints={"a": {}}).model_copy(
        update={
            "metrics": {
                "my_trend": MetricSeries(
                    values={"p(95)": 1.0}, thresholds=[ThresholdResult(expression="p(95)<5")]
                ),
                "custom_counter": MetricSeries(values={"count": 3}),
                "http_req_duration": MetricSeries(values={"p(95)": 9.0}),
                "http_req_duration{name:a}": MetricSeries(values={"p(95)": 9.0}),
                "http_req_waiting": MetricSeries(values={"p(95)": 9.0}),
            }
        }
    )
    run = StoredRun(run_id="r1", scenario=SCENARIO, recorded_at=T0, record=record)
    default = compact_run(run, Policy().rules)
    assert sorted(default.record.metrics) == ["http_req_duration", "http_req_duration{name:a}", "my_trend"]
    custom = compact_run(
        run, [MetricRule(match="custom_*", stats=["count"], direction="higher_is_worse", unit="count")]
    )
    assert sorted(custom.record.metrics) == ["custom_counter", "http_req_duration", "my_trend"]
    assert run.compacted is False and len(run.record.metrics) == 5  # the input is unchanged


def test_prune_dry_run_reports_without_touching_files(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    _record_many(store, 6, detail=True)
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    dry = store.prune(SCENARIO, keep=5, compact_after=2, dry_run=True)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot
    real = store.prune(SCENARIO, keep=5, compact_after=2)
    assert dry.model_copy(update={"dry_run": False}) == real
    assert real.bytes_after == _sizes(tmp_path)


@pytest.mark.parametrize(("keep", "compact_after"), [(0, None), (-1, None), (5, -1)])
def test_prune_refuses_nonsense_limits(tmp_path: Path, keep: int, compact_after: int | None) -> None:
    with pytest.raises(UsageError):
        BaselineStore(tmp_path).prune(SCENARIO, keep=keep, compact_after=compact_after)


# --- real git: two clones record concurrently and merge --------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "perfgate test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "perfgate test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2026-11-23T14:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-11-23T14:00:00+00:00",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _commit_run(repo: git.Repo, run_id: str, minutes: int) -> None:
    root = Path(repo.working_dir) / "baselines"
    BaselineStore(root).record(
        SCENARIO, make_run_record(), recorded_at=T0 + timedelta(minutes=minutes), run_id=run_id
    )
    repo.git.add("baselines")
    repo.git.commit("-m", f"Record run {run_id}")


def test_two_clones_record_runs_and_merge_without_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    git.Repo.init(tmp_path / "remote.git", bare=True, initial_branch="main")
    first = git.Repo.clone_from(tmp_path / "remote.git", tmp_path / "a")
    first.git.checkout("-b", "main")
    _commit_run(first, "seed", 0)
    first.git.push("origin", "main")
    second = git.Repo.clone_from(tmp_path / "remote.git", tmp_path / "b", branch="main")

    _commit_run(first, "from-a", 1)
    first.git.push("origin", "main")
    _commit_run(second, "from-b", 2)
    second.git.pull("--no-rebase", "--no-edit", "origin", "main")

    assert len(second.head.commit.parents) == 2  # a real merge, not a fast-forward
    assert second.git.status("--porcelain") == ""
    runs = BaselineStore(tmp_path / "b" / "baselines").runs(SCENARIO)
    assert [run.run_id for run in runs] == ["seed", "from-a", "from-b"]
    second.git.push("origin", "main")
    first.git.pull("--ff-only", "origin", "main")
    assert BaselineStore(tmp_path / "a" / "baselines").runs(SCENARIO) == runs
