"""The capacity study on synthetic ramps of known USL behaviour, its parts, and `perfgate capacity RUN`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from capacity_synth import Ramp, write_ramp

from perfgate.adapters.capacity_files import load_ramp_points
from perfgate.cli import main
from perfgate.core.capacity.failure import Slo, failure_study, parse_slo
from perfgate.core.capacity.safe import latency_crossing, load_grid, max_safe_users
from perfgate.core.capacity.windows import compute_windows
from perfgate.models.capacity import CapacityWindow, FailureCrossings

SLO = ["--slo", "p(95)<150", "--slo", "rate<0.01"]


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, stdout=out), out.getvalue()


@pytest.fixture(scope="module")
def clean_ramp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ramp(tmp_path_factory.mktemp("ramp") / "raw.ndjson.gz", Ramp())


@pytest.fixture(scope="module")
def clean_result(clean_ramp: Path) -> dict[str, object]:
    code, text = _run(["capacity", str(clean_ramp), *SLO, "--format", "json"])
    assert code == 0
    return dict(json.loads(text))


def _crossing(ramp: Ramp, limit_ms: float) -> float:
    """Users where the synthetic service's true p95 reaches `limit_ms` (lognormal p95 of the mean)."""
    grid = np.linspace(1, 100, 9901)
    p95 = np.array([ramp.mean_ms(n) for n in grid]) * np.exp(1.6449 * ramp.sigma - ramp.sigma**2 / 2)
    return float(grid[np.argmax(p95 >= limit_ms)])


def test_windows_are_the_settled_steps(clean_ramp: Path) -> None:
    windows = compute_windows(load_ramp_points(clean_ramp), 2.0)
    ramp = Ramp()
    assert sorted({w.users for w in windows}) == [float(n) for n in ramp.steps]
    for w in windows:
        assert w.throughput_rps == pytest.approx(ramp.throughput(w.users), rel=0.35)
        assert w.error_rate == 0.0


def test_json_carries_the_promised_keys_and_the_inputs(clean_result: dict[str, object]) -> None:
    assert {
        "max_safe_users",
        "failure_probability",
        "models",
        "anomalies",
        "usl",
        "inputs",
    } <= clean_result.keys()
    models = clean_result["models"]
    assert isinstance(models, dict)
    assert set(models) == {"gradient_boosting", "random_forest", "voting", "usl_little"}
    assert all({"mae_ms", "r2", "holdout_mape"} == set(score) for score in models.values())
    inputs = clean_result["inputs"]
    assert isinstance(inputs, dict)
    assert inputs["slo"] == ["p(95)<150", "rate<0.01"] and inputs["holdout_steps"] == [55.0, 70.0]
    assert inputs["think_time_s"] == pytest.approx(0.1, abs=0.01)


def test_usl_of_the_ramp_recovers_the_service_within_its_intervals(clean_result: dict[str, object]) -> None:
    usl = clean_result["usl"]
    assert isinstance(usl, dict)
    ramp = Ramp()
    for name in ("alpha", "beta", "gamma"):
        low, high = usl["ci_textbook"][name]
        assert low <= getattr(ramp, name) <= high, (name, usl[name], usl["ci_textbook"][name])


def test_physics_wins_the_extrapolation_and_trees_do_not(clean_result: dict[str, object]) -> None:
    models = clean_result["models"]
    assert isinstance(models, dict)
    assert clean_result["chosen_model"] == "usl_little"
    assert models["usl_little"]["mae_ms"] < models["random_forest"]["mae_ms"]


def test_predicted_crossings_bracket_the_true_one_and_max_safe_stays_below(
    clean_result: dict[str, object],
) -> None:
    truth = _crossing(Ramp(), 150.0)  # where the service's expected p95 reaches the SLO
    latency, failure, safe = (
        clean_result[key] for key in ("latency_crossing", "failure_crossings", "max_safe_users")
    )
    assert isinstance(latency, dict) and isinstance(failure, dict) and isinstance(safe, dict)
    assert latency["interval"][0] <= truth <= latency["interval"][1], (truth, latency)
    assert failure["p50_interval"][0] <= truth <= failure["p50_interval"][1], (truth, failure)
    assert 0.5 * truth <= safe["users"] <= truth and safe["extrapolated"] is False, (truth, safe)


def test_an_error_burst_and_a_pause_are_anomalies_not_capacity(tmp_path: Path) -> None:
    path = write_ramp(tmp_path / "raw.ndjson", Ramp(bursts={30: 0.4}, pauses={50: 6.0}))
    code, text = _run(["capacity", str(path), *SLO, "--format", "json"])
    assert code == 0
    anomalies = json.loads(text)["anomalies"]
    assert {(a["users"], a["start_s"]) for a in anomalies} == {(20.0, 30.0), (40.0, 50.0)}
    assert "error rate" in anomalies[0]["reason"] and "p95" in anomalies[1]["reason"]


def test_a_clean_ramp_has_no_anomalies(clean_result: dict[str, object]) -> None:
    assert clean_result["anomalies"] == []


def _window(users: float, p95: float, errors: float = 0.0) -> CapacityWindow:
    return CapacityWindow(
        start_s=0, end_s=2, users=users, requests=100, throughput_rps=50, mean_ms=p95 / 2, p50_ms=p95 / 2,
        p95_ms=p95, error_rate=errors,
    )  # fmt: skip


