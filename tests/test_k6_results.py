"""perfgate.adapters.k6_results on k6's summary files (samples: tests/fixtures/k6/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfgate.adapters.k6_results import load_result
from perfgate.models.run import MetricKey

FIXTURES = Path(__file__).parent / "fixtures" / "k6"


def fixture(name: str) -> Path:
    return FIXTURES / name


def test_summary_export_basic_values_and_crossed_threshold() -> None:
    run = load_result(fixture("basic.summary-export.json"))
    assert run.source_format == "summary-export"
    assert run.source == "basic.summary-export.json"
    failed = run.metrics["http_req_failed"]
    assert failed.type == "rate"
    assert failed.values == {"passes": 15, "fails": 290, "rate": 0.04918032786885246}
    assert [(t.expression, t.crossed) for t in failed.thresholds] == [("rate<0.01", True)]
    duration = run.metrics["http_req_duration"]
    assert duration.type == "trend" and duration.contains == "time"
    assert duration.values["p(95)"] == 30.9278532
    assert [(t.expression, t.crossed) for t in duration.thresholds] == [
        ("avg<300", False),
        ("p(95)<420", False),
    ]
    assert run.metrics["vus"].type == "gauge"
    assert run.metrics["notes_created"].type == "counter"
    assert run.metrics["create_latency"].type == "trend"
    assert run.endpoints() == ["list_notes"]


def test_summary_export_checks_and_context() -> None:
    run = load_result(fixture("basic.summary-export.json"))
    checks = {c.path: (c.passes, c.fails) for c in run.checks}
    assert checks == {
        "::notes::list is 200": (61, 0),
        "::notes::create is 201": (61, 0),
        "::notes::get is 200": (61, 0),
        "::misc::flaky is 200": (46, 15),
    }
    ctx = run.context
    assert (ctx.http_reqs, ctx.iterations, ctx.vus_max, ctx.dropped_iterations) == (305, 61, 3, 0)
    assert ctx.http_reqs_per_s == 49.76978908181675
    assert ctx.duration_s == pytest.approx(305 / 49.76978908181675)


def test_summary_export_many_thresholds_and_sorted_keys() -> None:
    run = load_result(fixture("thresholds.summary-export.json"))
    assert "http_req_duration{method:POST,status:201}" in run.metrics
    assert "http_req_duration{group:::reads}" in run.metrics
    crossed = {t.expression: t.crossed for t in run.metrics["http_req_failed"].thresholds}
    assert crossed == {"rate<0.5": False, "rate==0": True}
    assert run.metrics["my_gauge"].type == "gauge"


def test_selectors_are_normalised(tmp_path: Path) -> None:
    doc = json.loads(fixture("thresholds.summary-export.json").read_text())
    doc["metrics"]["http_req_duration{status:201,method:POST}"] = doc["metrics"].pop(
        "http_req_duration{method:POST,status:201}"
    )
    path = tmp_path / "unsorted.json"
    path.write_text(json.dumps(doc))
    run = load_result(path)
    assert "http_req_duration{method:POST,status:201}" in run.metrics
    assert all(str(MetricKey.parse(key)) == key for key in run.metrics)


def test_handle_summary() -> None:
    run = load_result(fixture("handle-summary.compact.json"))
    assert run.source_format == "handle-summary"
    failed = run.metrics["http_req_failed"]
    assert failed.values["rate"] == pytest.approx(0.0491803, rel=1e-5)
    assert [(t.expression, t.crossed) for t in failed.thresholds] == [("rate<0.01", True)]
    assert all(t.crossed is False for t in run.metrics["http_req_duration"].thresholds)
    assert run.context.duration_s == pytest.approx(6.107964507)
    assert {c.path for c in run.checks} == {
        "::notes::list is 200",
        "::notes::create is 201",
        "::notes::get is 200",
        "::misc::flaky is 200",
    }
    assert run.context.http_reqs == 305


def test_machine_readable_summary_v1() -> None:
    run = load_result(fixture("machine-summary.v1.json"))
    assert run.source_format == "machine-summary"
    assert run.context.k6_version == "1.5.0"
    assert run.context.duration_s == 6.107964507
    failed = run.metrics["http_req_failed"]
    assert failed.values == {"passes": 15, "fails": 290, "rate": 0.04918032786885246}
    reqs = run.metrics["http_reqs"].values
    assert reqs["count"] == 305 and reqs["rate"] == pytest.approx(305 / 6.107964507)
    assert run.metrics["checks"].values["rate"] == pytest.approx(229 / 244)
    assert {c.name: (c.passes, c.fails) for c in run.checks}["flaky is 200"] == (46, 15)
    assert run.context.vus_max == 3


def test_same_run_export_and_handle_summary_agree() -> None:
    """handle-summary.compact.json and its .also-summary-export came from one k6 run."""
    export = load_result(fixture("handle-summary.compact.also-summary-export.json"))
    summary = load_result(fixture("handle-summary.compact.json"))
    assert export.metrics.keys() == summary.metrics.keys()
    for key, series in export.metrics.items():
        assert series.values == summary.metrics[key].values, key
        assert series.thresholds == summary.metrics[key].thresholds, key
