"""Fixed synthetic inputs for the renderers: one verdict per kind, a history, a run, a heal plan.

Other render tests import these (`from test_render_cases import ...`); the tests at the end only
check that the cases stay what the golden files assume.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from perfgate.models import (
    CrossedThreshold,
    Finding,
    HealPlan,
    K6Outcome,
    LoadFingerprint,
    MetricSeries,
    ResourceSample,
    ResourceUsage,
    RunContext,
    RunRecord,
    RunSummaryRow,
    Stage,
    StageChange,
    StageStats,
    StoredRun,
    ThresholdChange,
    ThresholdEvidence,
    Verdict,
    VerdictKind,
)
from perfgate.models.detect import ChangePoint, MetricTrend, TrendReport

KINDS: tuple[VerdictKind, ...] = (
    "pass",
    "improvement",
    "noise",
    "warn",
    "regression",
    "no_baseline",
    "broken",
)
ACK_UNTIL = date(2026, 12, 15)
ENDPOINTS = {
    "list_notes": 20.0,
    "get_note": 12.0,
    "create_note": 30.0,
    "update_note": 28.0,
    "search_notes": 45.0,
}
FINGERPRINT = LoadFingerprint(
    executor="ramping-vus",
    stages=[
        Stage(duration="10s", target=5),
        Stage(duration="20s", target=10),
        Stage(duration="10s", target=0),
    ],
)
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def finding(
    endpoint: str | None,
    stat: str,
    baseline: float | None,
    observed: float,
    kind: str = "pass",
    *,
    confidence: float = 0.5,
    reason: str = "",
) -> Finding:
    if endpoint is None:
        metric, unit, direction = ("checks", "ratio", "lower_is_worse")
    elif stat == "rate":
        metric, unit, direction = (f"http_req_failed{{name:{endpoint}}}", "ratio", "higher_is_worse")
    else:
        metric, unit, direction = (f"http_req_duration{{name:{endpoint}}}", "ms", "higher_is_worse")
    ratio = None if not baseline else observed / baseline
    change_abs = None if baseline is None else observed - baseline
    return Finding.model_validate(
        {
            "metric": metric,
            "stat": stat,
            "endpoint": endpoint,
            "direction": direction,
            "unit": unit,
            "baseline": baseline,
            "observed": observed,
            "change_ratio": ratio,
            "change_abs": change_abs,
            "classification": kind,
            "confidence": confidence,
            "detectors": ["robust_pi"] if kind != "pass" else [],
            "reason": reason or f"{metric} {stat} ({baseline} → {observed})",
        }
    )


def _findings(moved: dict[str, tuple[float, str]]) -> list[Finding]:
    """Every endpoint's p95/p99/error rate; `moved[endpoint] = (factor, classification)`."""
    out = []
    for name, p95 in ENDPOINTS.items():
        factor, kind = moved.get(name, (1.02, "pass"))
        conf = 0.99 if kind != "pass" else 0.4
        out.append(finding(name, "p(95)", p95, round(p95 * factor, 2), kind, confidence=conf))
        out.append(finding(name, "p(99)", p95 * 1.4, round(p95 * 1.4 * factor, 2), kind, confidence=conf))
        out.append(finding(name, "rate", 0.0, 0.0))
    out.append(finding(None, "rate", 1.0, 1.0))
    return out


def summary_rows() -> list[RunSummaryRow]:
    rows = [
        RunSummaryRow(
            endpoint=name,
            requests=600,
            p50_ms=p95 / 2,
            p95_ms=p95,
            p99_ms=p95 * 1.4,
            error_rate=0.0,
            rps=15.0,
        )
        for name, p95 in ENDPOINTS.items()
    ]
    return [*rows, RunSummaryRow(endpoint="(all)", requests=3000, p95_ms=40.0, error_rate=0.0, rps=75.0)]


