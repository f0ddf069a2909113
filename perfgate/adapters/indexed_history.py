"""`IndexedHistory`: a scenario's runs as the history index holds them, oldest first.

Three views of the same runs, each as cheap as it can be:
- `heads`: one `RunHead` per run (what choosing the comparable runs reads);
- `values(positions)`: every (metric key, stat) of the chosen runs as a float column (NaN where a
  run lacks it), from one matrix, without building a single `MetricSeries`; the matrix also holds
  the run context's `CONTEXT_FIELDS` as (`ctx|<field>`, `value`) columns (`history list` reads them);
- `summary(i)` / `summaries(...)`: the full summary (`history_index.summarize`), parsed from its
  compressed JSON text on first use; a text that no longer parses as the run it should be is read again
  from the run's file.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from perfgate.models import RunHead, StoredRun

Column = tuple[str, str]  # (metric key, stat)
Matrix = npt.NDArray[np.float64]
CONTEXT_FIELDS = ("http_reqs_per_s",)  # numeric `RunContext` fields kept in the matrix


def context_column(field: str) -> Column:
    """The matrix column of a context field: `|` never occurs in a k6 metric name, so no metric has it."""
    return (f"ctx|{field}", "value")


def values_row(run: StoredRun) -> dict[Column, float]:
    """A run's metric values by (metric key, stat), and its context's `CONTEXT_FIELDS` that are set."""
    row = {
        (key, stat): value
        for key, series in run.record.metrics.items()
        for stat, value in series.values.items()
    }
    for name in CONTEXT_FIELDS:
        value = getattr(run.record.context, name)
        if value is not None:
            row[context_column(name)] = float(value)
    return row


class IndexedHistory:
    """The runs of one scenario, oldest first (recorded_at, then run id)."""

    def __init__(
        self,
        heads: Sequence[RunHead],
        columns: Sequence[Column],
        matrix: Matrix,
        texts: Sequence[bytes | memoryview],
        paths: Sequence[Path],
        read: Callable[[Path], StoredRun],
        built: Mapping[int, StoredRun],
    ) -> None:
        """`matrix[i, j]`: run i's value of `columns[j]`; `texts[i]`: run i's summary as zlib-compressed JSON, else
        `read(paths[i])` gives it; `built`: summaries already at hand, by position."""
        self.heads = tuple(heads)
        self.columns = tuple(columns)
        self._matrix = matrix
        self._texts = texts
        self._paths = paths
        self._read = read
        self._built = dict(built)

    def __len__(self) -> int:
        return len(self.heads)

    def summary(self, position: int) -> StoredRun:
        run = self._built.get(position)
        if run is None:
            try:
                run = StoredRun.model_validate_json(zlib.decompress(self._texts[position]))
            except (ValueError, ValidationError, zlib.error):
                run = None
            if run is None or run.head() != self.heads[position]:
                run = self._read(self._paths[position])
            self._built[position] = run
        return run

    def summaries(self, positions: Sequence[int] | None = None) -> list[StoredRun]:
        """The summaries at `positions` (default: every run), in that order."""
        return [self.summary(i) for i in (range(len(self)) if positions is None else positions)]

    def column(self, column: Column) -> Matrix:
        """One column over every run, oldest first (all NaN when no run has it)."""
        if column not in self.columns:
            return np.full(len(self), np.nan)
        return self._matrix[:, self.columns.index(column)].copy()

    def values(self, positions: Sequence[int]) -> dict[Column, Matrix]:
        """Per column, its values in the runs at `positions`, in that order."""
        chosen = np.ascontiguousarray(self._matrix[np.asarray(positions, dtype=np.intp)].T)
        return {column: chosen[j] for j, column in enumerate(self.columns)}
