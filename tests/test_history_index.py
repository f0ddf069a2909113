"""The history index (adapters/history_index.py) is a cache: never trusted blindly, never an error."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

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


def _header(store: BaselineStore) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(_index_file(store).read_bytes().partition(b"\n")[0])
    return header


def _files(store: BaselineStore) -> list[str]:
    files: list[str] = _header(store)["files"]
    return files


def test_reading_writes_the_index_and_reads_it_back_equal(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    first = store.summaries(SCENARIO)
    assert sorted(_files(store)) == ["r000.json", "r001.json", "r002.json"]
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


def test_the_index_is_compact(tmp_path: Path) -> None:
    store = _store(tmp_path, 10)
    store.summaries(SCENARIO)
    files = sum(path.stat().st_size for path in store.run_dir(SCENARIO).iterdir())
    assert _index_file(store).stat().st_size < files / 2


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
    assert sorted(_files(store)) == ["late.json", "r001.json", "r002.json"]


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


def _split(index: Path) -> tuple[dict[str, Any], bytes, list[bytes]]:
    """The index's header, value matrix and compressed summaries."""
    first, _, body = index.read_bytes().partition(b"\n")
    header = json.loads(first)
    start = len(header["files"]) * len(header["columns"]) * 8
    matrix, texts = body[:start], []
    for length in header["text_bytes"]:
        texts.append(body[start : start + length])
        start += length
    return header, matrix, texts


def _forge(store: BaselineStore, name: str, commit: object, key_changed: bool) -> None:
    """Rewrite the index with run `name`'s summary edited (its commit), consistently laid out."""
    header, matrix, texts = _split(_index_file(store))
    at = header["files"].index(name)
    run = json.loads(zlib.decompress(texts[at]))
    run["commit"] = commit
    texts[at] = zlib.compress(json.dumps(run).encode())
    header["text_bytes"][at] = len(texts[at])
    header["size"][at] += 1 if key_changed else 0
    _index_file(store).write_bytes(json.dumps(header).encode() + b"\n" + matrix + b"".join(texts))


def test_a_corrupt_or_forged_index_is_rebuilt_never_an_error(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    expected = store.summaries(SCENARIO)
    index = _index_file(store)
    intact = index.read_bytes()
    header, matrix, texts = _split(index)
    body = matrix + b"".join(texts)
    for garbage in (
        b"",
        b"{not json",
        b'{"version": 2, "entries": {"r000.json": 3}}',
        b"[]" * 1000,
        intact[:-10],  # the summaries cut short
        intact + b"{}",  # more than the header accounts for
        json.dumps({**header, "columns": header["columns"][:-1]}).encode() + b"\n" + body,
        json.dumps({**header, "valid": [True]}).encode() + b"\n" + body,
        json.dumps({**header, "scenario": "other"}).encode() + b"\n" + body,
        json.dumps({**header, "text_bytes": [-1, sum(header["text_bytes"]) + 1]}).encode() + b"\n" + body,
    ):
        index.write_bytes(garbage)
        assert store.summaries(SCENARIO) == expected
        assert sorted(_files(store)) == ["r000.json", "r001.json"]
        assert index.read_bytes() == intact
    _forge(store, "r000.json", "forged", key_changed=True)  # the key no longer matches the file: not reused
    assert store.summaries(SCENARIO) == expected
    _forge(store, "r001.json", "forged", key_changed=False)  # a summary that is not its head's run
    assert store.summaries(SCENARIO) == expected
    _forge(store, "r001.json", 7, key_changed=False)  # no valid summary at all
    assert store.summaries(SCENARIO) == expected
    header, matrix, texts = _split(index)
    index.write_bytes(json.dumps(header).encode() + b"\n" + matrix + b"x" * len(b"".join(texts)))
    assert store.summaries(SCENARIO) == expected  # not zlib


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
    assert len(_files(store)) == 31


def test_an_index_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    _index_file(store).mkdir(parents=True)  # neither readable nor replaceable as a file
    assert [run.run_id for run in store.summaries(SCENARIO)] == ["r000", "r001"]


def test_a_current_entry_is_served_from_the_index_not_the_file(tmp_path: Path) -> None:
    """Same name, inode, size and mtime_ns: the index answers (heads, values and summaries alike), so
    a content change that keeps all four (here made on purpose) is not seen until the key moves."""
    store = _store(tmp_path, 3)
    before = store.summaries(SCENARIO)
    path = store.run_dir(SCENARIO) / "r001.json"
    info = path.stat()
    text = path.read_text()
    assert '"commit": null' in text
    with path.open("r+") as handle:  # in place: the inode stays
        handle.write(text.replace('"commit": null', '"commit": "ab"'))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert (path.stat().st_ino, path.stat().st_size, path.stat().st_mtime_ns) == (
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
    )
    history = store.history(SCENARIO)
    assert history.summaries() == before and history.heads[1].commit is None
    assert store.runs(SCENARIO)[1].commit == "ab"  # the file itself did change
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    assert store.summaries(SCENARIO)[1].commit == "ab"
