"""Minimal k6 `--summary-export` → RunRecord, used only when perfgate's own adapter is missing."""

from __future__ import annotations

import json
from pathlib import Path

from perfgate.models import MetricSeries, RunContext, RunRecord


def _series(values: dict[str, float]) -> MetricSeries:
    if "passes" in values:
        return MetricSeries(
            type="rate",
            values={"rate": values["value"], "passes": values["passes"], "fails": values["fails"]},
        )
    if "p(95)" in values or "avg" in values:
        return MetricSeries(type="trend", values={k: float(v) for k, v in values.items()})
    if "count" in values:
        return MetricSeries(
            type="counter", values={"count": values["count"], "rate": values.get("rate", 0.0)}
        )
    return MetricSeries(
        type="gauge", values={k: float(v) for k, v in values.items() if k in ("value", "min", "max")}
    )


def record_from_summary(path: Path) -> RunRecord:
    data = json.loads(path.read_text())
    metrics = {}
    for name, raw in data["metrics"].items():
        values = {
            k: float(v) for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)
        }
        metrics[name] = _series(values)

    def get(name: str, stat: str) -> float | None:
        series = metrics.get(name)
        return None if series is None else series.values.get(stat)

    reqs = get("http_reqs", "count")
    return RunRecord(
        source_format="summary-export",
        source=path.name,
        metrics=metrics,
        context=RunContext(
            vus_max=int(get("vus_max", "value") or 0) or None,
            iterations=int(get("iterations", "count") or 0) or None,
            dropped_iterations=int(get("dropped_iterations", "count") or 0),
            http_reqs=int(reqs) if reqs is not None else None,
            http_reqs_per_s=get("http_reqs", "rate"),
        ),
    )
