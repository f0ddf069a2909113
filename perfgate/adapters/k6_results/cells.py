"""What the assembled accumulators give beyond the metric series: each check, each stage, and the
notes on metrics whose percentiles come from HDR histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfgate.adapters.k6_results.routing import CheckCell, StageCell
from perfgate.adapters.k6_results.sketch import sketch_note
from perfgate.adapters.k6_results.stats import Accumulator, percentiles, sketched
from perfgate.models.run import CheckResult, StageStats


def check_result(cell: CheckCell, parts: Sequence[Accumulator]) -> CheckResult:
    total = sum(part.count for part in parts)
    passes = sum(part.nonzero for part in parts)
    return CheckResult(name=cell.name, path=f"{cell.group}::{cell.name}", passes=passes, fails=total - passes)


def stage_stats(cell: StageCell, parts: Mapping[str, Sequence[Accumulator]]) -> StageStats:
    requests = round(sum(part.total for part in parts.get("http_reqs", ())))
    failed_parts = parts.get("http_req_failed", ())
    answered = sum(part.count for part in failed_parts)
    failed = sum(part.nonzero for part in failed_parts)
    p95, p99 = percentiles(parts.get("http_req_duration", ()), [95.0, 99.0]) or (None, None)
    return StageStats(
        scenario=cell.scenario,
        stage=cell.stage,
        requests=requests,
        failed=failed,
        p95_ms=p95,
        p99_ms=p99,
        error_rate=failed / answered if answered else 0.0,
    )


def sketch_notes(
    keys: Mapping[str, tuple[str, Sequence[Accumulator]]],
    stages: Mapping[StageCell, Mapping[str, Sequence[Accumulator]]],
    cap: int,
) -> list[str]:
    """Which metrics' percentiles come from HDR histograms, and with which error bound."""
    notes = []
    for metric, (owner, parts) in keys.items():
        if metric != owner or not sketched(parts):
            continue
        points = sum(part.count + len(part.buffer) for part in parts)
        subs = sum(1 for key, (owner, _) in keys.items() if owner == metric and key != metric)
        staged = metric == "http_req_duration" and any(
            sketched(cells.get(metric, ())) for cells in stages.values()
        )
        notes.append(sketch_note(metric, points, cap, submetrics=subs, stages=staged))
    return notes
