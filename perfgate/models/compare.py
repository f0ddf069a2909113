"""Paired base/head comparison (`perfgate compare`): its samples, request and result."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from perfgate.models.base import Strict

Arm = Literal["base", "head"]
CompareVerdictKind = Literal["regression", "improvement", "same", "unsure"]
MetricVerdictKind = Literal["regression", "improvement", "same", "unsure"]
COMPARE_VERDICTS: tuple[CompareVerdictKind, ...] = ("regression", "improvement", "same", "unsure")


class _Frozen(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EndpointSamples(_Frozen):
    """Every request of one endpoint (k6 `name` tag) in one half: latencies and failures."""

    latency_ms: tuple[float, ...] = Field(description="http_req_duration of each request, in ms")
    failed: int = Field(ge=0, description="requests counted by http_req_failed")

    @property
    def requests(self) -> int:
        return len(self.latency_ms)


class HalfSamples(_Frozen):
    """One k6 run of a pair: the requests of the default scenario (setup/teardown left out)."""

    arm: Arm
    endpoints: dict[str, EndpointSamples] = Field(description="keyed by the k6 `name` tag")


class PairSamples(_Frozen):
    """Base and head measured back to back (ABBA: odd pairs base first, even pairs head first)."""

    index: int = Field(ge=1)
    base: HalfSamples
    head: HalfSamples


class CompareRequest(_Frozen):
    """What `perfgate compare` needs; paths are resolved by the caller."""

    base_url: str = Field(min_length=1)
    head_url: str = Field(min_length=1)
    script: Path
    profile: Path | None = Field(default=None, description="k6 options file; default: a short constant load")
    policy: Path | None = None
    min_pairs: int = Field(default=2, ge=2, le=50)
    max_pairs: int = Field(default=10, ge=2, le=50)
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="false-alarm rate of the whole comparison")
    out_dir: Path = Field(description="run directories of the halves and the reports")
    k6: Path | None = None
    timeout_s: float = Field(default=300.0, gt=0, description="per half")

    @model_validator(mode="after")
    def _pairs_in_order(self) -> CompareRequest:
        if self.min_pairs > self.max_pairs:
            raise ValueError(f"min_pairs ({self.min_pairs}) is larger than max_pairs ({self.max_pairs})")
        return self


class MetricComparison(_Frozen):
    """One gated metric: base vs head with the change's confidence interval.

    Latency: `base`/`head` are medians in ms and the change is head/base − 1 in percent (the
    Hodges–Lehmann ratio). Error rate: `base`/`head` are rates (0–1) and the change and its
    interval are in percentage points (a relative change of a zero rate means nothing).
    """

    name: str = Field(description="k6 selector, e.g. http_req_duration{name:create_note}")
    unit: Literal["ms", "ratio"]
    base: float
    head: float
    change_pct: float
    ci_low_pct: float
    ci_high_pct: float
    min_effect_pct: float = Field(ge=0, description="the policy's smallest change that counts, same unit")
    verdict: MetricVerdictKind
    decided_at_pair: int | None = Field(default=None, description="the pair after which it was decided")
    requests_base: int = Field(ge=0)
    requests_head: int = Field(ge=0)


class HalfRun(_Frozen):
    """One half as it ran: which arm, where its run directory is, how long k6 took."""

    pair: int = Field(ge=1)
    arm: Arm
    run_dir: str
    wall_s: float = Field(ge=0)


class CompareResult(_Frozen):
    """What `perfgate compare --format json` prints."""

    schema_version: Literal[1] = 1
    verdict: CompareVerdictKind
    reason: str
    pairs: int = Field(ge=0, description="pairs measured (each: one base half and one head half)")
    min_pairs: int
    max_pairs: int
    alpha: float = Field(description="false-alarm rate of the whole comparison (all metrics, all looks)")
    metrics: list[MetricComparison]
    halves: list[HalfRun] = Field(default_factory=list)
    wall_s: float = Field(default=0.0, ge=0)

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "regression" else 0


TargetKind = Literal["notes-api", "command", "compose"]
PORT = "{port}"


class BaseRefRequest(_Frozen):
    """`perfgate action compare`: check the base ref out beside the workspace, start both, compare.

    `compare` carries the load and the decision settings; its URLs are replaced by the targets'.
    `{port}` in `target_command`, `health_url` and `base_url` becomes each target's own port.
    `faults` (notes API latency, `ENDPOINT=MS`) are injected into head only, for self-tests.
    """

    workspace: Path
    base_ref: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/~^@-]*$")
    target: TargetKind
    target_command: str | None = None
    health_url: str | None = None
    base_url: str | None = None
    compose_file: Path | None = None
    faults: tuple[str, ...] = ()
    compare: CompareRequest

    @model_validator(mode="after")
    def _target_inputs(self) -> BaseRefRequest:
        if self.target == "command":
            if not self.target_command or PORT not in self.target_command:
                raise ValueError(f"target-command must contain {PORT} (each target gets its own port)")
            if not self.health_url or PORT not in self.health_url:
                raise ValueError(f"health-url must contain {PORT}, e.g. http://127.0.0.1:{PORT}/healthz")
        if self.base_url is not None and PORT not in self.base_url:
            raise ValueError(f"base-url must contain {PORT}, e.g. http://127.0.0.1:{PORT}")
        return self
