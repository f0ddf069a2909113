"""The learned detectors: conformal context regressor and Isolation Forest (seeded)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from test_detect_synth import synth_run

from perfgate.core.detect import DetectorTuning, detect_regressions
from perfgate.core.detect.learned import conformal_p_values, cv_plus_p_values, run_is_anomalous

TODAY = date(2026, 3, 1)


def _linear_data(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = np.column_stack([2 * x[:, 0] + rng.normal(0, 0.1, n), -x[:, 1] + rng.normal(0, 0.1, n)])
    return x, y


def test_conformal_p_value_explains_context_and_flags_outliers() -> None:
    x, y = _linear_data(0)
    x_cand = np.array([[0.5, 0.0, 0.0]])
    explained = conformal_p_values(x, y, x_cand, np.array([[1.0, 0.0]]), random_state=0)
    assert min(explained) > 0.05  # high, but the context says so
    outlier = conformal_p_values(x, y, x_cand, np.array([[6.0, 3.0]]), random_state=0)
    assert outlier == pytest.approx([1 / 61, 1 / 61])


@pytest.mark.parametrize("kind", ["gbr", "voting"])
def test_cv_plus_models_agree_on_an_outlier(kind: str) -> None:
    x, y = _linear_data(1)
    p_values = cv_plus_p_values(x, y, np.array([[0.0, 0.0, 0.0]]), np.array([[5.0, 0.0]]), 0, kind)
    assert p_values[0] == pytest.approx(1 / 61)
    assert p_values[1] > 0.05


def test_isolation_forest_flags_a_run_unlike_the_history() -> None:
    x, _ = _linear_data(2)
    assert run_is_anomalous(x, np.array([[0.1, -0.2, 0.0]]), random_state=0)[0] is False
    assert run_is_anomalous(x, np.array([[8.0, -8.0, 8.0]]), random_state=0)[0] is True


@pytest.mark.parametrize("kind", ["rf", "gbr", "voting"])
def test_full_detection_with_each_context_model(kind: str) -> None:
    rng = np.random.default_rng(3)
    history = [synth_run(rng) for _ in range(30)]
    settings = DetectorTuning(use_context_model=True, use_isolation_forest=True, context_model=kind)  # type: ignore[arg-type]
    step = detect_regressions(
        synth_run(rng, endpoint_scale={"list_notes": 1.5}), history, _policy(), today=TODAY, settings=settings
    )
    assert step.verdict == "regression"
    finding = next(f for f in step.findings if f.classification == "regression")
    assert {"robust_pi", "context_model"} <= set(finding.detectors)
    clean = detect_regressions(synth_run(rng), history, _policy(), today=TODAY, settings=settings)
    assert clean.verdict in ("pass", "noise")


def test_models_are_skipped_with_a_short_history() -> None:
    rng = np.random.default_rng(4)
    history = [synth_run(rng) for _ in range(8)]
    learned = DetectorTuning(use_context_model=True, use_isolation_forest=True)
    detection = detect_regressions(synth_run(rng), history, _policy(), today=TODAY, settings=learned)
    assert any("skipped" in notice for notice in detection.notices)


def _policy():  # type: ignore[no-untyped-def]
    from perfgate.models import Policy

    return Policy()
