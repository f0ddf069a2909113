"""Properties of detect_regressions (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_detect_synth import ENDPOINTS, synth_run

from perfgate.core.detect import DetectorTuning, detect_regressions
from perfgate.models import MetricRule, MetricSeries, Policy, RunRecord

TODAY = date(2026, 3, 1)
FAST = DetectorTuning(use_context_model=False, use_isolation_forest=False)
# Without the absolute floor (in ms) the latency rules are scale-free, as the property needs.
SCALE_FREE = Policy(
    rules=[
        MetricRule(
            match="http_req_duration{name:*}",
            stats=["p(95)", "p(99)"],
            direction="higher_is_worse",
            unit="ms",
        )
    ]
)


def _scaled(run: RunRecord, factor: float) -> RunRecord:
    """Every time measurement (trends) × factor; counts, rates and CPU untouched."""
    metrics: dict[str, MetricSeries] = {}
    for key, series in run.metrics.items():
        if series.type == "trend":
            values = {k: (v if k == "count" else v * factor) for k, v in series.values.items()}
            series = series.model_copy(update={"values": values})
        metrics[key] = series
    return run.model_copy(update={"metrics": metrics})


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    factor=st.floats(0.05, 20.0),
    endpoint=st.sampled_from(sorted(ENDPOINTS)),
    step=st.sampled_from([1.0, 1.12, 1.3, 2.0]),
    runner=st.sampled_from([1.0, 1.3]),
)
def test_scaling_history_and_candidate_keeps_the_latency_verdict(
    seed: int, factor: float, endpoint: str, step: float, runner: float
) -> None:
    rng = np.random.default_rng(seed)
    history = [synth_run(rng) for _ in range(15)]
    candidate = synth_run(rng, endpoint_scale={endpoint: step}, runner=runner)
    plain = detect_regressions(candidate, history, SCALE_FREE, today=TODAY, settings=FAST)
    scaled = detect_regressions(
        _scaled(candidate, factor),
        [_scaled(r, factor) for r in history],
        SCALE_FREE,
        today=TODAY,
        settings=FAST,
    )
    assert scaled.verdict == plain.verdict
    assert [f.classification for f in scaled.findings] == [f.classification for f in plain.findings]


def _median_candidate(history: list[RunRecord]) -> RunRecord:
    """The last run with every stat of every metric replaced by its median over the history."""
    candidate = history[-1]
    metrics = {}
    for key, series in candidate.metrics.items():
        values = {}
        for stat in series.values:
            seen = [v for r in history if (v := r.value(key, stat)) is not None]
            values[stat] = float(np.median(seen))
        metrics[key] = series.model_copy(update={"values": values})
    return candidate.model_copy(update={"metrics": metrics})


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    runs=st.integers(1, 40),
    noise=st.sampled_from([0.0, 0.01, 0.05, 0.3]),
    swings=st.booleans(),
)
def test_candidate_equal_to_the_history_median_is_never_a_regression(
    seed: int, runs: int, noise: float, swings: bool
) -> None:
    rng = np.random.default_rng(seed)
    history = [synth_run(rng, noise=noise, runner=1.5 if swings and i % 3 == 0 else 1.0) for i in range(runs)]
    policy = Policy()
    candidate = _median_candidate(history)
    detection = detect_regressions(candidate, history, policy, today=TODAY, random_state=seed)
    assert detection.verdict != "regression"
    assert not [f for f in detection.findings if f.classification == "regression"]