def test_failure_probability_crosses_where_violations_begin() -> None:
    windows = [_window(n, 10.0 * n) for n in (2, 4, 6, 8, 10, 12, 14, 16, 18, 20) for _ in range(3)]
    grid = load_grid(2, 20)
    curve, crossings, model = failure_study(windows, Slo(latency_ms=105.0), grid, seed=0)
    assert model is not None and crossings.violations == 15
    assert crossings.p50_users is not None and 9 <= crossings.p50_users <= 12
    assert crossings.p05_users is not None and crossings.p05_users < crossings.p50_users
    assert crossings.p05_interval is not None and crossings.p05_interval[0] <= crossings.p05_users
    assert curve[0].p < 0.05 < 0.95 < curve[-1].p


def test_no_violation_means_no_curve_and_says_so() -> None:
    windows = [_window(n, 5.0) for n in (2, 4, 8, 16)]
    curve, crossings, model = failure_study(windows, Slo(latency_ms=100.0), load_grid(2, 16), seed=0)
    assert model is None and crossings.p05_users is None and "no window broke the SLO" in crossings.note
    assert all(point.p == 0.0 for point in curve)


def test_max_safe_never_reaches_past_one_and_a_half_times_the_measured_load_silently() -> None:
    grid = load_grid(2, 40)
    flat = np.full(grid.size, 20.0)
    result = max_safe_users(
        grid, latency_crossing(grid, flat, np.array([1.0]), 100.0), FailureCrossings(violations=0), 40
    )
    assert result.users == pytest.approx(60.0) and result.limited_by == "range" and result.extrapolated
    assert "not extrapolated further" in result.note
    rising = grid * 2.0  # crosses 100 ms at 50 users: beyond the measured 40
    beyond = max_safe_users(
        grid, latency_crossing(grid, rising, np.array([4.0]), 100.0), FailureCrossings(violations=0), 40
    )
    assert beyond.extrapolated and beyond.limited_by == "latency" and "extrapolated" in beyond.note
    assert beyond.interval is not None and beyond.interval[0] <= 50 <= beyond.interval[1]


@pytest.mark.parametrize(
    ("texts", "message"),
    [(["p(99)<300"], "cannot be judged per window"), (["rate>0.9"], "not an upper limit"), ([], "no SLO")],
)
def test_bad_slo_expressions_name_themselves(texts: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_slo(texts)


def test_cli_bad_inputs(tmp_path: Path, clean_ramp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["capacity", str(clean_ramp), "--slo", "p(99)<3"])[0] == 2
    assert _run(["capacity", str(clean_ramp), "--slo", "p(95)<3", "--window", "0"])[0] == 2
    assert _run(["capacity", str(clean_ramp), "--slo", "p(95)<3", "--record"])[0] == 2
    assert _run(["capacity", str(tmp_path / "nope"), "--slo", "p(95)<3"])[0] == 3
    flat = write_ramp(tmp_path / "flat.ndjson", Ramp(steps=(5, 5, 10)))
    assert _run(["capacity", str(flat), "--slo", "p(95)<3"])[0] == 3
    assert "load level" in capsys.readouterr().err


def test_cli_ramp_options_are_checked_before_anything_runs(tmp_path: Path, clean_ramp: Path) -> None:
    script = tmp_path / "mine.js"
    script.write_text("export default function () {}\n", encoding="utf-8")
    slo = ["--slo", "p(95)<100"]
    assert _run(["capacity", "--script", str(script), *slo])[0] == 2  # no target
    assert (
        _run(
            ["capacity", str(clean_ramp), "--script", str(script), "--base-url", "http://127.0.0.1:9", *slo]
        )[0]
        == 2
    )
    assert _run(["capacity", *slo])[0] == 2  # nothing to study
    assert not (tmp_path / ".perfgate").exists()


def test_csv_raw_points_give_the_same_windows_as_ndjson(tmp_path: Path, clean_ramp: Path) -> None:
    import gzip

    rows = ["metric_name,timestamp,metric_value,name,extra_tags,metadata"]
    for line in gzip.decompress(clean_ramp.read_bytes()).decode().splitlines():
        point = json.loads(line)
        stamp = point["data"]["time"]
        micros = round((np.datetime64(stamp.rstrip("Z"), "us") - np.datetime64(0, "us")).astype(int))
        rows.append(
            f"{point['metric']},{micros},{point['data']['value']},{point['data']['tags'].get('name', '')},,"
        )
    csv = tmp_path / "raw.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    from_csv = compute_windows(load_ramp_points(csv), 2.0)
    from_ndjson = compute_windows(load_ramp_points(clean_ramp), 2.0)
    assert [(w.users, w.requests, w.p95_ms) for w in from_csv] == [
        (w.users, w.requests, w.p95_ms) for w in from_ndjson
    ]


def test_a_usl_peak_beyond_the_measured_loads_is_called_extrapolated(tmp_path: Path) -> None:
    raw = write_ramp(tmp_path / "raw.ndjson", Ramp(steps=(2, 5, 10, 20, 30)))
    code, text = _run(["capacity", str(raw), "--slo", "p(95)<1000"])
    assert code == 0
    assert "beyond the highest measured load, 30 users: extrapolated by the USL" in text


def test_when_every_window_breaks_the_slo_nothing_is_safe() -> None:
    windows = [_window(n, 500.0) for n in (2, 4, 8, 16)]
    grid = load_grid(2, 16)
    _, crossings, _ = failure_study(windows, Slo(latency_ms=100.0), grid, seed=0)
    result = max_safe_users(grid, None, crossings, 16)
    assert result.users is None and result.limited_by == "failure" and "every window broke" in result.note
