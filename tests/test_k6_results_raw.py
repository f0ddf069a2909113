"""perfgate.adapters.k6_results on raw points: NDJSON and CSV samples, gzip, fast path."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from perfgate.adapters.k6_results import RawOptions, k6_percentile, load_result
from perfgate.adapters.k6_results.ndjson import NdjsonReader
from perfgate.models.run import RunRecord

FIXTURES = Path(__file__).parent / "fixtures" / "k6"


def fixture(name: str) -> Path:
    return FIXTURES / name


def reference_stats(path: Path) -> dict[str, list[float]]:
    """A deliberately naive reading of an NDJSON file: values per metric and per name."""
    values: dict[str, list[float]] = defaultdict(list)
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["type"] != "Point":
            continue
        metric, tags = record["metric"], record["data"]["tags"] or {}
        values[metric].append(record["data"]["value"])
        if metric == "http_req_duration" and "name" in tags:
            values[f"{metric}{{name:{tags['name']}}}"].append(record["data"]["value"])
    return values


@pytest.mark.parametrize("name", ["basic.excerpt.ndjson", "executors.excerpt.ndjson"])
def test_ndjson_matches_a_naive_reading(name: str) -> None:
    run = load_result(fixture(name))
    assert run.source_format == "ndjson"
    for key, values in reference_stats(fixture(name)).items():
        series = run.metrics[key]
        if series.type == "trend" and key.startswith(("http_req_duration", "iteration_duration")):
            ordered = sorted(values)
            assert series.values["count"] == len(values)
            assert series.values["p(95)"] == k6_percentile(ordered, 95)
            assert series.values["med"] == k6_percentile(ordered, 50)
            assert series.values["max"] == max(values)
        elif series.type == "counter":
            assert series.values["count"] == sum(values), key
        elif series.type == "rate":
            assert series.values["passes"] == sum(1 for v in values if v), key


def test_ndjson_metric_lines_give_types_thresholds_and_declared_submetrics() -> None:
    run = load_result(fixture("basic.excerpt.ndjson"), options=RawOptions(evaluate_thresholds=False))
    duration = run.metrics["http_req_duration"]
    assert [(t.expression, t.crossed, t.judged_by) for t in duration.thresholds] == [
        ("p(95)<420", None, None),
        ("avg<300", None, None),
    ]
    assert run.metrics["http_req_duration{name:list_notes}"].values["max"] == 1.351038
    assert "http_req_duration{expected_response:true}" in run.metrics
    assert run.metrics["notes_created"].type == "counter"
    assert [(c.path, c.passes, c.fails) for c in run.checks] == [("::notes::list is 200", 1, 0)]


def test_evaluated_thresholds_are_perfgates_own() -> None:
    run = load_result(fixture("basic.excerpt.ndjson"))
    assert {t.judged_by for t in run.metrics["http_req_duration"].thresholds} == {"perfgate"}
    assert {t.expression: t.crossed for t in run.metrics["http_req_duration"].thresholds} == {
        "p(95)<420": False,
        "avg<300": False,
    }


def test_stage_tags_give_stage_stats_and_submetrics() -> None:
    run = load_result(fixture("executors.excerpt.ndjson"))
    stages = {(s.scenario, s.stage): s for s in run.stages}
    assert set(stages) >= {("ramp_vus", 0), ("rar", 0)}
    staged: defaultdict[tuple[str, int], int] = defaultdict(int)
    for line in fixture("executors.excerpt.ndjson").read_text().splitlines():
        record = json.loads(line)
        tags = record["data"].get("tags") or {}
        if record["metric"] == "http_reqs" and record["type"] == "Point" and "stage" in tags:
            staged[(tags["scenario"], int(tags["stage"]))] += 1
    assert {cell: s.requests for cell, s in stages.items()} == staged
    assert "http_req_duration{stage:0}" in run.metrics
    assert run.context.dropped_iterations == 6
    assert run.context.vus_max == 7


def test_csv_excerpt() -> None:
    run = load_result(fixture("basic.excerpt.csv"))
    assert run.source_format == "csv"
    assert run.metrics["http_reqs"].values["count"] == 4
    assert run.metrics["http_req_failed"].values == {
        "rate": 0.0,
        "passes": 0,
        "fails": 3,
    }  # excerpt ends early
    assert run.metrics["http_req_duration"].values["count"] == 4
    assert run.metrics["http_req_duration{expected_response:true}"].values["count"] == 3  # one 500
    assert "http_req_duration{name:list_notes}" in run.metrics
    assert {c.path for c in run.checks} >= {"::notes::list is 200"}
    assert run.metrics["create_latency"].type is None  # CSV carries no metric types
    typed = load_result(
        fixture("basic.excerpt.csv"), options=RawOptions(metric_types={"notes_created": "counter"})
    )
    assert typed.metrics["notes_created"].type == "counter"


def test_csv_extra_tags_and_rfc3339_offsets(tmp_path: Path) -> None:
    """Lines from k6's CSV with timeFormat=rfc3339_nano under TZ=America/New_York."""
    header = fixture("basic.excerpt.csv").read_text().splitlines()[0]
    row = (
        "{m},2026-11-22T06:27:59.264887539-05:00,{v},,,,true,,GET,slow,HTTP/1.1,default,,200,,,slow,stage=0,"
    )
    lines = [
        header,
        row.format(m="http_reqs", v="1.000000"),
        row.format(m="http_req_duration", v="501.650317"),
    ]
    path = tmp_path / "tz.csv"
    path.write_text("\n".join(lines) + "\n")
    run = load_result(path)
    assert run.metrics["http_req_duration{stage:0}"].values["max"] == 501.650317
    assert run.metrics["http_reqs{name:slow}"].values["count"] == 1
    assert [(s.scenario, s.stage, s.requests) for s in run.stages] == [("default", 0, 1)]
    assert run.context.started_at is not None
    assert run.context.started_at.isoformat() == "2026-11-22T11:27:59.264888+00:00"


