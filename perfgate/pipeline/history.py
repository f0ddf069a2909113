"""`perfgate history list|show|prune` and `perfgate trend`: the recorded runs, looked after and scanned.

`baselines` is the folder that holds scenario folders (a scenario's own folder is accepted too);
the scenario is the one asked for, else the only one there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perfgate.adapters.baselines import BaselineStore, PruneReport
from perfgate.adapters.indexed_history import IndexedHistory, context_column
from perfgate.adapters.policy_file import load_policy
from perfgate.core.detect import TrendReport, scan_trend
from perfgate.errors import UsageError
from perfgate.models import HistoryRow, RunHead, StoredRun
from perfgate.models.base import Frozen
from perfgate.models.history import HISTORY_P95


class HistoryRequest(Frozen):
    baselines: Path
    scenario: str | None = None


class PruneRequest(HistoryRequest):
    """`scenario` None: every scenario. `keep`/`compact_after` None: the policy's values."""

    keep: int | None = None
    compact_after: int | None = None
    policy: Path | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class HistoryLocation:
    """Where a scenario's runs live: `<root>/<scenario>/runs/`."""

    root: Path
    scenario: str

    @property
    def folder(self) -> Path:
        return self.root / self.scenario


def locate_history(
    baselines: Path,
    scenario: str | None,
    *,
    own: str | None = None,
    guesses: Sequence[str] = (),
    fallback: str | None = None,
) -> HistoryLocation:
    """The one reading of `--baselines DIR --scenario NAME`, for every command.

    DIR holds the scenario folders; the folder of one scenario (it has `runs/`) names that
    scenario. Without NAME: the run's `own` scenario, else the first of `guesses` that exists,
    else the only scenario there, else `fallback`, else a usage error listing the scenarios.
    """
    if (baselines / "runs").is_dir() and scenario in (None, baselines.name):
        return HistoryLocation(baselines.parent, baselines.name)
    if scenario or own:
        return HistoryLocation(baselines, scenario or own or "")
    known = BaselineStore(baselines).scenarios() if baselines.is_dir() else []
    for guess in guesses:
        if guess in known:
            return HistoryLocation(baselines, guess)
    if len(known) == 1 or fallback:
        return HistoryLocation(baselines, known[0] if len(known) == 1 else fallback or "")
    raise UsageError(f"--scenario is required (scenarios in {baselines}: {', '.join(known) or 'none'})")


def _existing(request: HistoryRequest) -> HistoryLocation:
    if not request.baselines.is_dir():
        raise UsageError(f"--baselines: {request.baselines} is not a directory")
    return locate_history(request.baselines, request.scenario)


def list_runs(request: HistoryRequest) -> tuple[str, list[HistoryRow]]:
    """The scenario's runs, oldest first, from the history index alone (no run is parsed)."""
    where = _existing(request)
    return where.scenario, history_rows(BaselineStore(where.root).history(where.scenario))


def history_rows(history: IndexedHistory) -> list[HistoryRow]:
    """`HistoryRow.of` every run, read from the heads and the value matrix."""
    p95 = history.column(HISTORY_P95)
    rps = history.column(context_column("http_reqs_per_s"))
    return [
        HistoryRow(
            head.run_id,
            head.recorded_at,
            head.verdict,
            head.valid,
            _number(p95[i]),
            _number(rps[i]),
            head.fingerprint,
        )
        for i, head in enumerate(history.heads)
    ]


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def show_run(request: HistoryRequest, run_id: str) -> StoredRun:
    where = _existing(request)
    return BaselineStore(where.root).get(where.scenario, run_id)


def prune(request: PruneRequest) -> list[PruneReport]:
    """Every scenario under `baselines` unless one is named (or `baselines` is one's folder)."""
    if not request.baselines.is_dir():
        raise UsageError(f"--baselines: {request.baselines} is not a directory")
    named = request.scenario is not None or (request.baselines / "runs").is_dir()
    where = locate_history(request.baselines, request.scenario) if named else None
    store = BaselineStore(where.root if where else request.baselines)
    policy = load_policy(request.policy)
    keep = request.keep if request.keep is not None else policy.history.keep_runs
    compact = request.compact_after if request.compact_after is not None else policy.history.compact_after
    return [
        store.prune(name, keep=keep, compact_after=compact, dry_run=request.dry_run, rules=policy.rules)
        for name in ([where.scenario] if where else store.scenarios())
    ]


def trend(request: HistoryRequest, policy_path: Path | None) -> tuple[str, TrendReport]:
    """Change points over a scenario's whole history (valid runs of the newest load model)."""
    where = _existing(request)
    history = BaselineStore(where.root).history(where.scenario)
    runs = history.summaries(trend_positions(history.heads))
    return where.scenario, scan_trend([(run.run_id, run.record) for run in runs], load_policy(policy_path))


def trend_positions(heads: Sequence[RunHead]) -> list[int]:
    """The runs a trend scans, chosen on the heads (only those are built): the valid runs of the
    newest valid run's load model."""
    valid = [i for i, head in enumerate(heads) if head.valid]
    newest = heads[valid[-1]].fingerprint if valid else None
    return [i for i in valid if heads[i].fingerprint == newest]
