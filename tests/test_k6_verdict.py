"""What a run says about itself: broken runs, k6's own verdict, what the gate covers (core, pure)."""

from __future__ import annotations

import pytest

from perfgate.core.k6_verdict import broken_reason, crossed_thresholds, gate_coverage, k6_outcome
from perfgate.core.render.gate_facts import coverage_lines, k6_lines
from perfgate.core.render.junit import render_junit
from perfgate.models import MetricSeries, Policy, RunContext, RunRecord, ThresholdResult, Verdict


def _run(metrics: dict[str, MetricSeries], exit_code: int | None = 0) -> RunRecord:
    return RunRecord(
        source_format="summary-export",
        source="s.json",
        metrics=metrics,
        context=RunContext(k6_exit_code=exit_code, k6_version="1.1.0"),
    )


def _failed(failures: int, total: int) -> MetricSeries:
    return MetricSeries(
        type="rate", values={"rate": failures / total, "passes": failures, "fails": total - failures}
    )


LATENCY = MetricSeries(type="trend", contains="time", values={"p(95)": 40.0, "p(99)": 60.0, "count": 10})


@pytest.mark.parametrize(
    ("metrics", "exit_code", "expected"),
    [
        ({"http_req_failed": _failed(0, 100)}, 0, None),
        ({"http_req_failed": _failed(49, 100)}, 0, None),
        ({"http_req_failed": _failed(50, 100)}, 0, "50% of the requests failed"),
        ({"http_req_failed": _failed(100, 100)}, 0, "none of the 100 requests succeeded"),
        ({"http_req_failed": _failed(0, 100)}, 108, "k6 exited 108 (test aborted by the script)"),
        ({"http_req_failed": _failed(0, 100)}, 110, "k6 exited 110"),
        ({"http_req_failed": _failed(0, 100)}, 99, None),
        ({"iteration_duration": LATENCY}, 0, None),  # a browser or gRPC run has no http_req_failed
    ],
)
def test_broken_runs(metrics: dict[str, MetricSeries], exit_code: int, expected: str | None) -> None:
    reason = broken_reason(_run(metrics, exit_code))
    assert (reason is None) if expected is None else (reason is not None and expected in reason)


def test_crossed_thresholds_carry_the_observed_value_and_fail_the_gate_unless_advisory() -> None:
    series = LATENCY.model_copy(
        update={
            "thresholds": [
                ThresholdResult(expression="p(95) < 30", crossed=True),
                ThresholdResult(expression="p(99)<100", crossed=False),
            ]
        }
    )
    run = _run({"http_req_duration": series}, exit_code=99)
    (crossed,) = crossed_thresholds(run)
    assert (crossed.metric, crossed.expression, crossed.observed) == ("http_req_duration", "p(95) < 30", 40.0)
    gate = k6_outcome(run, Policy())
    advisory = k6_outcome(run, Policy(k6_thresholds="advisory"))
    assert gate.meaning == "thresholds crossed" and gate.fails_gate and not advisory.fails_gate
    verdict = Verdict(verdict="pass", reason="r", scenario="s", source="s.json", history_runs=5, k6=gate)
    assert verdict.exit_code == 1
    assert verdict.model_copy(update={"k6": advisory}).exit_code == 0
    lines = k6_lines(verdict)
    assert lines[0].startswith(
        "k6 v1.1.0: exit 99 (thresholds crossed); 1 threshold(s) crossed, fails the gate"
    )
    assert "p(95) < 30 (observed 40" in lines[1]
    assert 'type="k6_threshold"' in render_junit(verdict)


def test_the_gate_says_what_it_covered_and_why_not_the_rest() -> None:
    never_seen = MetricSeries(type="trend", contains="time", values={"p(95)": 0.0, "p(99)": 0.0, "count": 0})
    run = _run(
        {
            "http_req_duration": LATENCY,
            "http_req_duration{name:login}": LATENCY,
            "http_req_duration{name:never_seen}": never_seen,
            "http_req_failed": _failed(0, 10),
            "browser_web_vital_cls": MetricSeries(type="trend", values={"p(95)": 0.08, "count": 4}),
            "iteration_duration": LATENCY,
            "orders_placed": MetricSeries(type="counter", values={"count": 3}),
        }
    )
    gated, not_gated = gate_coverage(run, Policy())
    assert "http_req_duration{name:login} p(95)" in gated and "browser_web_vital_cls p(95)" in gated
    assert "http_req_failed rate" in gated
    assert not any(item.startswith("http_req_duration p(") for item in gated)
    assert not any("never_seen" in item for item in gated)
    text = "\n".join(not_gated)
    assert "http_req_duration: judged through http_req_duration{name:*}" in text
    assert "never_seen}: no samples" in text
    assert "iteration_duration: judged through http_req_duration" in text
    assert "orders_placed: custom metric" in text
    verdict = Verdict(verdict="pass", reason="r", scenario="s", source="s.json", history_runs=5)
    shown = coverage_lines(verdict.model_copy(update={"gated": gated, "not_gated": not_gated}))
    assert shown[0].startswith("gated: ") and all(line.startswith(("gated", "not gated")) for line in shown)
