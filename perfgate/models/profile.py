"""Traffic profiles learnt from access logs (`perfgate profile`): what was read, the personas, the
arrival curve, and the validation of a generated script against the log it came from.

`TrafficProfile` is `DIR/profile.json`; `schema_version` is bumped on incompatible changes.
Rates are sessions per second unless the name says otherwise; shares and rates are 0–1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field

from perfgate.models.base import Strict

PROFILE_SCHEMA_VERSION = 1
LogFormat = Literal["combined", "common", "jsonl", "csv"]
ClusterMethod = Literal["kmeans", "dbscan"]


class Frozen(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FileReport(Frozen):
    """One log file as read: counts, and where the unreadable lines are (first few, 1-based)."""

    path: str
    format: LogFormat
    lines: int
    parsed: int
    malformed: int
    first_malformed_lines: list[int] = Field(default_factory=list)


class Distribution(Frozen):
    """A fitted distribution with bounds: draws are clipped to [low, high].

    `kind` is `lognormal` (parameters `mu`, `sigma` of the log), `constant` (`value`) or `none`
    (no observation). `mean` and `p50`/`p90` describe the observed sample, not the fit.
    """

    kind: Literal["lognormal", "constant", "none"]
    mu: float = 0.0
    sigma: float = 0.0
    low: float = 0.0
    high: float = 0.0
    mean: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    samples: int = 0


class Endpoint(Frozen):
    """One endpoint template: its method, path template, k6 `name` tag and example paths."""

    key: str
    method: str
    template: str
    name: str
    static: bool = False
    requests: int = 0
    examples: list[str] = Field(default_factory=list)


class Persona(Frozen):
    name: str
    description: str = ""
    share: float
    sessions: int
    requests_per_session: float
    endpoint_mix: dict[str, float]
    entry: dict[str, float]
    transitions: dict[str, dict[str, float]]
    transitions_2: dict[str, dict[str, float]] = Field(default_factory=dict)
    think_time: Distribution
    session_length: Distribution
    centroid: dict[str, float] = Field(default_factory=dict)
    arrival_per_hour: list[float] = Field(default_factory=list)


class ArrivalCurve(Frozen):
    """Sessions per second by hour of day (0–23, UTC) and by (day of week, hour), Monday = 0.

    The window is from the first to the last session start (`start`, `end`); a cell it does not
    cover is None; `observed_s` is how many seconds of each hour of day it covers. Peak and average
    are over covered hours.
    """

    per_hour: list[float | None]
    per_weekday_hour: list[list[float | None]]
    observed_s: list[float]
    peak_per_s: float
    average_per_s: float
    start: float
    end: float


class Clustering(Frozen):
    method: ClusterMethod
    k: int
    features: list[str]
    scores: dict[str, float]
    chosen_by: str
    sampled_sessions: int


class Filtered(Frozen):
    bot_sessions: int
    bot_requests: int
    bot_share: float
    by_reason: dict[str, int]


class TrafficProfile(Frozen):
    schema_version: int = PROFILE_SCHEMA_VERSION
    files: list[FileReport]
    requests: int
    sessions: int
    session_gap_s: float
    endpoints: list[Endpoint]
    personas: list[Persona]
    bot: Persona | None
    filtered: Filtered
    clustering: Clustering
    arrival: ArrivalCurve
    request_rate_per_s: float
    session_rate_per_s: float
    error_rate: float
    think_time_mean_s: float
    session_length_mean: float


class ProfileRequest(Frozen):
    logs: list[Path]
    out: Path
    format: LogFormat | Literal["auto"] = "auto"
    fields: dict[str, str] = Field(default_factory=dict)
    personas: int | None = None
    method: ClusterMethod = "kmeans"
    session_gap_s: float = 1800.0
    seed: int = 0


class ProfileResult(Frozen):
    profile: TrafficProfile
    written: list[Path]


class ValidateRequest(Frozen):
    profile_dir: Path
    base_url: str
    duration_s: float = 20.0
    max_rate_per_s: float = 20.0
    tolerance: float = 0.15
    k6: Path | None = None
    timeout_s: float = 120.0


class ValidationLine(Frozen):
    """One compared quantity: passes when |run/log - 1| <= allowed, or |run - log| <= absolute_floor
    (shares and error rates near zero cannot be judged relatively)."""

    metric: str
    log_value: float
    run_value: float
    difference: float
    allowed: float
    absolute_floor: float = 0.0
    passed: bool


class ValidationResult(Frozen):
    run_dir: Path
    time_scale: float
    rate_scale: float
    lines: list[ValidationLine]
    passed: bool