_REASONS: dict[VerdictKind, str] = {
    "pass": "All 16 gated metrics are within the noise of 24 comparable runs.",
    "improvement": "2 improvement(s): search_notes p(95) ×0.61, search_notes p(99) ×0.61.",
    "noise": "All 5 endpoints ×1.32 together and k6's own timings moved with them: a slow runner; re-run advised.",
    "warn": "2 known change(s), not failing the gate: search_notes p(95) ×1.51 (acknowledged until 2026-12-01).",
    "regression": "2 regression(s): search_notes p(95) ×1.45, search_notes p(99) ×1.45.",
    "no_baseline": "No history yet for scenario 'notes-smoke': record runs to build a baseline.",
    "broken": "Broken run: k6 exited 107 (script error): the test did not run as written. It is not "
    "compared with the history and never recorded as a baseline.",
}
# k6's stderr of a script that throws in init (k6 v1.1.0, as `perfgate run` keeps it in run-meta).
BROKEN_LOG_TAIL = [
    'time="2026-11-01T02:00:00Z" level=error msg="Error: boom in init\\n\\tat file:///w/broken.js:1:7(3)\\n" '
    'hint="script exception"',
]
_MOVED: dict[VerdictKind, dict[str, tuple[float, str]]] = {
    "pass": {},
    "improvement": {"search_notes": (0.61, "improvement")},
    "noise": {name: (1.32, "noise") for name in ENDPOINTS},
    "warn": {"search_notes": (1.51, "warn")},
    "regression": {"search_notes": (1.45, "regression")},
}


def make_verdict(kind: VerdictKind) -> Verdict:
    """The fixed synthetic verdict of each kind the golden files are built from."""
    if kind == "broken":
        return _broken_verdict()
    no_history = kind == "no_baseline"
    notices = ["1 stored run left out of the baseline: an invalid run."] if kind == "regression" else []
    if kind == "noise":
        notices.append("the run is anomalous as a whole (Isolation Forest: below all 24 history runs)")
    return Verdict(
        verdict=kind,
        reason=_REASONS[kind],
        scenario="notes-smoke",
        source="summary.json",
        history_runs=0 if no_history else 24,
        findings=[] if no_history else _findings(_MOVED[kind]),
        summary=summary_rows(),
        resources={
            "cpu_peak_percent": 87.0,
            "cpu_mean_percent": 41.0,
            "rss_peak_mb": 96.0,
            "rss_mean_mb": 90.0,
        },
        notices=notices,
    )


def _broken_verdict() -> Verdict:
    """k6 refused the script (exit 107): no numbers, k6's own last log line as the evidence."""
    return Verdict(
        verdict="broken",
        reason=_REASONS["broken"],
        scenario="notes-smoke",
        source="run",
        history_runs=0,
        k6=K6Outcome(exit_code=107, meaning="script error", version="1.1.0", log_tail=BROKEN_LOG_TAIL),
    )


def make_k6_thresholds_verdict() -> Verdict:
    """A pass against the history whose run crossed three of k6's own thresholds (exit 99)."""
    crossed = [
        CrossedThreshold(metric="checks", expression="rate>0.99", observed=0.95),
        CrossedThreshold(metric="http_req_duration{name:search_notes}", expression="p(95)<40", observed=45.9),
        CrossedThreshold(metric="http_req_failed", expression="rate<0.01", observed=0.049),
    ]
    gated = [f"http_req_duration{{name:{name}}} p(95)" for name in ENDPOINTS] + ["http_req_failed rate"]
    return make_verdict("pass").model_copy(
        update={
            "k6": K6Outcome(exit_code=99, meaning="thresholds crossed", version="1.1.0", crossed=crossed),
            "gated": gated,
            "not_gated": ["notes_created: custom metric; add a rule to the policy file to gate it"],
        }
    )


def make_plan() -> HealPlan:
    evidence = ThresholdEvidence(history_runs=24, median=11.8, spread=0.6, upper_bound=13.1, headroom=1.15)
    return HealPlan(
        scenario="notes-smoke",
        profile="loadtests/profiles/smoke.yaml",
        verdict="improvement",
        thresholds=[
            ThresholdChange(
                metric="http_req_duration{name:get_note}",
                aggregation="p(95)",
                old="p(95)<150",
                new="p(95)<16",
                old_limit=150,
                new_limit=16,
                direction="tighten",
                reason="sustained improvement: the limit follows the history",
                evidence=evidence,
            )
        ],
        stages=[
            StageChange(
                kind="lengthen_ramp",
                scenario="default",
                stage=0,
                old=[Stage(duration="10s", target=5)],
                new=[Stage(duration="20s", target=5)],
                reason="errors cluster in the ramp-up",
            )
        ],
    )


