"""One stored run of the history under `baselines/<scenario>/runs/<run_id>.json`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from pydantic import Field

from perfgate.models.base import SAFE_NAME_PATTERN, Strict
from perfgate.models.run import RunRecord
from perfgate.models.verdict import VerdictKind

HISTORY_SCHEMA_VERSION: Final = 1


class StoredRun(Strict):
    schema_version: Literal[1] = HISTORY_SCHEMA_VERSION
    run_id: str = Field(pattern=SAFE_NAME_PATTERN)
    scenario: str = Field(pattern=SAFE_NAME_PATTERN)
    recorded_at: datetime
    fingerprint: str | None = Field(default=None, description="LoadFingerprint.digest() of the run")
    verdict: VerdictKind | None = Field(default=None, description="the gate's verdict when it was recorded")
    valid: bool = True
    invalid_reason: str | None = None
    commit: str | None = None
    compacted: bool = Field(default=False, description="raw detail (stages, samples) dropped by compaction")
    record: RunRecord

    @property
    def usable_as_baseline(self) -> bool:
        return self.valid and self.verdict != "regression"

    @property
    def vus_max(self) -> int | None:
        return self.record.context.vus_max

    def head(self) -> RunHead:
        return RunHead(
            self.run_id,
            self.recorded_at,
            self.fingerprint,
            self.verdict,
            self.valid,
            self.commit,
            self.vus_max,
        )


@dataclass(frozen=True, slots=True)
class RunHead:
    """What choosing the comparable runs reads of a stored run (`core.history.select_baseline`),
    without its metrics: the history index gives these for thousands of runs at little cost."""

    run_id: str
    recorded_at: datetime
    fingerprint: str | None
    verdict: VerdictKind | None
    valid: bool
    commit: str | None
    vus_max: int | None


HISTORY_P95 = ("http_req_duration", "p(95)")  # the latency `history list` shows


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One line of `perfgate history list`: the run's head, its p95 latency and its request rate.

    `of(run)` reads them from a stored run; `pipeline.history.list_runs` from the history index's
    heads and value matrix, without building a single run (the same values: tests/test_history_list.py)."""

    run_id: str
    recorded_at: datetime
    verdict: VerdictKind | None
    valid: bool
    p95_ms: float | None
    http_reqs_per_s: float | None
    fingerprint: str | None

    @classmethod
    def of(cls, run: StoredRun) -> HistoryRow:
        return cls(
            run.run_id,
            run.recorded_at,
            run.verdict,
            run.valid,
            run.record.value(*HISTORY_P95),
            run.record.context.http_reqs_per_s,
            run.fingerprint,
        )
