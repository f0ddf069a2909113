"""Capacity study models: the USL fit, per-window measurements, the digital twin's scores, failure
probability, anomalies and the maximum safe load. All frozen; `CapacityResult` is what
`perfgate capacity RUN --format json` prints and what the nightly stores beside the run.

Units: users are k6 VUs (concurrency), throughput in requests/s (or the CSV's own unit for
`capacity usl`), latencies in ms, rates 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from perfgate.models.verdict import Verdict

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RampPoints:
    """The raw series a ramp run's windows are cut from; times in seconds since `t0` (epoch)."""

    t0: float
    duration: tuple[FloatArray, FloatArray]  # http_req_duration: (times, ms)
    failed: tuple[FloatArray, FloatArray]  # http_req_failed: (times, 0/1)
    vus: tuple[FloatArray, FloatArray]  # vus gauge, once a second
    cpu: tuple[FloatArray, FloatArray] | None = None  # target CPU % (100 = one core)
    rss: tuple[FloatArray, FloatArray] | None = None  # target RSS MB


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Interval = tuple[float, float]


class UslCoefficients(Frozen):
    alpha: Interval
    beta: Interval
    gamma: Interval


class UslStdErrors(Frozen):
    alpha: float
    beta: float
    gamma: float


class UslFit(Frozen):
    """X(N) = γN / (1 + α(N−1) + βN(N−1)) fitted by non-linear least squares."""

    alpha: float = Field(description="contention (serial fraction), 0-1")
    beta: float = Field(description="coherency (crosstalk) penalty, >= 0")
    gamma: float = Field(description="throughput of one user (the slope at N = 1)")
    peak_load: float | None = Field(description="N* = sqrt((1 - alpha) / beta); None when beta = 0")
    peak_throughput: float = Field(description="X(N*), or the Amdahl ceiling gamma/alpha when beta = 0")
    knee_load: float | None = Field(description="1/alpha (R usl's 'optimal scalability'), capped at N*")
    r_squared: float
    ci: UslCoefficients = Field(
        description="R usl's confint(): estimate ± std.error × qt(0.95, n − 1) (as the R package computes it)"
    )
    ci_textbook: UslCoefficients = Field(
        description="two-sided 95 % t-interval: estimate ± std.error × qt(0.975, n − 3)"
    )
    std_errors: UslStdErrors
    residual_se: float = Field(description="residual standard error, on n − 3 degrees of freedom")
    n: int = Field(ge=3, description="points fitted")
    covariance: list[list[float]] = Field(description="3×3 covariance of (alpha, beta, gamma)")
    reading: str = Field(description="the contention/coherency reading in words")


class CapacityWindow(Frozen):
    """One settled time window of a ramp run (load constant throughout)."""

    start_s: float = Field(description="seconds since the first point of the run")
    end_s: float
    users: float = Field(gt=0, description="active VUs in the window")
    requests: int = Field(ge=0)
    throughput_rps: float = Field(ge=0)
    mean_ms: float = Field(ge=0)
    p50_ms: float = Field(ge=0)
    p95_ms: float = Field(ge=0)
    error_rate: float = Field(ge=0, le=1)
    cpu_percent: float | None = Field(default=None, description="target CPU, 100 = one core")
    rss_mb: float | None = None


class WindowFeatures(Frozen):
    """Features as performance engineers read them (see core.capacity.features)."""

    load_factor: float = Field(description="users / users at the knee")
    stress_index: float = Field(description="users / USL peak load (past 1: retrograde)")
    efficiency: float = Field(description="throughput per user / the low-load baseline's")
    utilisation: float = Field(description="throughput / USL peak throughput")


class ModelScore(Frozen):
    mae_ms: float
    r2: float
    holdout_mape: float = Field(description="mean absolute percentage error on the hold-out, 0-1")


class FailurePoint(Frozen):
    users: float
    p: float = Field(ge=0, le=1)


class FailureCrossings(Frozen):
    """Users where the fitted failure probability crosses 0.05 and 0.5 (with bootstrap intervals)."""

    p05_users: float | None = None
    p05_interval: Interval | None = None
    p50_users: float | None = None
    p50_interval: Interval | None = None
    violations: int = Field(ge=0, description="windows that broke the SLO")
    windows: int = Field(default=0, ge=0, description="windows judged")
    note: str = ""


class Anomaly(Frozen):
    window: int = Field(ge=0, description="index into `windows`")
    start_s: float
    users: float
    score: float = Field(description="Isolation Forest score (lower = more anomalous)")
    reason: str


class LatencyCrossing(Frozen):
    """Load where the twin's predicted p95 reaches the latency SLO, ± its hold-out error."""

    users: float | None = Field(description="None: not reached within the studied range")
    interval: tuple[float | None, float | None] = Field(
        description="(prediction + error reaches it, prediction − error reaches it); None: not within range"
    )


class MaxSafe(Frozen):
    users: float | None = Field(description="largest load with predicted p95 under the SLO and p(fail) < 5 %")
    interval: Interval | None = None
    limited_by: Literal["latency", "failure", "range"] | None = None
    extrapolated: bool = Field(description="true when the answer lies beyond the highest measured load")
    note: str = ""


class Prediction(Frozen):
    """Latency the chosen model predicts at a window (for the actual-vs-predicted figure)."""

    window: int = Field(ge=0)
    users: float
    actual_p95_ms: float
    predicted_p95_ms: float
    holdout: bool


class CapacityInputs(Frozen):
    source: str = Field(description="run directory or raw file read")
    slo: list[str] = Field(description="the SLO expressions used, e.g. ['p(95)<300', 'rate<0.01']")
    latency_stat: str = Field(description="latency aggregation the SLO limits, e.g. p(95)")
    latency_slo_ms: float | None
    error_budget: float | None
    window_s: float
    windows: int = Field(ge=0, description="settled windows found")
    windows_fitted: int = Field(ge=0, description="windows left after removing anomalies")
    holdout_steps: list[float] = Field(description="load steps (users) held out to score the models")
    think_time_s: float = Field(description="think time per request estimated from the low-load windows")
    highest_measured_users: float
    seed: int


class CapacityRegression(Frozen):
    """The nightly comparison of this run's capacity with the history's (see core.capacity.regression)."""

    verdict: Verdict


class CapacityResult(Frozen):
    schema_version: Literal[1] = 1
    inputs: CapacityInputs
    usl: UslFit
    models: dict[str, ModelScore]
    chosen_model: str
    max_safe_users: MaxSafe
    failure_probability: list[FailurePoint]
    failure_crossings: FailureCrossings
    latency_crossing: LatencyCrossing | None = None
    anomalies: list[Anomaly]
    windows: list[CapacityWindow]
    features: list[WindowFeatures]
    predictions: list[Prediction]
    regression: CapacityRegression | None = None


class UslRequest(Frozen):
    csv: Path


class CapacityRequest(Frozen):
    run: Path = Field(description="run directory, or a raw NDJSON/CSV file of a ramp run")
    slo: tuple[str, ...] = ()
    policy: Path | None = None
    window_s: float = Field(default=2.0, gt=0)
    holdout_fraction: float = Field(default=0.25, gt=0, lt=1)
    seed: int = 0
    baselines: Path | None = None
    scenario: str | None = None
    record: bool = False
