"""Builders for perfgate models in tests: realistic defaults, every number overridable.

Import as `from factories import make_run_record` (pytest puts `tests/` on `sys.path`).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from perfgate.core.heal import propose_heal
from perfgate.models import (
    CheckResult,
    HealPlan,
    LoadFingerprint,
    MetricSeries,
    Policy,
    ResourceSample,
    ResourceUsage,
    RunContext,
    RunRecord,
    Stage,
    StageStats,
    StoredRun,
    ThresholdChange,
    ThresholdEvidence,
    ThresholdResult,
    VerdictKind,
)

DEFAULT_ENDPOINTS: dict[str, dict[str, float]] = {
    "list_notes": {"p(95)": 40.0},
    "get_note": {"p(95)": 25.0},
    "create_note": {"p(95)": 120.0},
    "update_note": {"p(95)": 110.0},
    "delete_note": {"p(95)": 60.0},
    "search": {"p(95)": 200.0},
}
DEFAULT_FINGERPRINT = LoadFingerprint(
    executor="ramping-vus",
    stages=[
        Stage(duration="10s", target=10),
        Stage(duration="20s", target=10),
        Stage(duration="5s", target=0),
    ],
)
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_TREND_SHAPE = {"min": 0.1, "med": 0.45, "avg": 0.5, "p(90)": 0.85, "p(95)": 1.0, "p(99)": 1.4, "max": 2.5}


def export_trend(p95: float) -> dict[str, float]:
    """A trend metric as k6's --summary-export writes it, scaled from its p(95)."""
    return {
        "avg": p95 * 0.5,
        "min": p95 * 0.1,
        "med": p95 * 0.45,
        "max": p95 * 2.5,
        "p(90)": p95 * 0.85,
        "p(95)": p95,
    }


