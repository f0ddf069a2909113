"""The comparable history of a candidate, as `analyze` and `heal` hand it to the detector.

    baseline = indexed_baseline(BaselineStore(root).history(scenario), fingerprint, vus_max)
    baseline.selection   which runs are comparable, and why the others are not (notices)
    baseline.newest      the newest comparable runs in full: all the detector's windows read
    baseline.columns     every comparable run's values as columns (`HistoryColumns`)
    baseline.runs()      every comparable run in full (the HTML charts), built on first use

From the index, a 5,000-run history costs the gate the few hundred summaries its windows read
(`core.detect.history_tail`) instead of 5,000; `full_baseline` is the same from runs already
loaded (the tests' reference), and gives the detector exactly the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from perfgate.adapters.indexed_history import IndexedHistory
from perfgate.core.detect import DetectorTuning, HistoryColumns, history_tail
from perfgate.core.history import BaselineSelection, select_baseline
from perfgate.models import RunHead, RunRecord, StoredRun


@dataclass(frozen=True)
class Baseline:
    selection: BaselineSelection[RunHead] | BaselineSelection[StoredRun]
    newest: tuple[RunRecord, ...]
    columns: HistoryColumns | None
    runs: Callable[[], tuple[StoredRun, ...]] = field(compare=False)

    @property
    def size(self) -> int:
        return len(self.selection.runs)


def full_baseline(selection: BaselineSelection[StoredRun]) -> Baseline:
    runs = tuple(selection.runs)
    return Baseline(selection, tuple(run.record for run in runs), None, lambda: runs)


def model_digest(record: RunRecord) -> str | None:
    """The record's load-model digest, as stored runs carry it (None: load model unknown)."""
    return record.fingerprint.digest() if record.fingerprint else None


def comparable_positions(
    history: IndexedHistory, fingerprint: str | None, vus_max: int | None
) -> tuple[BaselineSelection[RunHead], list[int]]:
    """The comparable runs chosen on the heads, and their positions in `history`, oldest first."""
    selection = select_baseline(history.heads, fingerprint=fingerprint, candidate_vus_max=vus_max)
    position = {head.run_id: i for i, head in enumerate(history.heads)}
    return selection, [position[head.run_id] for head in selection.runs]


def indexed_baseline(history: IndexedHistory, fingerprint: str | None, vus_max: int | None) -> Baseline:
    """The comparable runs chosen on the heads; only the newest built in full."""
    selection, chosen = comparable_positions(history, fingerprint, vus_max)
    newest = chosen[-history_tail(DetectorTuning()) :]
    columns = HistoryColumns(size=len(chosen), values=history.values(chosen))
    return Baseline(
        selection,
        tuple(run.record for run in history.summaries(newest)),
        columns,
        cache(lambda: tuple(history.summaries(chosen))),
    )
