"""Every bad result file → InputDataError (exit 3) naming the file, on one line."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from perfgate.adapters.k6_results import load_result
from perfgate.errors import InputDataError

FIXTURES = Path(__file__).parent / "fixtures" / "k6"
EXPORT = (FIXTURES / "basic.summary-export.json").read_text()
NDJSON = (FIXTURES / "basic.excerpt.ndjson").read_text()
CSV = (FIXTURES / "basic.excerpt.csv").read_text()
MACHINE = json.loads((FIXTURES / "machine-summary.v1.json").read_text())
POINT = (
    '{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-22T11:16:54.7Z","value":VALUE,'
    '"tags":{"name":"x"}}}'
)


def text(content: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(content)


def raw(content: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(content)


def ndjson_with(line_3: str) -> str:
    lines = NDJSON.splitlines()
    return "\n".join([*lines[:2], line_3, *lines[2:]]) + "\n"


def machine(version: str) -> str:
    return json.dumps({**MACHINE, "version": version})


CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("empty", text(""), "empty file"),
    ("blank", text("  \n\n"), "empty file"),
    ("truncated-export", text(EXPORT[: len(EXPORT) // 2]), "truncated JSON"),
    ("broken-json", text('{"metrics": {"x": 1,, }}'), "invalid JSON"),
    (
        "export-wrong-shape",
        text('{"metrics": {"http_reqs": {"count": "many"}}, "root_group": {}}'),
        "http_reqs",
    ),
    ("export-bool-value", text('{"metrics": {"http_reqs": {"count": true}}, "root_group": {}}'), "count"),
    ("export-nan", text('{"metrics": {"http_reqs": {"count": NaN, "rate": 1}}}'), "NaN"),
    ("export-infinity", text('{"metrics": {"vus": {"value": -Infinity}}}'), "Infinity"),
    ("export-overflow", text('{"metrics": {"vus": {"value": 1e999}}}'), "finite number"),
    ("export-empty-metrics", text('{"metrics": {}, "root_group": {"name": ""}}'), "no metrics"),
    (
        "export-bad-checks",
        text('{"metrics": {"vus": {"value": 1}}, "root_group": {"checks": {"c": {}}}}'),
        "name",
    ),
    (
        "handle-summary-bad-type",
        text('{"metrics": {"x": {"type": "histogram", "values": {}}}, "state": {}}'),
        "type",
    ),
    (
        "handle-summary-bad-ok",
        text(
            '{"metrics": {"x": {"type": "rate", "values": {}, "thresholds": {"a": {"ok": 1}}}}, "options": {}}'
        ),
        "ok",
    ),
    ("machine-v2", text(machine("2.0.0")), "version 2.0.0 is not supported"),
    ("machine-no-metrics", text(json.dumps({**MACHINE, "results": {"metrics": []}})), "no metrics"),
    (
        "machine-bad-rate",
        text(machine("1.0.0").replace('"matches": 15', '"matches": -15')),
        "0 <= matches <= total",
    ),
    ("json-not-k6", text('{"foo": 1, "bar": [1, 2]}'), "not a k6 result: expected"),
    ("json-array", text("[1, 2, 3]"), "not a k6 result: expected"),
    ("json-string", text('"metrics"'), "not a k6 result: expected"),
    ("binary", raw(random.Random(3).randbytes(4096)), "binary data"),
    ("png", raw(b"\x89PNG\r\n\x1a\n" + bytes(200)), "binary data"),
    ("text", text("hello world\nnot k6\n"), "not a k6 result: expected"),
    ("csv-wrong-header", text("time,metric,value\n1,http_reqs,1\n"), "CSV header"),
    ("csv-only-header", text(CSV.splitlines()[0] + "\n"), "no data points"),
    ("csv-bad-value", text(CSV.replace("1.351038", "fast", 1)), "line 3: bad metric_value"),
    ("csv-short-row", text(CSV + "http_reqs,1795346214\n"), "line 41"),
    ("csv-missing-cells", text(CSV + "http_reqs,1795346214,1,true\n"), "line 41: expected 19 CSV columns"),
    ("csv-bad-time", text(CSV.replace("1795346214", "yesterday", 1)), "line 2: bad timestamp"),
    ("ndjson-not-json", text(ndjson_with("this is not json")), "line 3: not JSON"),
    ("ndjson-truncated-line", text(NDJSON + NDJSON.splitlines()[1][:40]), "line 29: not JSON"),
    ("ndjson-nan", text(ndjson_with(POINT.replace("VALUE", "NaN"))), "line 3: NaN is not a valid number"),
    (
        "ndjson-overflow",
        text(ndjson_with(POINT.replace("VALUE", "1e999"))),
        "line 3: number 1e999 is out of range",
    ),
    (
        "ndjson-string-value",
        text(ndjson_with(POINT.replace("VALUE", '"1"'))),
        "line 3: Point line: data.value",
    ),
    (
        "ndjson-bad-tags",
        text(ndjson_with(POINT.replace('"name":"x"', '"name":1').replace("VALUE", "1"))),
        "line 3",
    ),
    (
        "ndjson-bad-time",
        text(ndjson_with(POINT.replace("2026-11-22T11:16:54.7Z", "soon").replace("VALUE", "1"))),
        "line 3: bad timestamp",
    ),
    (
        "ndjson-other-object",
        text(ndjson_with('{"type": "Log", "msg": "hi"}')),
        "line 3: not a k6 Metric or Point",
    ),
    ("ndjson-only-metric-lines", text(NDJSON.splitlines()[0] + "\n"), "no data points"),
    ("gzip-truncated", raw(gzip.compress(NDJSON.encode() * 50)[:300]), "truncated gzip"),
    ("gzip-corrupt", raw(b"\x1f\x8b\x08\x00" + bytes(100)), "gzip"),
    ("gzip-of-binary", raw(gzip.compress(bytes(range(256)) * 8)), "binary data"),
    ("gzip-empty", raw(gzip.compress(b"")), "empty file"),
]


@pytest.mark.parametrize(("name", "write", "problem"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_reported_with_the_file_name(
    tmp_path: Path, name: str, write: Callable[[Path], object], problem: str
) -> None:
    path = tmp_path / f"{name}.result"
    write(path)
    with pytest.raises(InputDataError) as caught:
        load_result(path)
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert path.name in message
    assert problem in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"nope\.json: cannot read"):
        load_result(tmp_path / "nope.json")


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="cannot read"):
        load_result(tmp_path)