def test_time_zone_offsets_are_honoured() -> None:
    run = load_result(fixture("timing-probe.tz-offset.ndjson"))
    assert run.context.started_at is not None
    assert run.context.started_at.isoformat() == "2026-11-22T11:27:59.264888+00:00"
    assert run.context.duration_s == pytest.approx(0.301325436, abs=1e-6)


@pytest.mark.parametrize("name", ["basic.excerpt.ndjson", "executors.excerpt.ndjson", "basic.excerpt.csv"])
def test_gzip_is_read_by_magic_bytes(tmp_path: Path, name: str) -> None:
    packed = tmp_path / (name + ".data")  # no .gz suffix on purpose
    packed.write_bytes(gzip.compress(fixture(name).read_bytes()))
    assert _comparable(load_result(packed)) == _comparable(load_result(fixture(name)))


def test_breakdown_values_are_optional() -> None:
    default = load_result(fixture("executors.excerpt.ndjson"))
    assert set(default.metrics["http_req_waiting"].values) == {"avg", "min", "max", "count"}
    kept = load_result(fixture("executors.excerpt.ndjson"), options=RawOptions(keep_breakdown_values=True))
    waiting = kept.metrics["http_req_waiting"].values
    assert "p(99)" in waiting
    assert {k: waiting[k] for k in ("min", "max", "count")} == {
        k: default.metrics["http_req_waiting"].values[k] for k in ("min", "max", "count")
    }


def test_name_split_is_capped_and_the_rest_folded_into_other() -> None:
    full = load_result(fixture("executors.excerpt.ndjson"))
    run = load_result(fixture("executors.excerpt.ndjson"), options=RawOptions(max_names=1))
    (kept,) = [name for name in run.endpoints() if name != "(other)"]
    assert run.endpoints() == sorted([kept, "(other)"])
    others = sum(
        full.metrics[f"http_reqs{{name:{name}}}"].values["count"] for name in full.endpoints() if name != kept
    )
    assert others > 0
    assert run.metrics["http_reqs{name:(other)}"].values["count"] == others
    assert run.notes == [
        f"more than 1 endpoint names: the requests of later names ({others:.0f}) are summed up under name (other)"
    ]
    assert full.notes == []


# --- fast path vs json path -------------------------------------------------------------

ODD_LINES = [
    # k6 layout with metadata (json path), escapes, braces and a null tag set
    '{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-22T11:16:55.1Z","value":1,'
    '"tags":{"name":"a\\u0026b","status":"200"},"metadata":{"trace_id":"x"}}}',
    '{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-22T11:16:55.2Z",'
    '"value":2.5,"tags":{"name":"x{1}","stage":"1","scenario":"s"}}}',
    '{"type":"Point","metric":"http_req_duration","data":{"value":7.25,"time":"2026-11-22T11:16:56Z",'
    '"tags":{"name":"a\\u0026b"}}}',
    '{"metric":"vus","type":"Point","data":{"time":"2026-11-22T11:16:56.5+01:00","value":3,"tags":null}}',
    "",
]


@pytest.mark.parametrize("name", ["basic.excerpt.ndjson", "executors.excerpt.ndjson"])
def test_fast_path_equals_json_path(tmp_path: Path, name: str) -> None:
    mixed = tmp_path / "mixed.ndjson"
    mixed.write_text(fixture(name).read_text() + "\n".join(ODD_LINES) + "\n")
    fast, slow = load_result(mixed), load_result(mixed, fast=False)
    assert fast.model_dump() == slow.model_dump()
    assert fast.metrics["http_req_duration{name:a&b}"].values["count"] == 1
    assert fast.metrics["http_req_duration{name:x{1}}"].values["max"] == 2.5


def test_fast_path_leaves_only_unusual_lines_to_json(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []
    original = NdjsonReader._json_line

    def spy(self: NdjsonReader, line: bytes) -> None:
        seen.append(line)
        original(self, line)

    monkeypatch.setattr(NdjsonReader, "_json_line", spy)
    load_result(fixture("executors.excerpt.ndjson"))
    assert seen and all(json.loads(line)["type"] == "Metric" for line in seen)


def _comparable(run: RunRecord) -> dict[str, object]:
    return run.model_dump(exclude={"source", "source_format"})
