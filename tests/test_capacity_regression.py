"""Capacity regressions: a drop in max safe users or peak throughput beyond the history's noise."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from capacity_synth import Ramp, write_ramp

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.k6_results import load_result
from perfgate.cli import main
from perfgate.core.capacity.regression import MAX_SAFE, PEAK, capacity_metrics, judge_capacity
from perfgate.models import MetricSeries

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _gauge(value: float) -> MetricSeries:
    return MetricSeries(type="gauge", values={"value": value})


def _history(center: float, spread: float, n: int = 20, seed: int = 3) -> list[float]:
    return list(center * (1 + np.random.default_rng(seed).normal(0, spread, n)))


def _judge(observed: float, history: list[float]) -> str:
    verdict = judge_capacity({PEAK: _gauge(observed)}, {PEAK: history}, scenario="s", source="r", min_runs=5)
    return verdict.verdict


@pytest.mark.parametrize(
    ("observed", "expected"),
    [(300.0, "pass"), (290.0, "pass"), (240.0, "regression"), (150.0, "regression"), (380.0, "improvement")],
)
def test_a_drop_beyond_noise_and_the_floor_is_a_regression(observed: float, expected: str) -> None:
    assert _judge(observed, _history(300.0, 0.02)) == expected


def test_a_noisy_history_absorbs_a_drop_a_quiet_one_flags() -> None:
    assert _judge(255.0, _history(300.0, 0.02)) == "regression"  # -15 % against 2 % noise
    assert _judge(255.0, _history(300.0, 0.12)) in ("pass", "noise")  # the same drop against 12 % noise


def test_a_significant_drop_below_the_floor_is_not_a_regression() -> None:
    history = [300.0] * 8  # a constant history: the log-sigma floor (1 %) makes tiny drops significant
    assert _judge(285.0, history) in ("pass", "noise")  # -5 %: under the 10 % floor


def test_one_wild_run_in_the_history_does_not_hide_a_drop() -> None:
    history = [*_history(300.0, 0.02, n=19), 40.0]
    assert _judge(240.0, history) == "regression"


def test_too_short_a_history_has_no_baseline() -> None:
    verdict = judge_capacity({PEAK: _gauge(100.0)}, {PEAK: [300.0] * 4}, scenario="s", source="r", min_runs=5)
    assert verdict.verdict == "no_baseline" and verdict.findings[0].classification == "no_baseline"


def _store_history(root: Path, raw: Path, peaks: list[float], safe: list[float]) -> None:
    record = load_result(raw)
    store = BaselineStore(root)
    for i, (peak, users) in enumerate(zip(peaks, safe, strict=True)):
        metrics = {**record.metrics, PEAK: _gauge(peak), MAX_SAFE: _gauge(users)}
        store.record(
            "ramp", record.model_copy(update={"metrics": metrics}), recorded_at=NOW - timedelta(days=10 - i)
        )


def test_nightly_capacity_regression_end_to_end(tmp_path: Path) -> None:
    """A history of a service peaking at ~150 req/s; tonight's build peaks ~30 % lower."""
    clean = write_ramp(tmp_path / "clean.ndjson", Ramp(seed=5))
    _store_history(tmp_path / "baselines", clean, _history(151.0, 0.02, n=12), _history(19.0, 0.03, n=12))
    slower = write_ramp(tmp_path / "slower.ndjson", Ramp(gamma=6.3, seed=6))
    out = io.StringIO()
    argv = ["capacity", str(slower), "--slo", "p(95)<150", "--baselines", str(tmp_path / "baselines")]
    code = main(
        [*argv, "--scenario", "ramp", "--record", "--report-dir", str(tmp_path / "rep"), "--format", "json"],
        stdout=out,
    )
    assert code == 1
    verdict = json.loads((tmp_path / "rep" / "verdict.json").read_text(encoding="utf-8"))
    assert verdict["verdict"] == "regression"
    peak = next(f for f in verdict["findings"] if f["metric"] == PEAK)
    assert peak["classification"] == "regression" and peak["change_ratio"] < 0.8
    stored = BaselineStore(tmp_path / "baselines").runs("ramp")
    assert len(stored) == 13 and stored[-1].verdict == "regression" and not stored[-1].usable_as_baseline
    assert stored[-1].record.value(PEAK, "value") == pytest.approx(
        json.loads(out.getvalue())["usl"]["peak_throughput"], rel=1e-3
    )
    assert (tmp_path / "rep" / "capacity.html").read_text(encoding="utf-8").count("<svg") == 4


def test_a_censored_max_safe_load_is_neither_stored_nor_judged(tmp_path: Path) -> None:
    from perfgate.adapters.capacity_files import load_ramp_points
    from perfgate.core.capacity.failure import parse_slo
    from perfgate.core.capacity.study import StudyOptions, compute_capacity
    from perfgate.core.capacity.windows import compute_windows

    raw = write_ramp(tmp_path / "raw.ndjson", Ramp(steps=(2, 4, 6, 8, 10)))
    windows = compute_windows(load_ramp_points(raw), 2.0)
    result = compute_capacity(
        windows, parse_slo(["p(95)<5000"]), StudyOptions(source="x", slo_texts=[], window_s=2.0)
    )
    assert result.max_safe_users.limited_by == "range"
    assert set(capacity_metrics(result)) == {PEAK}
