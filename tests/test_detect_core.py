"""detect_regressions on seeded synthetic histories with exact expected outcomes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from test_detect_synth import ENDPOINTS, synth_run

from perfgate.core.detect import DetectorTuning, detect_regressions
from perfgate.core.detect.evidence import floors_exceeded
from perfgate.core.detect.extract import Target
from perfgate.models import Acknowledgement, MetricRule, Policy, RunRecord

TODAY = date(2026, 3, 1)
FAST = DetectorTuning(use_context_model=False, use_isolation_forest=False)


def _history(seed: int, runs: int = 30, swings: float = 0.0) -> tuple[np.random.Generator, list[RunRecord]]:
    """`swings`: share of runs on a slow runner (×1.3 everywhere, k6 itself slower too)."""
    rng = np.random.default_rng(seed)
    history = [synth_run(rng, runner=1.3 if rng.random() < swings else 1.0) for _ in range(runs)]
    return rng, history


def _detect(candidate: RunRecord, history: list[RunRecord], policy: Policy | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return detect_regressions(candidate, history, policy or Policy(), today=TODAY, settings=FAST, **kw)  # type: ignore[arg-type]


def _regressed(detection) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.metric for f in detection.findings if f.classification == "regression"}


@pytest.mark.parametrize("seed", range(12))
def test_noise_only_is_never_a_regression(seed: int) -> None:
    rng, history = _history(seed)
    detection = _detect(synth_run(rng), history)
    assert detection.verdict in ("pass", "noise")
    assert detection.exit_code == 0


def test_constant_history_mad_zero() -> None:
    rng, _ = _history(0)
    run = synth_run(rng, noise=0.0)
    history = [run] * 10
    same = _detect(run, history)
    assert same.verdict == "pass"
    assert all(f.change_ratio == pytest.approx(1.0) for f in same.findings if f.change_ratio is not None)
    slow = synth_run(np.random.default_rng(0), noise=0.0, endpoint_scale={"search_notes": 1.2})
    history = [synth_run(np.random.default_rng(0), noise=0.0)] * 10
    detection = _detect(slow, history)
    assert detection.verdict == "regression"
    assert _regressed(detection) == {"http_req_duration{name:search_notes}"}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_step_on_one_endpoint_names_that_endpoint(endpoint: str) -> None:
    rng, history = _history(3)
    detection = _detect(synth_run(rng, endpoint_scale={endpoint: 1.4}), history)
    assert detection.verdict == "regression"
    assert _regressed(detection) == {f"http_req_duration{{name:{endpoint}}}"}
    finding = next(f for f in detection.findings if f.classification == "regression")
    assert finding.endpoint == endpoint
    assert finding.change_ratio is not None and finding.change_ratio > 1.3
    assert finding.confidence > 0.99
    assert "robust_pi" in finding.detectors
    assert endpoint in detection.reason


def test_slow_runner_everywhere_is_noise_with_rerun_advice() -> None:
    rng, history = _history(4, swings=0.2)
    detection = _detect(synth_run(rng, runner=1.3), history)
    assert detection.verdict == "noise"
    assert "re-run the job" in detection.advice
    assert "re-run" not in detection.reason  # the advice is said once, in `advice`
    assert detection.environment["factor|p(95)"] == pytest.approx(1.3, abs=0.05)


def test_a_shift_within_the_runners_usual_swings_needs_no_rerun() -> None:
    rng = np.random.default_rng(14)
    history = [synth_run(rng, runner=float(rng.uniform(0.8, 1.25))) for _ in range(30)]
    detection = _detect(synth_run(rng, runner=1.2), history)
    assert detection.verdict in ("noise", "pass")
    assert "re-run" not in detection.reason
    assert "no re-run needed" in detection.advice or detection.verdict == "pass", detection.advice
    assert not any("re-run" in text for text in [*detection.notices, *(f.reason for f in detection.findings)])


def test_slow_runner_without_precedent_still_noise_when_k6_slowed_too() -> None:
    rng, history = _history(5)
    detection = _detect(synth_run(rng, runner=1.3), history)
    assert detection.verdict == "noise"
    assert detection.environment["contention_z"] > 3


def test_global_code_slowdown_is_a_regression() -> None:
    rng, history = _history(6)
    detection = _detect(synth_run(rng, scale=1.3, cpu_per_req=0.7), history)
    assert detection.verdict == "regression"
    assert len(_regressed(detection)) >= 4
    assert any("global code change" in n for n in detection.notices)


def test_one_endpoint_regression_on_a_slow_runner_is_still_caught() -> None:
    rng, history = _history(7, swings=0.2)
    detection = _detect(synth_run(rng, runner=1.3, endpoint_scale={"get_note": 1.5}), history)
    assert detection.verdict == "regression"
    assert _regressed(detection) == {"http_req_duration{name:get_note}"}
    finding = next(f for f in detection.findings if f.classification == "regression")
    assert "endpoint_excess" in finding.detectors


def test_error_bump_is_a_regression() -> None:
    rng, history = _history(8)
    detection = _detect(synth_run(rng, error_rate={"update_note": 0.02}), history)
    assert detection.verdict == "regression"
    assert _regressed(detection) == {"http_req_failed{name:update_note}"}
    finding = next(f for f in detection.findings if f.classification == "regression")
    assert "count_test" in finding.detectors


def test_improvement() -> None:
    rng, history = _history(9)
    detection = _detect(synth_run(rng, endpoint_scale={"search_notes": 0.6}), history)
    assert detection.verdict == "improvement"


def test_too_little_history_is_no_baseline_but_reports_baselines() -> None:
    rng, history = _history(10, runs=3)
    detection = _detect(synth_run(rng, endpoint_scale={"search_notes": 2.0}), history)
    assert detection.verdict == "no_baseline"
    assert detection.exit_code == 0
    assert all(f.baseline is not None for f in detection.findings)
    slow = next(f for f in detection.findings if f.metric == "http_req_duration{name:search_notes}")
    assert slow.classification == "warn"


def test_empty_history() -> None:
    rng, _ = _history(11, runs=0)
    detection = _detect(synth_run(rng), [])
    assert detection.verdict == "no_baseline"
    assert {f.classification for f in detection.findings} == {"no_baseline"}
    assert all(f.baseline is None for f in detection.findings)


def test_slow_drift_is_caught_before_twenty_percent() -> None:
    rng, history = _history(12, runs=20)
    caught_at = None
    for step in range(1, 15):
        candidate = synth_run(rng, endpoint_scale={"list_notes": 1.025**step})
        detection = _detect(candidate, history)
        if detection.verdict == "regression":
            caught_at = 1.025**step
            break
        history.append(candidate)
    assert caught_at is not None and caught_at < 1.2


def test_acknowledgements_active_and_expired() -> None:
    rng, history = _history(13)
    candidate = synth_run(rng, endpoint_scale={"search_notes": 1.5})
    active = Acknowledgement(metric="http_req_duration{name:search*}", until=TODAY, reason="JIRA-1 new index")
    expired = Acknowledgement(metric="http_req_duration{name:search*}", until=date(2026, 2, 1), reason="old")
    acked = _detect(candidate, history, Policy(acknowledgements=[active]))
    assert acked.verdict == "warn"
    assert acked.exit_code == 0
    assert all("JIRA-1" in f.reason for f in acked.findings if f.classification == "warn")
    stale = _detect(candidate, history, Policy(acknowledgements=[expired]))
    assert stale.verdict == "regression"
    assert any("expired on 2026-02-01" in n for n in stale.notices)


@pytest.mark.parametrize(
    ("direction", "observed", "baseline", "worse", "expected"),
    [
        ("higher_is_worse", 11.0, 10.0, True, False),  # +10 % but only +1 ms < 2 ms floor
        ("higher_is_worse", 12.5, 10.0, True, True),  # both floors exceeded
        ("higher_is_worse", 102.5, 100.0, True, False),  # +2.5 ms but ×1.025 < ×1.10
        ("higher_is_worse", 8.0, 10.0, False, True),  # improvement floors
        ("lower_is_worse", 8.0, 10.0, True, True),
        ("lower_is_worse", 10.0, 10.0, True, False),
    ],
)
def test_both_floors_must_be_exceeded(
    direction: str, observed: float, baseline: float, worse: bool, expected: bool
) -> None:
    rule = MetricRule(match="*", stats=["p(95)"], direction=direction, unit="ms", min_change_abs=2.0)  # type: ignore[arg-type]
    target = Target(metric="m", stat="p(95)", rule=rule, endpoint=None)
    assert floors_exceeded(target, observed, baseline, worse=worse) is expected


def test_significant_but_small_change_passes() -> None:
    rng = np.random.default_rng(14)
    history = [synth_run(rng, noise=0.002) for _ in range(30)]
    detection = _detect(synth_run(rng, noise=0.002, endpoint_scale={"get_note": 1.08}), history)
    assert detection.verdict == "pass"
    finding = next(f for f in detection.findings if f.metric == "http_req_duration{name:get_note}")
    assert "below the minimum effect" in finding.reason


def test_one_endpoint_regression_on_a_fast_runner_is_caught_relative_to_the_others() -> None:
    rng, history = _history(15, swings=0.2)
    detection = _detect(synth_run(rng, runner=0.7, endpoint_scale={"get_note": 1.4}), history)
    assert detection.verdict == "regression"
    finding = next(f for f in detection.findings if f.classification == "regression")
    assert finding.endpoint == "get_note"
    assert finding.change_ratio is not None and finding.change_ratio < 1.1  # raw p95 barely moved
    assert "on its own" in finding.reason
