"""Seeded synthetic k6 runs for the detection tests (helpers + a check that they are sane).

Each run has per-endpoint latency trends, per-endpoint error rates with pass/fail counts, k6's
own timings (sending, receiving, blocked, iteration_duration), throughput and target CPU.
`runner` > 1 simulates a slow (contended) runner: every endpoint and k6 itself slow down.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from perfgate.models import MetricSeries, ResourceUsage, RunContext, RunRecord

ENDPOINTS: dict[str, float] = {
    "list_notes": 20.0,
    "get_note": 12.0,
    "create_note": 30.0,
    "update_note": 28.0,
    "delete_note": 15.0,
    "search_notes": 45.0,
}
REQUESTS_PER_ENDPOINT = 400
DURATION_S = 10.0


def _trend(p95: float, count: float) -> MetricSeries:
    values = {"avg": p95 * 0.5, "med": p95 * 0.45, "p(90)": p95 * 0.85, "p(95)": p95, "p(99)": p95 * 1.4}
    return MetricSeries(type="trend", contains="time", values={**values, "count": count})


def _failed(rate: float, count: int) -> MetricSeries:
    fails = round(rate * count)
    return MetricSeries(type="rate", values={"rate": fails / count, "passes": fails, "fails": count - fails})


def synth_run(
    rng: np.random.Generator,
    *,
    scale: float = 1.0,
    endpoint_scale: Mapping[str, float] | None = None,
    error_rate: Mapping[str, float] | None = None,
    noise: float = 0.04,
    runner: float = 1.0,
    cpu_per_req: float = 0.5,
) -> RunRecord:
    """One run; `scale` multiplies every endpoint (a global code change when `runner` is 1)."""
    factor = scale * runner * float(np.exp(rng.normal(0.0, noise / 2)))
    metrics: dict[str, MetricSeries] = {}
    total = 0
    avg_sum = 0.0
    for name, p95 in ENDPOINTS.items():
        own = (endpoint_scale or {}).get(name, 1.0) * float(np.exp(rng.normal(0.0, noise)))
        value = p95 * factor * own
        count = REQUESTS_PER_ENDPOINT
        metrics[f"http_req_duration{{name:{name}}}"] = _trend(value, count)
        base_errors = max(float(rng.normal(0.0005, 0.0005)), 0.0)
        metrics[f"http_req_failed{{name:{name}}}"] = _failed((error_rate or {}).get(name, base_errors), count)
        total += count
        avg_sum += value * 0.5 * count
    k6_jitter = float(np.exp(rng.normal(0.0, 0.03)))
    request_avg = avg_sum / total
    iterations = total // len(ENDPOINTS)
    overhead = 2.0 * runner * k6_jitter
    overall = _trend(request_avg * 2, total)
    metrics["http_req_duration"] = overall.model_copy(
        update={"values": {**overall.values, "avg": request_avg}}
    )
    metrics["http_req_sending"] = MetricSeries(type="trend", values={"avg": 0.02 * runner * k6_jitter})
    metrics["http_req_receiving"] = MetricSeries(type="trend", values={"avg": 0.05 * runner * k6_jitter})
    metrics["http_req_blocked"] = MetricSeries(type="trend", values={"avg": 0.01 * runner * k6_jitter})
    iteration_ms = request_avg * len(ENDPOINTS) + overhead + 100.0
    metrics["iteration_duration"] = MetricSeries(type="trend", values={"avg": iteration_ms})
    rps = total / DURATION_S
    metrics["http_reqs"] = MetricSeries(type="counter", values={"count": total, "rate": rps})
    metrics["checks"] = MetricSeries(type="rate", values={"rate": 1.0, "passes": total, "fails": 0})
    cpu = cpu_per_req * rps * float(np.exp(rng.normal(0.0, 0.03)))
    return RunRecord(
        source_format="summary-export",
        source="synthetic",
        metrics=metrics,
        context=RunContext(
            duration_s=DURATION_S, vus_max=10, iterations=iterations, http_reqs=total, http_reqs_per_s=rps
        ),
        resources=ResourceUsage(source="synthetic", interval_s=1.0, cpu_mean_percent=cpu),
    )


def synth_history(seed: int, runs: int = 30, **kwargs: float) -> list[RunRecord]:
    rng = np.random.default_rng(seed)
    return [synth_run(rng, **kwargs) for _ in range(runs)]  # type: ignore[arg-type]


def test_synth_run_is_deterministic() -> None:
    first = synth_run(np.random.default_rng(1))
    again = synth_run(np.random.default_rng(1))
    assert first == again
    assert first.endpoints() == sorted(ENDPOINTS)


def test_runner_slows_every_endpoint_and_k6() -> None:
    slow = synth_run(np.random.default_rng(1), runner=1.5, noise=0.0)
    fast = synth_run(np.random.default_rng(1), noise=0.0)
    for name in ENDPOINTS:
        key = f"http_req_duration{{name:{name}}}"
        assert slow.value(key, "p(95)") == pytest.approx(1.5 * (fast.value(key, "p(95)") or 0))
    assert (slow.value("http_req_sending", "avg") or 0) > (fast.value("http_req_sending", "avg") or 0)