def trend_values(p95_ms: float, count: float, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """A k6 trend's stats shaped around its p(95); `overrides` win."""
    values = {stat: round(p95_ms * factor, 3) for stat, factor in _TREND_SHAPE.items()}
    return {**values, "count": count, **(overrides or {})}


def _endpoint_metrics(
    name: str, stats: dict[str, float], count: float, error_rate: float
) -> dict[str, MetricSeries]:
    fails = round(count * error_rate)
    return {
        f"http_req_duration{{name:{name}}}": MetricSeries(
            type="trend", contains="time", values=trend_values(stats.get("p(95)", 100.0), count, stats)
        ),
        f"http_req_failed{{name:{name}}}": MetricSeries(
            type="rate", values={"rate": error_rate, "passes": fails, "fails": count - fails}
        ),
        f"http_req_waiting{{name:{name}}}": MetricSeries(
            type="trend", contains="time", values=trend_values(stats.get("p(95)", 100.0) * 0.9, count)
        ),
    }


def _detail(duration_s: float) -> tuple[list[StageStats], ResourceUsage]:
    stages = [
        StageStats(
            scenario="default", stage=i, requests=100 * (i + 1), failed=0, p95_ms=50.0 + i, error_rate=0.0
        )
        for i in range(3)
    ]
    samples = [
        ResourceSample(t_s=float(t), cpu_percent=40.0 + t % 7, rss_mb=80.0 + t / 10)
        for t in range(int(duration_s))
    ]
    resources = ResourceUsage(
        source="pid 4242 (+children)",
        interval_s=1.0,
        samples=samples,
        cpu_peak_percent=46.0,
        cpu_mean_percent=43.0,
        rss_peak_mb=80.0 + duration_s / 10,
        rss_mean_mb=80.0 + duration_s / 20,
    )
    return stages, resources


def make_run_record(
    endpoints: dict[str, dict[str, float]] | None = None,
    *,
    rps: float = 50.0,
    fingerprint: LoadFingerprint | None = DEFAULT_FINGERPRINT,
    duration_s: float = 30.0,
    error_rate: float = 0.0,
    k6_exit_code: int | None = 0,
    http_reqs: int | None = None,
    detail: bool = False,
) -> RunRecord:
    """A k6 run with per-endpoint trends (stats from `endpoints`, default `DEFAULT_ENDPOINTS`).

    `http_reqs` overrides the request count (default `rps * duration_s`); `detail` adds per-stage
    stats and resource samples (what compaction drops).
    """
    chosen = DEFAULT_ENDPOINTS if endpoints is None else endpoints
    total = round(rps * duration_s) if http_reqs is None else http_reqs
    per_endpoint = total / max(len(chosen), 1)
    metrics: dict[str, MetricSeries] = {}
    for name, stats in chosen.items():
        metrics.update(_endpoint_metrics(name, stats, per_endpoint, error_rate))
    worst = max((s.get("p(95)", 100.0) for s in chosen.values()), default=100.0)
    metrics["http_req_duration"] = MetricSeries(
        type="trend", contains="time", values=trend_values(worst, total)
    )
    metrics["http_req_failed"] = MetricSeries(type="rate", values={"rate": error_rate})
    metrics["http_reqs"] = MetricSeries(type="counter", values={"count": total, "rate": total / duration_s})
    metrics["checks"] = MetricSeries(
        type="rate", values={"rate": 1.0}, thresholds=[ThresholdResult(expression="rate>0.99", crossed=False)]
    )
    metrics["data_received"] = MetricSeries(type="counter", contains="data", values={"count": total * 800.0})
    stages, resources = _detail(duration_s) if detail else ([], None)
    return RunRecord(
        source_format="summary-export",
        source="summary.json",
        metrics=metrics,
        checks=[CheckResult(name="status is 200", passes=total, fails=0)],
        context=RunContext(
            duration_s=duration_s,
            vus_max=10,
            iterations=total,
            http_reqs=total,
            http_reqs_per_s=total / duration_s,
            k6_exit_code=k6_exit_code,
            k6_version="1.1.0",
        ),
        fingerprint=fingerprint,
        stages=stages,
        resources=resources,
    )


def make_stored_run(
    run_id: str,
    *,
    minutes: int = 0,
    record: RunRecord | None = None,
    fingerprint: str | None = "default",
    verdict: VerdictKind | None = None,
    valid: bool = True,
    scenario: str = "notes-smoke",
) -> StoredRun:
    """A stored run recorded `minutes` after `T0`; `fingerprint="default"` means the record's digest."""
    chosen = record if record is not None else make_run_record()
    digest = (
        (chosen.fingerprint.digest() if chosen.fingerprint else None)
        if fingerprint == "default"
        else fingerprint
    )
    return StoredRun(
        run_id=run_id,
        scenario=scenario,
        recorded_at=T0 + timedelta(minutes=minutes),
        fingerprint=digest,
        verdict=verdict,
        valid=valid,
        invalid_reason=None if valid else "k6 exited with code 107",
        record=chosen,
    )


def apply_plan(options: dict[str, Any], plan: HealPlan) -> dict[str, Any]:
    """`options` with the plan's threshold changes applied (a deep copy; the input is untouched)."""
    healed = copy.deepcopy(options)
    for change in plan.thresholds:
        items = healed["thresholds"][change.metric]
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("threshold") == change.old:
                item["threshold"] = change.new
                break
            if item == change.old:
                items[index] = change.new
                break
    return healed


def heal_until_stable(
    options: dict[str, Any], history: list[RunRecord], policy: Policy, *, rounds: int = 30
) -> tuple[dict[str, Any], list[HealPlan]]:
    """Heal repeatedly on the same history until a heal changes nothing: (final options, plans)."""
    plans: list[HealPlan] = []
    for _ in range(rounds):
        plan = propose_heal(
            scenario="s", profile_name="p.js", options=options, history=history, verdict=None, policy=policy
        )
        plans.append(plan)
        if not plan.thresholds:
            return options, plans
        options = apply_plan(options, plan)
    raise AssertionError(f"heals did not converge in {rounds} rounds: {[p.thresholds for p in plans[-2:]]}")


def make_threshold_change(
    metric: str, old: str, new: str, median: float = 380.0, spread: float = 12.0
) -> ThresholdChange:
    aggregation = old.split("<")[0].split(">")[0].strip()
    evidence = ThresholdEvidence(
        history_runs=20, median=median, spread=spread, upper_bound=median * 1.1, anchor=median, headroom=1.15
    )
    return ThresholdChange(
        metric=metric,
        aggregation=aggregation,
        old=old,
        new=new,
        old_limit=1.0,
        new_limit=2.0,
        direction="tighten",
        reason="test",
        evidence=evidence,
    )
