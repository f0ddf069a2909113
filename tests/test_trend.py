"""scan_trend and the PELT change-point search on seeded synthetic series."""

from __future__ import annotations

import numpy as np
import pytest
import ruptures
from test_detect_synth import synth_run

from perfgate.core.detect import scan_trend
from perfgate.core.detect.changepoints import detect_change_points, pelt_l2
from perfgate.models import Policy, RunRecord


def _history(
    seed: int, runs: int, step_at: int | None = None, endpoint: str = "search_notes", size: float = 1.3
):
    rng = np.random.default_rng(seed)
    out: list[tuple[str, RunRecord]] = []
    for i in range(runs):
        scale = {endpoint: size} if step_at is not None and i >= step_at else None
        out.append((f"run-{i:03d}", synth_run(rng, endpoint_scale=scale)))
    return out


@pytest.mark.parametrize(("seed", "step_at"), [(0, 20), (1, 35), (2, 12), (3, 50)])
def test_step_is_located_within_two_runs(seed: int, step_at: int) -> None:
    report = scan_trend(_history(seed, 60, step_at), Policy())
    trend = next(
        m for m in report.metrics if m.metric == "http_req_duration{name:search_notes}" and m.stat == "p(95)"
    )
    assert len(trend.change_points) == 1
    point = trend.change_points[0]
    assert abs(point.index - step_at) <= 2
    assert point.run_id == f"run-{point.index:03d}"
    assert point.change_ratio == pytest.approx(1.3, abs=0.06)
    assert point.classification == "regression"
    assert point.mean_after > point.mean_before


@pytest.mark.parametrize("seed", range(8))
def test_noise_only_has_no_change_points(seed: int) -> None:
    report = scan_trend(_history(seed, 80), Policy())
    assert report.metrics
    assert all(not m.change_points for m in report.metrics), [
        (m.metric, m.stat, m.change_points) for m in report.metrics if m.change_points
    ]


def test_improvement_is_classified() -> None:
    report = scan_trend(_history(9, 40, step_at=25, endpoint="get_note", size=0.6), Policy())
    trend = next(
        m for m in report.metrics if m.metric == "http_req_duration{name:get_note}" and m.stat == "p(95)"
    )
    assert [p.classification for p in trend.change_points] == ["improvement"]


def test_constant_and_short_series() -> None:
    assert detect_change_points(np.full(50, 7.0)) == []
    assert detect_change_points(np.array([1.0, 2.0])) == []
    step = np.concatenate([np.full(20, 5.0), np.full(20, 9.0)])
    assert detect_change_points(step) == [20]
    report = scan_trend(_history(0, 3), Policy())
    assert report.notices and "at least 6" in report.notices[0]


