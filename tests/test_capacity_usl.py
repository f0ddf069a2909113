"""USL fit: R's published specsdm91 fit, synthetic data of known α, β, γ, and `perfgate capacity usl`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from perfgate.cli import main
from perfgate.core.capacity.usl import UslFitError, fit_usl, peak, usl_band, usl_throughput

SPECSDM91 = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "usl" / "specsdm91.csv"
FIXTURE = Path(__file__).parent / "fixtures" / "usl" / "specsdm91.csv"

# R usl (Stefan Moeding, BSD-2) on specsdm91: README/tests of the package, see fixtures/usl/README.md
R_FIT = {
    "alpha": 0.0277285,
    "beta": 0.0001044,
    "gamma": 89.9952330,
    "peak_load": 96.51956,
    "peak_throughput": 1884.0,
}
R_CI = {"alpha": (0.01000, 0.04545), "beta": (0.0000657, 0.000143), "gamma": (62.38, 117.61)}
R_SE = {"alpha": 0.0091217, "beta": 0.0000199, "gamma": 14.2134894}


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, stdout=out), out.getvalue()


def _load() -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(FIXTURE, delimiter=",", skiprows=1)
    return data[:, 0], data[:, 1]


def _close(ours: float, theirs: float, within: float = 0.02) -> bool:
    return abs(ours - theirs) <= within * abs(theirs)


def test_specsdm91_agrees_with_r_within_2_percent() -> None:
    code, text = _run(["capacity", "usl", str(FIXTURE), "--format", "json"])
    assert code == 0
    fit = json.loads(text)
    assert {"alpha", "beta", "gamma", "peak_load", "peak_throughput", "r_squared", "ci"} <= fit.keys()
    for key, theirs in R_FIT.items():
        assert _close(fit[key], theirs), (key, fit[key], theirs)
    for key, (low, high) in R_CI.items():
        assert _close(fit["ci"][key][0], low) and _close(fit["ci"][key][1], high), (key, fit["ci"][key])
        assert _close(fit["std_errors"][key], R_SE[key]), key
    assert _close(fit["residual_se"], 82.8)


def test_textbook_interval_is_wider_than_rs_by_the_ratio_of_t_quantiles() -> None:
    fit = fit_usl(*_load())
    for r_ci, t_ci in ((fit.ci.alpha, fit.ci_textbook.alpha), (fit.ci.gamma, fit.ci_textbook.gamma)):
        ratio = (t_ci[1] - t_ci[0]) / (r_ci[1] - r_ci[0])
        assert ratio == pytest.approx(2.776 / 1.943, rel=1e-3)  # qt(0.975, 4) / qt(0.95, 6)


def test_the_fixture_is_the_shared_dataset() -> None:
    if not SPECSDM91.is_file():
        pytest.skip("the shared dataset folder is not mounted here")
    assert FIXTURE.read_bytes() == SPECSDM91.read_bytes()


@pytest.mark.parametrize(
    ("alpha", "beta", "gamma"), [(0.02, 0.0004, 9.0), (0.08, 0.00002, 150.0), (0.002, 0.001, 40.0)]
)
def test_synthetic_coefficients_are_recovered_within_their_intervals(
    alpha: float, beta: float, gamma: float
) -> None:
    load = np.repeat([1.0, 2, 4, 8, 16, 24, 32, 48, 64, 96], 3)
    truth = usl_throughput(load, alpha, beta, gamma)
    covered = {"alpha": 0, "beta": 0, "gamma": 0}
    for seed in range(40):  # homoscedastic noise, the least-squares model's own assumption
        noise = np.random.default_rng(seed).normal(0, 0.02 * truth.max(), load.size)
        fit = fit_usl(load, np.abs(truth + noise))
        for name in covered:
            low, high = getattr(fit.ci_textbook, name)
            covered[name] += low <= {"alpha": alpha, "beta": beta, "gamma": gamma}[name] <= high
    # a 95 % interval covers the truth in about 38 of 40 noisy samples; 34 is ~3 binomial sigmas below
    assert all(count >= 34 for count in covered.values()), covered


def test_noise_free_data_gives_back_the_coefficients_exactly() -> None:
    load = np.array([1.0, 4, 8, 16, 32, 64, 128])
    fit = fit_usl(load, usl_throughput(load, 0.05, 0.0002, 20.0))
    assert (fit.alpha, fit.beta, fit.gamma) == pytest.approx((0.05, 0.0002, 20.0), rel=1e-6)
    assert fit.peak_load == pytest.approx(np.sqrt(0.95 / 0.0002), rel=1e-6)
    assert fit.r_squared == pytest.approx(1.0)


def test_without_coherency_there_is_no_peak_only_the_amdahl_ceiling() -> None:
    assert peak(0.1, 0.0, 10.0) == (None, pytest.approx(100.0))
    load = np.array([1.0, 2, 4, 8, 16, 32])
    fit = fit_usl(load, usl_throughput(load, 0.1, 0.0, 10.0))
    assert fit.beta < 1e-6
    assert "no measurable coherency" in fit.reading or (fit.peak_load is not None and fit.peak_load > 1000)


def test_band_contains_the_fitted_curve_and_widens_away_from_the_data() -> None:
    fit = fit_usl(*_load())
    grid = np.array([36.0, 300.0])
    low, high = usl_band(fit, grid)
    centre = usl_throughput(grid, fit.alpha, fit.beta, fit.gamma)
    assert np.all(low < centre) and np.all(centre < high)
    assert (high - low)[1] > (high - low)[0]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, 10), (2, 20), (3, 29)], "at least 4 points"),
        ([(2, 10), (2, 11), (4, 20), (4, 21)], "3 distinct loads"),
        ([(0, 10), (2, 20), (3, 29), (4, 35)], "load must be > 0"),
    ],
)
def test_unfittable_data_is_refused(rows: list[tuple[float, float]], message: str) -> None:
    load, throughput = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    with pytest.raises(UslFitError, match=message):
        fit_usl(load, throughput)


def test_cli_bad_csv_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("load,throughput\n1,10\n2,abc\n", encoding="utf-8")
    assert _run(["capacity", "usl", str(bad)])[0] == 3
    assert "bad.csv: row 3" in capsys.readouterr().err
    few = tmp_path / "few.csv"
    few.write_text("1,10\n2,19\n", encoding="utf-8")
    assert _run(["capacity", "usl", str(few)])[0] == 3
    assert _run(["capacity", "usl", str(tmp_path / "missing.csv")])[0] == 3
    assert _run(["capacity", "usl"])[0] == 2


def test_cli_text_and_markdown_show_both_intervals() -> None:
    code, text = _run(["capacity", "usl", str(FIXTURE)])
    assert code == 0 and "R-style CI [0.01, 0.04545]" in text and "N* = 96.52" in text
    code, markdown = _run(["capacity", "usl", str(FIXTURE), "--format", "markdown"])
    assert code == 0 and "| R usl `confint()` | two-sided 95 % t |" in markdown
