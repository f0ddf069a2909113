"""Opt-in fault injection: extra latency, CPU burn and injected 500s per endpoint.

The endpoint names below are the vocabulary shared with the k6 scripts (their `name` tag)
and with the fault settings (NOTES_FAULT_* keys, the /admin/faults body).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Endpoint = Literal[
    "create_note",
    "get_note",
    "list_notes",
    "search_notes",
    "update_note",
    "delete_note",
    "healthz",
]
ENDPOINTS: tuple[Endpoint, ...] = get_args(Endpoint)

Millis = Annotated[float, Field(ge=0, le=60_000, allow_inf_nan=False)]
Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class FaultConfig(BaseModel):
    """What to inject, per endpoint. Empty maps (the default) inject nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: dict[Endpoint, Millis] = Field(default_factory=dict)
    error_rate: dict[Endpoint, Ratio] = Field(default_factory=dict)
    cpu_ms: dict[Endpoint, Millis] = Field(default_factory=dict)
    seed: int | None = None


def burn_cpu(cpu_ms: float) -> None:
    """Spin until this thread has used `cpu_ms` of CPU time, as slower code would.

    Thread CPU time, not wall time: a thread waiting for the GIL or a core does not count,
    so the cost is real CPU work and grows under contention like a genuine slowdown.
    """
    deadline = time.thread_time() + cpu_ms / 1000
    while time.thread_time() < deadline:
        sum(range(500))


class FaultInjector:
    """Holds the current FaultConfig; replaceable at run time (thread-safe)."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(config.seed)

    @property
    def config(self) -> FaultConfig:
        return self._config

    def replace(self, config: FaultConfig) -> None:
        """Swap the config and restart the random sequence from its seed."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def apply(self, endpoint: Endpoint) -> bool:
        """Sleep and burn CPU as configured; return True if this request must fail."""
        config = self._config
        latency_ms = config.latency_ms.get(endpoint, 0.0)
        if latency_ms > 0:
            time.sleep(latency_ms / 1000)
        cpu_ms = config.cpu_ms.get(endpoint, 0.0)
        if cpu_ms > 0:
            burn_cpu(cpu_ms)
        error_rate = config.error_rate.get(endpoint, 0.0)
        if error_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < error_rate
