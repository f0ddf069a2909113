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
