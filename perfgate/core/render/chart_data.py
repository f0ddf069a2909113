"""What the HTML charts plot, computed from models: pure numbers, no drawing.

A metric's history is read straight from the stored runs (oldest first), so the chart shows the
same values the detector judged. Its noise band is median ± `BAND_SIGMAS` robust sigmas
(MAD · 1.4826), the same robust spread healing reports as evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perfgate.models import VERDICT_SEVERITY, Finding, StoredRun
from perfgate.models.detect import TrendReport

FloatArray = npt.NDArray[np.float64]
MAD_TO_SIGMA = 1.4826
BAND_SIGMAS = 2.0
ChangeMarks = TrendReport | Sequence[str]


@dataclass(frozen=True)
class MetricHistory:
    run_ids: tuple[str, ...]
    values: FloatArray
    median: float
    spread: float

    @property
    def band(self) -> tuple[float, float]:
        # every gated value (latency, rates, throughput, counts) is non-negative: so is the band
        return max(0.0, self.median - BAND_SIGMAS * self.spread), self.median + BAND_SIGMAS * self.spread


@dataclass(frozen=True)
class Mark:
    """A change point on a history chart: at `index` (position in the history), with a label."""

    index: int
    label: str
    classification: str


def ordered_runs(history: Sequence[StoredRun]) -> list[StoredRun]:
    return sorted(history, key=lambda run: (run.recorded_at, run.run_id))


def metric_history(runs: Sequence[StoredRun], metric: str, stat: str) -> MetricHistory | None:
    """The metric's value per run (NaN where missing); None when no run has it."""
    values = np.full(len(runs), np.nan)
    for i, run in enumerate(runs):
        value = run.record.value(metric, stat)
        if value is not None and math.isfinite(value):
            values[i] = value
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    median = float(np.median(finite))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(finite - median)))
    return MetricHistory(tuple(run.run_id for run in runs), values, median, spread)


def marks_for(marks: ChangeMarks | None, history: MetricHistory, metric: str, stat: str) -> list[Mark]:
    """Change points of this metric that fall inside the charted history."""
    if marks is None:
        return []
    position = {run_id: i for i, run_id in enumerate(history.run_ids)}
    if not isinstance(marks, TrendReport):
        ids = [marks] if isinstance(marks, str) else list(marks)
        return [Mark(position[run_id], "change", "noise") for run_id in ids if run_id in position]
    found = []
    for trend in marks.metrics:
        if (trend.metric, trend.stat) != (metric, stat):
            continue
        for point in trend.change_points:
            if point.run_id in position:
                ratio = "" if point.change_ratio is None else f" {(point.change_ratio - 1) * 100:+.0f} %"
                found.append(
                    Mark(position[point.run_id], f"{point.classification}{ratio}", point.classification)
                )
    return found


def has_marks(marks: ChangeMarks | None, finding: Finding) -> bool:
    if isinstance(marks, TrendReport):
        return any(
            (t.metric, t.stat) == (finding.metric, finding.stat) and t.change_points for t in marks.metrics
        )
    return bool(marks)


def chart_order(findings: Sequence[Finding], marks: ChangeMarks | None, limit: int) -> list[Finding]:
    """Findings worth a chart, most telling first: worse verdicts, then change points, then p95s."""

    def key(f: Finding) -> tuple[int, int, int]:
        return (-VERDICT_SEVERITY[f.classification], not has_marks(marks, f), f.stat != "p(95)")

    ranked = sorted(
        (f for f in findings if f.classification != "pass" or has_marks(marks, f) or f.stat == "p(95)"),
        key=key,
    )
    return ranked[:limit]
