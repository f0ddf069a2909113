"""The history index (adapters/history_index.py) is a cache: never trusted blindly, never an error."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

from factories import T0, make_run_record

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.history_index import OLD_INDEX_NAME, index_path, summarize

SCENARIO = "checkout"


def _store(tmp_path: Path, count: int) -> BaselineStore:
    store = BaselineStore(tmp_path)
    for i in range(count):
        store.record(
            SCENARIO, make_run_record(detail=True), recorded_at=T0 + timedelta(minutes=i), run_id=f"r{i:03d}"
        )
    return store


def _index_file(store: BaselineStore) -> Path:
    return index_path(store.run_dir(SCENARIO).parent)


def _index(store: BaselineStore) -> dict[str, object]:
    data: dict[str, object] = json.loads(_index_file(store).read_text())["entries"]
    return data


def test_reading_writes_the_index_and_reads_it_back_equal(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    first = store.summaries(SCENARIO)
    assert sorted(_index(store)) == ["r000.json", "r001.json", "r002.json"]
    assert store.summaries(SCENARIO) == first
    assert first == [summarize(run) for run in store.runs(SCENARIO)]


def test_a_summary_keeps_what_readers_use_and_drops_the_rest(tmp_path: Path) -> None:
    store = _store(tmp_path, 1)
    [full] = store.runs(SCENARIO)
    [summary] = store.summaries(SCENARIO)
    assert full.record.checks and full.record.resources and full.record.resources.samples
    assert any(series.thresholds for series in full.record.metrics.values())
    assert summary.record.checks == [] and summary.record.resources is not None
    assert summary.record.resources.samples == []
    assert not any(series.thresholds for series in summary.record.metrics.values())
    assert {k: s.values for k, s in summary.record.metrics.items()} == {
        k: s.values for k, s in full.record.metrics.items()
    }
    assert summary.record.stages == full.record.stages and summary.record.stages
    assert summary.record.resources.cpu_mean_percent == full.record.resources.cpu_mean_percent
    assert summary.model_dump(exclude={"record"}) == full.model_dump(exclude={"record"})
    assert _index_file(store).stat().st_size < (store.run_dir(SCENARIO) / "r000.json").stat().st_size / 2


def test_an_unchanged_history_does_not_rewrite_the_index(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    store.summaries(SCENARIO)
    written = _index_file(store).stat().st_mtime_ns, _index_file(store).stat().st_ino
    store.summaries(SCENARIO)
    assert (_index_file(store).stat().st_mtime_ns, _index_file(store).stat().st_ino) == written


def test_the_cache_is_never_committed(tmp_path: Path) -> None:
    """Real git: `git add --all` stages the runs, never the cache beside them."""
    store = _store(tmp_path, 2)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (store.run_dir(SCENARIO).parent / OLD_INDEX_NAME).write_text("{}")  # an older perfgate's index
    store.summaries(SCENARIO)
    assert not (store.run_dir(SCENARIO).parent / OLD_INDEX_NAME).exists()
    subprocess.run(["git", "-C", str(tmp_path), "add", "--all"], check=True)
    staged = subprocess.run(
        ["git", "-C", str(tmp_path), "diff", "--cached", "--name-only"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert staged == [f"{SCENARIO}/runs/r000.json", f"{SCENARIO}/runs/r001.json"]
    assert _index_file(store).is_file()


def test_a_run_added_or_removed_after_the_index_is_seen(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    store.summaries(SCENARIO)
    store.record(SCENARIO, make_run_record(), recorded_at=T0 + timedelta(hours=1), run_id="late")
    (store.run_dir(SCENARIO) / "r000.json").unlink()
    assert [run.run_id for run in store.summaries(SCENARIO)] == ["r001", "r002", "late"]
    assert sorted(_index(store)) == ["late.json", "r001.json", "r002.json"]


def test_a_run_edited_by_hand_is_read_again(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    store.summaries(SCENARIO)
    path = store.run_dir(SCENARIO) / "r001.json"
    data = json.loads(path.read_text())
    data["commit"] = "edited-by-hand"
    path.write_text(json.dumps(data))
    assert store.summaries(SCENARIO)[1].commit == "edited-by-hand"


def test_an_index_entry_whose_file_turned_bad_is_not_used(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    store.summaries(SCENARIO)
    path = store.run_dir(SCENARIO) / "r001.json"
    stat = path.stat()
    path.write_text("{" + " " * (stat.st_size - 2) + "}")  # same size, new mtime: read again, refused
    try:
        store.summaries(SCENARIO)
    except Exception as error:
        assert "r001.json" in str(error)
    else:
        raise AssertionError("a broken run file was served from the index")


def test_a_corrupt_or_forged_index_is_rebuilt_never_an_error(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    expected = store.summaries(SCENARIO)
    index = _index_file(store)
    for garbage in ("", "{not json", '{"version": 2, "entries": {"r000.json": 3}}', "[]" * 1000):
        index.write_text(garbage)
        assert store.summaries(SCENARIO) == expected
        assert sorted(_index(store)) == ["r000.json", "r001.json"]
    forged = json.loads(index.read_text())
    forged["entries"]["r000.json"]["run"]["commit"] = "forged"
    forged["entries"]["r000.json"]["size"] += 1  # the key no longer matches the file: not reused
    index.write_text(json.dumps(forged))
    assert store.summaries(SCENARIO) == expected


def test_two_writers_and_readers_lose_no_run(tmp_path: Path) -> None:
    store = _store(tmp_path, 1)
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for i in range(15):
                store.record(
                    SCENARIO, make_run_record(), recorded_at=T0 + timedelta(minutes=i), run_id=f"{prefix}{i}"
                )
                store.summaries(SCENARIO)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.summaries(SCENARIO)) == 31
    assert len(_index(store)) == 31


def test_an_index_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    _index_file(store).mkdir(parents=True)  # neither readable nor replaceable as a file
    assert [run.run_id for run in store.summaries(SCENARIO)] == ["r000", "r001"]