@pytest.mark.parametrize("seed", range(20))
def test_pelt_matches_ruptures(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 90))
    values = rng.normal(size=n) + np.repeat(rng.normal(0, 2, 3), -(-n // 3))[:n]
    penalty = float(rng.uniform(1, 12))
    expected = ruptures.Pelt(model="l2", min_size=3, jump=1).fit(values).predict(pen=penalty)[:-1]
    assert pelt_l2(values, penalty, 3) == expected


@pytest.mark.parametrize("seed", range(4))
def test_pelt_matches_ruptures_on_long_series_with_pruning_and_ties(seed: int) -> None:
    """Long stable stretches (no candidate pruned), steps (many pruned) and rounded values (ties)."""
    rng = np.random.default_rng(100 + seed)
    values = np.round(rng.normal(size=400) + np.repeat(rng.normal(0, 3, 5), 80), 1)
    penalty = 4 * float(np.log(values.size))
    expected = ruptures.Pelt(model="l2", min_size=3, jump=1).fit(values).predict(pen=penalty)[:-1]
    assert pelt_l2(values, penalty, 3) == expected


def _busy_history(seed: int, runs: int, busy_every: int, runner: float) -> list[tuple[str, RunRecord]]:
    """Clean runs with an isolated busy-runner run (every endpoint ×`runner`) every `busy_every` runs."""
    rng = np.random.default_rng(seed)
    return [
        (f"run-{i:03d}", synth_run(rng, runner=runner if i % busy_every == busy_every - 1 else 1.0))
        for i in range(runs)
    ]


def test_isolated_busy_runs_are_left_out_of_the_raw_scan() -> None:
    history = _busy_history(4, 60, busy_every=7, runner=4.0)
    report = scan_trend(history, Policy())
    busy_ids = [run_id for i, (run_id, _) in enumerate(history) if i % 7 == 6]
    (notice,) = [n for n in report.notices if "busy runner" in n]
    assert all(run_id in notice for run_id in busy_ids)
    assert not [p for m in report.metrics for p in m.change_points if p.classification != "noise"]
    trend = next(m for m in report.metrics if m.metric == "http_req_duration{name:get_note}")
    assert trend.runs == 60  # the runs are still counted as measured


def test_a_level_shift_of_every_endpoint_together_is_the_runners() -> None:
    rng = np.random.default_rng(6)
    history = [(f"run-{i:03d}", synth_run(rng, runner=1.6 if i >= 30 else 1.0)) for i in range(60)]
    report = scan_trend(history, Policy())
    latency = [m for m in report.metrics if m.metric.startswith("http_req_duration{name:")]
    points = [p for m in latency for p in m.change_points]
    assert points and all(abs(p.index - 30) <= 2 for p in points)
    assert {p.classification for p in points} == {"noise"}


def test_one_endpoint_step_stays_a_regression_beside_busy_runs() -> None:
    rng = np.random.default_rng(7)
    history = [
        (
            f"run-{i:03d}",
            synth_run(
                rng,
                runner=4.0 if i % 9 == 4 else 1.0,
                endpoint_scale={"search_notes": 1.3} if i >= 33 else None,
            ),
        )
        for i in range(60)
    ]
    report = scan_trend(history, Policy())
    trend = next(
        m for m in report.metrics if m.metric == "http_req_duration{name:search_notes}" and m.stat == "p(95)"
    )
    found = [p for p in trend.change_points if p.classification == "regression"]
    assert found and abs(found[0].index - 33) <= 2


def _ar1(seed: int, phi: float, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n)
    out = np.zeros(n)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + noise[i]
    return out


def test_ar1_inflation_is_one_for_iid_noise_and_large_for_a_wandering_level() -> None:
    from perfgate.core.detect.changepoints import ar1_inflation

    assert ar1_inflation(np.random.default_rng(0).normal(size=300), []) == 1.0
    inflation = ar1_inflation(_ar1(0, 0.8), [])
    assert 2.0 < inflation < 3.5  # sqrt(1.8 / 0.2) = 3 for phi = 0.8


@pytest.mark.parametrize("seed", range(5))
def test_wandering_noise_is_not_cut_into_a_staircase(seed: int) -> None:
    assert len(detect_change_points(_ar1(seed, 0.8))) <= 1


def test_a_contention_burst_where_writes_slow_more_is_the_runners() -> None:
    """Three runs on a busy runner: every endpoint slower, the writes ×3 more (as in the demo
    history): the scan finds the burst but calls every change in it noise."""
    rng = np.random.default_rng(8)
    writes = {"create_note": 3.0, "update_note": 3.0, "delete_note": 3.0}
    history = [
        (
            f"run-{i:03d}",
            synth_run(rng, runner=1.5, endpoint_scale=writes) if 20 <= i < 23 else synth_run(rng),
        )
        for i in range(40)
    ]
    report = scan_trend(history, Policy())
    points = [p for m in report.metrics for p in m.change_points]
    assert any(abs(p.index - 20) <= 1 for p in points)
    assert {p.classification for p in points} <= {"noise"}, [
        (m.metric, m.stat, p.index, p.space, p.classification)
        for m in report.metrics
        for p in m.change_points
    ]
