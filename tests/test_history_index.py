"""The history index (adapters/history_index.py) is a cache: never trusted blindly, never an error."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

from factories import T0, make_run_record

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.history_index import INDEX_NAME

SCENARIO = "checkout"


def _store(tmp_path: Path, count: int) -> BaselineStore:
    store = BaselineStore(tmp_path)
    for i in range(count):
        store.record(SCENARIO, make_run_record(), recorded_at=T0 + timedelta(minutes=i), run_id=f"r{i:03d}")
    return store


def _index(store: BaselineStore) -> dict[str, object]:
    data: dict[str, object] = json.loads((store.run_dir(SCENARIO).parent / INDEX_NAME).read_text())["entries"]
    return data


def test_reading_writes_the_index_and_reads_it_back_equal(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    first = store.runs(SCENARIO)
    assert sorted(_index(store)) == ["r000.json", "r001.json", "r002.json"]
    assert store.runs(SCENARIO) == first


def test_a_run_added_or_removed_after_the_index_is_seen(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    store.runs(SCENARIO)
    store.record(SCENARIO, make_run_record(), recorded_at=T0 + timedelta(hours=1), run_id="late")
    (store.run_dir(SCENARIO) / "r000.json").unlink()
    assert [run.run_id for run in store.runs(SCENARIO)] == ["r001", "r002", "late"]
    assert sorted(_index(store)) == ["late.json", "r001.json", "r002.json"]


def test_a_run_edited_by_hand_is_read_again(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    store.runs(SCENARIO)
    path = store.run_dir(SCENARIO) / "r001.json"
    data = json.loads(path.read_text())
    data["commit"] = "edited-by-hand"
    path.write_text(json.dumps(data))
    assert store.runs(SCENARIO)[1].commit == "edited-by-hand"


def test_an_index_entry_whose_file_turned_bad_is_not_used(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    store.runs(SCENARIO)
    path = store.run_dir(SCENARIO) / "r001.json"
    stat = path.stat()
    path.write_text("{" + " " * (stat.st_size - 2) + "}")  # same size, new mtime: read again, refused
    try:
        store.runs(SCENARIO)
    except Exception as error:
        assert "r001.json" in str(error)
    else:
        raise AssertionError("a broken run file was served from the index")


def test_a_corrupt_or_forged_index_is_rebuilt_never_an_error(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    expected = store.runs(SCENARIO)
    index = store.run_dir(SCENARIO).parent / INDEX_NAME
    for garbage in ("", "{not json", '{"version": 1, "entries": {"r000.json": 3}}', "[]" * 1000):
        index.write_text(garbage)
        assert store.runs(SCENARIO) == expected
        assert sorted(_index(store)) == ["r000.json", "r001.json"]
    forged = json.loads(index.read_text())
    forged["entries"]["r000.json"]["run"]["commit"] = "forged"
    forged["entries"]["r000.json"]["size"] += 1  # the key no longer matches the file: not reused
    index.write_text(json.dumps(forged))
    assert store.runs(SCENARIO) == expected


def test_two_writers_and_readers_lose_no_run(tmp_path: Path) -> None:
    store = _store(tmp_path, 1)
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for i in range(15):
                store.record(
                    SCENARIO, make_run_record(), recorded_at=T0 + timedelta(minutes=i), run_id=f"{prefix}{i}"
                )
                store.runs(SCENARIO)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.runs(SCENARIO)) == 31
    assert len(_index(store)) == 31


def test_an_index_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    (store.run_dir(SCENARIO).parent / INDEX_NAME).mkdir()  # neither readable nor replaceable as a file
    assert [run.run_id for run in store.runs(SCENARIO)] == ["r000", "r001"]