def _record(p95s: dict[str, float], *, detail: bool = False) -> RunRecord:
    metrics = {}
    for name, p95 in p95s.items():
        values = {"med": p95 / 2, "p(95)": p95, "p(99)": p95 * 1.4, "count": 600.0}
        metrics[f"http_req_duration{{name:{name}}}"] = MetricSeries(
            type="trend", contains="time", values=values
        )
        metrics[f"http_req_failed{{name:{name}}}"] = MetricSeries(type="rate", values={"rate": 0.0})
    metrics["checks"] = MetricSeries(type="rate", values={"rate": 1.0})
    context = RunContext(duration_s=40.0, vus_max=10, http_reqs=3000, http_reqs_per_s=75.0)
    if not detail:
        return RunRecord(
            source_format="summary-export", source="summary.json", metrics=metrics, context=context
        )
    stages = [
        StageStats(
            scenario="default", stage=0, requests=600, failed=0, p95_ms=31.0, p99_ms=44.0, error_rate=0.0
        ),
        StageStats(
            scenario="default", stage=1, requests=1900, failed=19, p95_ms=58.0, p99_ms=81.0, error_rate=0.01
        ),
        StageStats(
            scenario="default", stage=2, requests=500, failed=0, p95_ms=27.0, p99_ms=35.0, error_rate=0.0
        ),
    ]
    samples = [
        ResourceSample(t_s=float(t), cpu_percent=20 + 60 * np.sin(t / 13) ** 2, rss_mb=80 + t / 4)
        for t in range(41)
    ]
    resources = ResourceUsage(
        source="pid 4242 (+children)", interval_s=1.0, samples=samples, cpu_peak_percent=80.0
    )
    return RunRecord(
        source_format="ndjson",
        source="raw.ndjson.gz",
        metrics=metrics,
        context=context,
        fingerprint=FINGERPRINT,
        stages=stages,
        resources=resources,
    )


def make_history(runs: int = 24, *, seed: int = 7, step_at: int | None = None) -> list[StoredRun]:
    """Stored runs with log-normal noise; `step_at`: search_notes is 25 % slower from that run on."""
    rng = np.random.default_rng(seed)
    history = []
    for i in range(runs):
        p95s = {name: float(p95 * np.exp(rng.normal(0, 0.05))) for name, p95 in ENDPOINTS.items()}
        if step_at is not None and i >= step_at:
            p95s["search_notes"] *= 1.25
        history.append(
            StoredRun(
                run_id=f"2026110{1 + i // 10}T{i % 10:02d}0000Z-{i:04x}",
                scenario="notes-smoke",
                recorded_at=T0 + timedelta(hours=i),
                fingerprint=FINGERPRINT.digest(),
                record=_record(p95s),
            )
        )
    return history


def make_run() -> RunRecord:
    """The candidate of the regression case, with per-stage numbers and resource samples."""
    p95s = {name: p95 * (1.45 if name == "search_notes" else 1.02) for name, p95 in ENDPOINTS.items()}
    return _record(p95s, detail=True)


def make_trend(history: list[StoredRun], step_at: int) -> TrendReport:
    point = ChangePoint(
        run_id=history[step_at].run_id,
        index=step_at,
        mean_before=45.0,
        mean_after=56.0,
        change_ratio=56.0 / 45.0,
        classification="regression",
    )
    trend = MetricTrend(
        metric="http_req_duration{name:search_notes}",
        stat="p(95)",
        direction="higher_is_worse",
        runs=len(history),
        change_points=[point],
    )
    return TrendReport(runs=len(history), penalty_rule="test", metrics=[trend])


def test_every_kind_has_a_case_whose_verdict_matches() -> None:
    for kind in KINDS:
        assert make_verdict(kind).verdict == kind


def test_history_is_fixed_by_its_seed() -> None:
    first, second = make_history(), make_history()
    assert [r.model_dump() for r in first] == [r.model_dump() for r in second]
