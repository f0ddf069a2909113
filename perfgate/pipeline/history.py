"""`perfgate history list|show|prune` and `perfgate trend`: the recorded runs, looked after and scanned.

`baselines` is the folder that holds scenario folders (a scenario's own folder is accepted too);
the scenario is the one asked for, else the only one there.
"""

from __future__ import annotations

from pathlib import Path

from perfgate.adapters.baselines import BaselineStore, PruneReport
from perfgate.adapters.policy_file import load_policy
from perfgate.core.detect import TrendReport, scan_trend
from perfgate.errors import UsageError
from perfgate.models import StoredRun
from perfgate.models.base import Frozen


class HistoryRequest(Frozen):
    baselines: Path
    scenario: str | None = None


class PruneRequest(HistoryRequest):
    """`scenario` None: every scenario. `keep`/`compact_after` None: the policy's values."""

    keep: int | None = None
    compact_after: int | None = None
    policy: Path | None = None
    dry_run: bool = False


def open_history(request: HistoryRequest) -> tuple[BaselineStore, str | None]:
    """The store and the scenario asked for (`--baselines` naming a scenario's folder names it)."""
    root = request.baselines
    if not root.is_dir():
        raise UsageError(f"--baselines: {root} is not a directory")
    if (root / "runs").is_dir() and request.scenario in (None, root.name):
        return BaselineStore(root.parent), root.name
    return BaselineStore(root), request.scenario


def _one_scenario(store: BaselineStore, wanted: str | None) -> str:
    if wanted:
        return wanted
    known = store.scenarios()
    if len(known) == 1:
        return known[0]
    raise UsageError(f"--scenario is required (scenarios: {', '.join(known) or 'none'})")


def list_runs(request: HistoryRequest) -> tuple[str, list[StoredRun]]:
    store, scenario = open_history(request)
    name = _one_scenario(store, scenario)
    return name, store.runs(name)


def show_run(request: HistoryRequest, run_id: str) -> StoredRun:
    store, scenario = open_history(request)
    return store.get(_one_scenario(store, scenario), run_id)


def prune(request: PruneRequest) -> list[PruneReport]:
    store, scenario = open_history(request)
    policy = load_policy(request.policy)
    keep = request.keep if request.keep is not None else policy.history.keep_runs
    compact = request.compact_after if request.compact_after is not None else policy.history.compact_after
    return [
        store.prune(name, keep=keep, compact_after=compact, dry_run=request.dry_run, rules=policy.rules)
        for name in ([scenario] if scenario else store.scenarios())
    ]


def trend(request: HistoryRequest, policy_path: Path | None) -> tuple[str, TrendReport]:
    """Change points over a scenario's whole history (valid runs of the newest load model)."""
    store, scenario = open_history(request)
    name = _one_scenario(store, scenario)
    runs = [run for run in store.runs(name) if run.valid]
    if runs:
        newest = runs[-1].fingerprint
        runs = [run for run in runs if run.fingerprint == newest]
    return name, scan_trend([(run.run_id, run.record) for run in runs], load_policy(policy_path))
