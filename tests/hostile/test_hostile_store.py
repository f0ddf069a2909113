"""The history store under attack: same-id races, colliding ids, kill -9, symlinks out.

- 1,000 races of two threads recording the same run id: exactly one wins each race, the
  other gets the "already exists" error, and the file on disk is the winner's (no silent loss).
- Default run ids drawn in the same second never collide.
- A writer killed with SIGKILL in the middle of writing never leaves a torn run file.
- A scenario folder or run file that is a symlink out of the baselines folder is refused,
  on write (nothing lands outside) and on read (the target's content is never echoed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import T0, make_run_record
from hostile_world import EXPORT, assert_clean_error, run_cli, snapshot

from perfgate.adapters.baselines import BaselineStore, new_run_id
from perfgate.errors import InputDataError, UsageError

RACES = 1000
SCENARIO = "notes-smoke"


def test_a_thousand_same_id_races_lose_nothing(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    record = make_run_record()
    store.record(SCENARIO, record, recorded_at=T0, run_id="warm-up")
    outcomes: dict[tuple[int, int], str] = {}

    def writer(race: int, who: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            store.record(SCENARIO, record, recorded_at=T0, run_id=f"r{race}", commit=f"writer-{who}")
            outcomes[(race, who)] = "recorded"
        except UsageError as exc:
            outcomes[(race, who)] = "refused" if "already exists" in str(exc) else str(exc)

    for race in range(RACES):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=writer, args=(race, who, barrier)) for who in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    runs = {run.run_id: run for run in store.runs(SCENARIO)}
    silent_losses = 0
    for race in range(RACES):
        results = [outcomes[(race, 0)], outcomes[(race, 1)]]
        assert sorted(results) == ["recorded", "refused"], (race, results)
        winner = results.index("recorded")
        silent_losses += runs[f"r{race}"].commit != f"writer-{winner}"
    assert silent_losses == 0
    assert not [p for p in (tmp_path / SCENARIO / "runs").iterdir() if p.name.startswith(".")]


def test_default_run_ids_of_the_same_second_never_collide() -> None:
    now = datetime(2026, 12, 3, 6, 0, 0, tzinfo=UTC)
    ids = {new_run_id(now) for _ in range(200_000)}
    assert len(ids) == 200_000


_WRITER = """
import sys
from factories import T0, make_run_record
from perfgate.adapters.baselines import BaselineStore
store, record = BaselineStore(__import__("pathlib").Path(sys.argv[1])), make_run_record(detail=True)
print("ready", flush=True)
for i in range(100_000):
    store.record("s", record, recorded_at=T0, run_id=f"k{i}")
"""


def test_kill_9_during_writes_leaves_no_torn_file(tmp_path: Path) -> None:
    tests_dir = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests_dir), str(tests_dir.parent)])}
    for attempt in range(8):
        root = tmp_path / f"b{attempt}"
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root)], stdout=subprocess.PIPE, env=env, text=True
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.03 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        store = BaselineStore(root)
        runs = store.runs("s")  # every visible file parses: a torn file would raise here
        files = [p for p in (root / "s" / "runs").iterdir() if not p.name.startswith(".")]
        assert len(runs) == len(files)


def test_a_scenario_symlinked_out_of_the_folder_is_refused_on_write(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "baselines"
    root.mkdir()
    (root / SCENARIO).symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputDataError, match="symlink leads outside"):
        BaselineStore(root).record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    assert list(outside.rglob("*")) == []


def test_a_symlinked_scenario_is_refused_by_the_cli_and_nothing_lands_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "baselines"
    root.mkdir()
    (root / "default").symlink_to(outside, target_is_directory=True)
    result = tmp_path / "result.json"
    result.write_text(__import__("json").dumps(EXPORT))
    code, stderr = run_cli(["record", str(result), "--baselines", str(root), "--scenario", "default"])
    assert_clean_error(code, stderr)
    assert code == 3
    assert list(outside.rglob("*")) == []


def test_a_run_file_symlinked_out_of_the_folder_is_refused_without_echoing_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"schema_version": 1, "run_id": "AKIA-SECRET-TOKEN-123"}')
    root = tmp_path / "baselines"
    store = BaselineStore(root)
    store.record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    (root / SCENARIO / "runs" / "r2.json").symlink_to(secret)
    before = snapshot(tmp_path)
    result = tmp_path / "result.json"
    result.write_text(__import__("json").dumps(EXPORT))
    code, stderr = run_cli(["analyze", str(result), "--baselines", str(root), "--scenario", SCENARIO])
    assert_clean_error(code, stderr)
    assert code == 3
    assert "symlink" in stderr
    assert "AKIA" not in stderr
    assert snapshot(tmp_path) == {**before, "result.json": result.read_bytes()}


def test_a_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "baselines"
    shared = root / "shared-runs"
    shared.mkdir(parents=True)
    (root / SCENARIO).mkdir()
    (root / SCENARIO / "runs").symlink_to(shared, target_is_directory=True)
    store = BaselineStore(root)
    stored = store.record(SCENARIO, make_run_record(), recorded_at=T0, run_id="r1")
    assert (shared / "r1.json").is_file()
    assert store.runs(SCENARIO) == [stored]
