"""Which stored runs a candidate may be compared with, and the history as a table.

Pure: sequences of `StoredRun` in, small result objects out; inputs are never changed.

A stored run is comparable with the candidate when it has the same load model, is valid, and
was not itself judged a regression (the last two can be switched off). Load models are compared
by fingerprint (`LoadFingerprint.digest()`, kept in `StoredRun.fingerprint`): equal digests
match. A missing fingerprint means "load model unknown": two unknowns are taken to be the same
model, an unknown and a known one never are. So a run without a fingerprint is comparable only
with a candidate that has none either, and a candidate without one only with such runs.

A candidate of unknown model is also kept apart from unknown-model runs whose peak VUs differ
from its own (`candidate_vus_max`): a 12-VU and a 4-VU summary export are not the same load.

When the candidate has a fingerprint that no stored run has, while some stored run has another
one, the load model changed (`load_model_changed`): the candidate starts a new baseline. When
its model has runs but older runs have other models, `model_since` names the first run of the
current model after the last run of another one ("new load model since ...").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from perfgate.models import StoredRun
from perfgate.models.verdict import VerdictKind

if TYPE_CHECKING:
    import pandas as pd

ExclusionReason = Literal["different_load_model", "invalid", "regression_verdict"]
EXCLUSION_REASONS: tuple[ExclusionReason, ...] = ("different_load_model", "invalid", "regression_verdict")
_REASON_TEXT: dict[ExclusionReason, str] = {
    "different_load_model": "a different load model",
    "invalid": "an invalid run",
    "regression_verdict": "a regression verdict",
}

CONTEXT_COLUMNS: dict[str, Callable[[StoredRun], float | None]] = {
    "ctx|http_reqs_per_s": lambda run: run.record.context.http_reqs_per_s,
    "ctx|vus_max": lambda run: run.record.context.vus_max,
    "ctx|iterations": lambda run: run.record.context.iterations,
    "ctx|duration_s": lambda run: run.record.context.duration_s,
    "ctx|dropped_iterations": lambda run: run.record.context.dropped_iterations,
}
RESOURCE_FIELDS = ("cpu_mean_percent", "cpu_peak_percent", "rss_mean_mb", "rss_peak_mb")


class Comparable(Protocol):
    """What choosing the baseline reads of a stored run: a `StoredRun`, or its `RunHead`."""

    @property
    def run_id(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def verdict(self) -> VerdictKind | None: ...
    @property
    def valid(self) -> bool: ...
    @property
    def commit(self) -> str | None: ...
    @property
    def vus_max(self) -> int | None: ...


R = TypeVar("R", bound=Comparable)


@dataclass(frozen=True)
class Exclusion:
    run_id: str
    reason: ExclusionReason


@dataclass(frozen=True)
class BaselineSelection(Generic[R]):
    """The comparable runs (oldest first) and why every other run was left out."""

    runs: tuple[R, ...]
    excluded: tuple[Exclusion, ...]
    fingerprint: str | None
    load_model_changed: bool
    model_since: R | None = None
    previous_model_run: R | None = None

    @property
    def excluded_counts(self) -> dict[ExclusionReason, int]:
        """Runs left out, by reason; every reason is present (0 when none)."""
        counts = Counter(exclusion.reason for exclusion in self.excluded)
        return {reason: counts[reason] for reason in EXCLUSION_REASONS}

    @property
    def notices(self) -> list[str]:
        """One sentence per reason that excluded at least one run, for reports."""
        notices = [
            f"{count} stored run{'s' if count > 1 else ''} left out of the baseline: {_REASON_TEXT[reason]}."
            for reason, count in self.excluded_counts.items()
            if count
        ]
        if self.model_since is not None:
            notices.insert(
                0, f"New load model since {describe_run(self.model_since)}: {len(self.runs)} runs so far."
            )
        if self.fingerprint is None:
            notices.append(
                "The load model of this run is unknown, so it was compared only with runs of unknown load "
                "model; pass --script FILE.js (and --profile FILE if you use one) to file it under its load model."
            )
        return notices


def describe_run(run: Comparable) -> str:
    """`run 20261123T151342Z-164d (commit 1a2b3c4)`."""
    return f"run {run.run_id}" + (f" (commit {run.commit[:12]})" if run.commit else "")


def _chronological(run: Comparable) -> tuple[datetime, str]:
    return run.recorded_at, run.run_id


def _exclusion_reason(
    run: Comparable,
    fingerprint: str | None,
    include_regressions: bool,
    include_invalid: bool,
    candidate_vus_max: int | None,
) -> ExclusionReason | None:
    """The first reason that applies, in the order of `EXCLUSION_REASONS`."""
    if run.fingerprint != fingerprint or _other_unknown_load(run, fingerprint, candidate_vus_max):
        return "different_load_model"
    if not run.valid and not include_invalid:
        return "invalid"
    if run.verdict == "regression" and not include_regressions:
        return "regression_verdict"
    return None


def _other_unknown_load(run: Comparable, fingerprint: str | None, candidate_vus_max: int | None) -> bool:
    stored_vus = run.vus_max
    return (
        fingerprint is None
        and None not in (stored_vus, candidate_vus_max)
        and stored_vus != candidate_vus_max
    )


def _model_change(ordered: Sequence[R], fingerprint: str | None) -> tuple[R | None, R | None]:
    """(last run of another model, first run of this model) when this model came after all others."""
    if fingerprint is None:
        return None, None
    others = [index for index, run in enumerate(ordered) if run.fingerprint != fingerprint]
    mine = [index for index, run in enumerate(ordered) if run.fingerprint == fingerprint]
    if not others or (mine and mine[0] < others[-1]):
        return None, None
    return ordered[others[-1]], (ordered[mine[0]] if mine else None)


def select_baseline(
    runs: Sequence[R],
    *,
    fingerprint: str | None,
    include_regressions: bool = False,
    include_invalid: bool = False,
    candidate_vus_max: int | None = None,
) -> BaselineSelection[R]:
    """The runs a candidate with load-model `fingerprint` may be compared with (see module doc)."""
    ordered = sorted(runs, key=_chronological)
    comparable: list[R] = []
    excluded: list[Exclusion] = []
    for run in ordered:
        reason = _exclusion_reason(run, fingerprint, include_regressions, include_invalid, candidate_vus_max)
        if reason is None:
            comparable.append(run)
        else:
            excluded.append(Exclusion(run.run_id, reason))
    known = {run.fingerprint for run in runs if run.fingerprint is not None}
    changed = fingerprint is not None and bool(known) and fingerprint not in known
    previous, since = _model_change(ordered, fingerprint)
    return BaselineSelection(tuple(comparable), tuple(excluded), fingerprint, changed, since, previous)


def history_frame(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """One row per run (index `run_id`, oldest first), float columns.

    `<metric key>|<stat>` for every metric value any run has (NaN where a run lacks it), then
    `CONTEXT_COLUMNS` (always present), then `res|<field>` for each of `RESOURCE_FIELDS` that at
    least one run has.
    """
    import pandas as pd  # deferred: importing pandas costs the gate ~0.4 s of start-up it does not need

    ordered = sorted(runs, key=_chronological)
    size = len(ordered)
    metric_columns: dict[str, npt.NDArray[np.float64]] = {}
    for row, run in enumerate(ordered):
        for key, series in run.record.metrics.items():
            for stat, value in series.values.items():
                _column(metric_columns, f"{key}|{stat}", size)[row] = value
    columns = {name: metric_columns[name] for name in sorted(metric_columns)}
    for name, read in CONTEXT_COLUMNS.items():
        columns[name] = _floats(read(run) for run in ordered)
    for field in RESOURCE_FIELDS:
        values = [getattr(run.record.resources, field) if run.record.resources else None for run in ordered]
        if any(value is not None for value in values):
            columns[f"res|{field}"] = _floats(values)
    index = pd.Index([run.run_id for run in ordered], dtype=object, name="run_id")
    return pd.DataFrame(columns, index=index)


def _column(columns: dict[str, npt.NDArray[np.float64]], name: str, size: int) -> npt.NDArray[np.float64]:
    array = columns.get(name)
    if array is None:
        array = columns[name] = np.full(size, np.nan)
    return array


def _floats(values: Iterable[float | None]) -> npt.NDArray[np.float64]:
    return np.array([np.nan if value is None else float(value) for value in values], dtype=np.float64)
