"""Repeats of the same code pooled into one candidate: the pooling, its statistics and the CLI."""

from __future__ import annotations

import io
import json
import math
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from factories import DEFAULT_FINGERPRINT, make_run_record
from test_detect_synth import synth_run

from perfgate.cli import main
from perfgate.core.detect import DetectorTuning, detect_regressions
from perfgate.core.pool import PoolError, pool_runs
from perfgate.models import LoadFingerprint, Policy, RunMeta, RunRecord, Stage

TODAY = date(2026, 11, 23)
SUMMARY = Path(__file__).resolve().parent / "fixtures" / "k6" / "basic.summary-export.json"
NOISY = 0.15  # per-endpoint run-to-run noise of the shared corpus machine


def test_one_run_pools_to_itself() -> None:
    run = make_run_record()
    assert pool_runs([run]) is run


def test_latencies_take_the_geometric_mean_and_requests_add_up() -> None:
    a = make_run_record({"get_note": {"p(95)": 10.0, "avg": 4.0}}, error_rate=0.0)
    b = make_run_record({"get_note": {"p(95)": 40.0, "avg": 9.0}}, error_rate=0.1)
    pooled = pool_runs([a, b])
    key = "http_req_duration{name:get_note}"
    assert pooled.value(key, "p(95)") == pytest.approx(20.0)
    assert pooled.value(key, "avg") == pytest.approx(6.0)
    assert pooled.value(key, "count") == a.value(key, "count") + b.value(key, "count")  # type: ignore[operator]
    failed = "http_req_failed{name:get_note}"
    passes = (a.value(failed, "passes") or 0) + (b.value(failed, "passes") or 0)
    trials = passes + (a.value(failed, "fails") or 0) + (b.value(failed, "fails") or 0)
    assert pooled.value(failed, "passes") == passes
    assert pooled.value(failed, "rate") == pytest.approx(passes / trials)
    assert pooled.value("http_reqs", "rate") == pytest.approx(
        ((a.value("http_reqs", "rate") or 0) + (b.value("http_reqs", "rate") or 0)) / 2
    )


def test_runs_of_different_load_models_do_not_pool() -> None:
    other = LoadFingerprint(executor="constant-vus", stages=[Stage(duration="10s", target=3)])
    with pytest.raises(PoolError, match="different load models"):
        pool_runs([make_run_record(), make_run_record(fingerprint=other)])


def _noisy_history(seed: int) -> tuple[np.random.Generator, list[RunRecord]]:
    rng = np.random.default_rng(seed)
    return rng, [synth_run(rng, noise=NOISY) for _ in range(30)]


def _judge(candidates: list[RunRecord], history: list[RunRecord]) -> str:
    pooled = pool_runs(candidates)
    settings = DetectorTuning(candidate_runs=len(candidates))
    return detect_regressions(pooled, history, Policy(), today=TODAY, settings=settings).verdict


def test_three_repeats_catch_what_one_noisy_run_cannot() -> None:
    caught_one = caught_three = 0
    for seed in range(12):
        rng, history = _noisy_history(seed)
        runs = [synth_run(rng, noise=NOISY, endpoint_scale={"get_note": 1.6}) for _ in range(3)]
        caught_one += _judge(runs[:1], history) == "regression"
        caught_three += _judge(runs, history) == "regression"
    assert caught_three >= 8 and caught_three >= caught_one + 5, (caught_one, caught_three)


@pytest.mark.parametrize("seed", range(12))
def test_pooled_clean_repeats_are_never_a_regression(seed: int) -> None:
    rng, history = _noisy_history(100 + seed)
    runs = [synth_run(rng, noise=NOISY) for _ in range(3)]
    assert _judge(runs, history) != "regression"


def _run_dir(root: Path, name: str, fingerprint: LoadFingerprint) -> Path:
    path = root / name
    path.mkdir()
    shutil.copy(SUMMARY, path / "summary.json")
    meta = RunMeta(
        fingerprint=fingerprint,
        scenario="pooled",
        k6_exit_code=0,
        started_at=datetime(2026, 11, 23, tzinfo=UTC),
        wall_s=10.0,
    )
    (path / "run-meta.json").write_text(meta.model_dump_json(), encoding="utf-8")
    return path


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def test_analyze_pools_repeats_and_records_each_run(tmp_path: Path) -> None:
    runs = [_run_dir(tmp_path, f"run-{i}", DEFAULT_FINGERPRINT) for i in range(3)]
    baselines = tmp_path / "baselines"
    code, out = _cli(
        "analyze", *map(str, runs), "--baselines", str(baselines), "--format", "json", "--record"
    )
    assert code == 0
    verdict = json.loads(out)
    assert verdict["source"] == "run-0 + run-1 + run-2"
    stored = sorted((baselines / "pooled" / "runs").glob("*.json"))
    assert len(stored) == 3
    code, out = _cli("analyze", *map(str, runs), "--baselines", str(baselines), "--format", "json")
    assert any("3 runs of the same code pooled" in n for n in json.loads(out)["notices"])


def test_a_repeat_of_another_load_model_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _run_dir(tmp_path, "first", DEFAULT_FINGERPRINT)
    other = _run_dir(tmp_path, "other", LoadFingerprint(executor="constant-vus", stages=[]))
    baselines = tmp_path / "baselines"
    code, out = _cli("analyze", str(first), str(other), "--baselines", str(baselines), "--record")
    assert code == 3 and out == ""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(other) in err[0] and "load model" in err[0]
    assert not baselines.exists()  # nothing written


def test_run_id_with_repeats_is_a_usage_error(tmp_path: Path) -> None:
    runs = [_run_dir(tmp_path, f"run-{i}", DEFAULT_FINGERPRINT) for i in range(2)]
    code, _ = _cli(
        "analyze", *map(str, runs), "--baselines", str(tmp_path / "b"), "--record", "--run-id", "x"
    )
    assert code == 2
    assert math.isfinite(code)


def test_the_same_run_twice_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_dir(tmp_path, "run", DEFAULT_FINGERPRINT)
    code, out = _cli("analyze", str(run), str(run), "--format", "json")
    assert code == 3 and out == ""
    assert "given twice" in capsys.readouterr().err


def test_repeats_may_follow_the_options(tmp_path: Path) -> None:
    runs = [_run_dir(tmp_path, f"run-{i}", DEFAULT_FINGERPRINT) for i in range(3)]
    code, out = _cli("analyze", str(runs[0]), "--format", "json", str(runs[1]), str(runs[2]))
    assert code == 0 and json.loads(out)["source"] == "run-0 + run-1 + run-2"
    assert _cli("analyze", str(runs[0]), "--format", "json", "--bogus")[0] == 2
    assert _cli("record", str(runs[0]), "--baselines", str(tmp_path / "b"), str(runs[1]))[0] == 2
