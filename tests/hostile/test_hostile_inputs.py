"""Hostile result files, run-meta files and environment: one row per case.

Each row writes its input, runs `perfgate analyze RESULT --record` (or the row's own
command), and asserts the exit code, a clean one-line error, and that nothing was recorded
when the input was refused.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hostile_world import CSV, EXPORT, HANDLE, MACHINE, NDJSON, assert_clean_error, run_cli, snapshot

DEEP = "[" * 5000 + "]" * 5000
POINT = (
    '{"metric":"METRIC","type":"Point","data":{"time":"TIME","value":VALUE,'
    '"tags":{"name":"list_notes","status":"200"}}}'
)


def export_with(**metrics: Any) -> str:
    doc = copy.deepcopy(EXPORT)
    doc["metrics"].update(metrics)
    return json.dumps(doc)


def handle_with(name: str, values: dict[str, Any]) -> str:
    doc = copy.deepcopy(HANDLE)
    doc["metrics"][name]["values"].update(values)
    return json.dumps(doc)


def machine_with(**config: Any) -> str:
    doc = copy.deepcopy(MACHINE)
    doc["config"] = {**(doc.get("config") or {}), **config}
    return json.dumps(doc)


def meta(**fields: Any) -> str:
    base = {"k6_exit_code": 0, "started_at": "2026-11-22T11:16:54Z", "wall_s": 5.0}
    return json.dumps({**base, **fields})


def ndjson_with(line: str) -> str:
    lines = NDJSON.splitlines()
    return "\n".join([*lines[:3], line, *lines[3:]]) + "\n"


def point(metric: str = "http_reqs", time: str = "2026-11-22T11:16:54.9Z", value: str = "1") -> str:
    return POINT.replace("METRIC", metric).replace("TIME", time).replace("VALUE", value)


def csv_with(cell: int, text: str) -> str:
    lines = CSV.splitlines()
    cells = lines[2].split(",")
    cells[cell] = text
    return "\n".join([*lines[:2], ",".join(cells), *lines[3:]]) + "\n"


@dataclass(frozen=True)
class Case:
    id: str
    result: str  # the result file's text
    expect: int
    name: str = "result.json"
    env: dict[str, str] = field(default_factory=dict)
    meta: str | None = None  # a run-meta.json: the result then goes into a run directory
    args: tuple[str, ...] = ()


OK_EXPORT = json.dumps(EXPORT)
CROSSED = 1  # the sample crosses k6's `http_req_failed rate<0.01` (exit 99): k6's verdict fails the gate
CASES = [
    Case(
        "export-deep-nesting",
        json.dumps({"metrics": {"vus": {"value": 1}}})[:-2] + "," + '"x":' + DEEP + "}}",
        3,
    ),
    Case("export-deep-nesting-metrics", '{"metrics": ' + DEEP + "}", 3),
    Case("handle-summary-deep-options", json.dumps(HANDLE)[:-1] + ', "extra": ' + DEEP + "}", 3),
    Case("ndjson-deep-line", ndjson_with(DEEP), 3, "result.ndjson"),
    Case(
        "ndjson-deep-tags",
        ndjson_with(point().replace('{"name"', '{"x":' + DEEP + ',"name"')),
        3,
        "result.ndjson",
    ),
    Case("ndjson-bad-fraction", ndjson_with(point(time="2026-11-22T11:16:54.9x65Z")), 3, "result.ndjson"),
    Case("ndjson-empty-fraction", ndjson_with(point(time="2026-11-22T11:16:54.Z")), 3, "result.ndjson"),
    Case("ndjson-sign-fraction", ndjson_with(point(time="2026-11-22T11:16:54.-5Z")), 3, "result.ndjson"),
    Case("ndjson-surrogate-metric", ndjson_with(point(metric="\\ud800")), 3, "result.ndjson"),
    Case("ndjson-surrogate-tag", ndjson_with(point().replace('"name"', '"\\udfff"')), 3, "result.ndjson"),
    Case(
        "ndjson-surrogate-tag-value",
        ndjson_with(point().replace("list_notes", "\\ud800")),
        3,
        "result.ndjson",
    ),
    Case("ndjson-inf-value", ndjson_with(point(value="1e999")), 3, "result.ndjson"),
    Case("ndjson-negative-vus", ndjson_with(point(metric="vus_max", value="-1")), 3, "result.ndjson"),
    Case("csv-bad-fraction", csv_with(1, "2026-11-22T11:16:54.9x65Z"), 3, "result.csv"),
    Case("csv-inf-value", csv_with(2, "1e999"), 3, "result.csv"),
    Case("export-surrogate-metric", export_with(**{"\ud800": {"count": 1, "rate": 1}}), 3),
    Case("export-surrogate-tag", export_with(**{"http_req_duration{\udfff:x}": {"avg": 1, "min": 1}}), 3),
    Case(
        "export-surrogate-tag-value",
        export_with(**{"http_req_duration{name:\udfff}": {"avg": 1, "min": 1}}),
        3,
    ),
    Case("export-surrogate-check", OK_EXPORT.replace('"name": "', '"name": "\\ud800', 1), 3),
    Case("export-vus-negative", export_with(vus_max={"value": -1, "min": -1, "max": -1}), 3),
    Case("export-iterations-negative", export_with(iterations={"count": -1, "rate": 1}), 3),
    Case(
        "export-avg-huge",
        export_with(http_req_duration={"avg": 1e308, "min": 1, "max": 1e308, "med": 1}),
        CROSSED,
    ),
    Case(
        "handle-avg-overflow", handle_with("http_req_duration", {"avg": "AVG"}).replace('"AVG"', "1e999"), 3
    ),
    Case("handle-vus-negative", handle_with("vus_max", {"value": -1, "max": -1}), 3),
    Case("handle-iterations-negative", handle_with("iterations", {"count": -1}), 3),
    Case(
        "handle-duration-negative",
        json.dumps({**HANDLE, "state": {**HANDLE["state"], "testRunDurationMs": -5}}),
        3,
    ),
    Case("machine-duration-inf", machine_with(duration="D").replace('"D"', "1e999"), 3),
    Case("no-color-please", OK_EXPORT, CROSSED, env={"NO_COLOR": "please"}),
    Case("perfgate-no-color-text", OK_EXPORT, CROSSED, env={"PERFGATE_NO_COLOR": "yes please"}),
    Case("llm-timeout-zero", OK_EXPORT, 2, env={"PERFGATE_LLM_TIMEOUT_S": "0"}),
    Case("llm-timeout-text", OK_EXPORT, 2, env={"PERFGATE_LLM_TIMEOUT_S": "soon"}),
    Case("llm-retries-text", OK_EXPORT, 2, env={"PERFGATE_LLM_MAX_RETRIES": "many"}),
    Case("run-meta-scenario-huge", OK_EXPORT, 3, meta=meta(scenario="../" + "x" * 3_000_000)),
    Case("run-meta-scenario-slash", OK_EXPORT, 3, meta=meta(scenario="a/../../b")),
    Case("run-meta-deep", OK_EXPORT, 3, meta=meta(scenario="s")[:-1] + ', "resources": ' + DEEP + "}"),
    Case("scenario-option-huge", OK_EXPORT, 2, args=("--scenario", "y" * 1_000_000)),
]


def execute(case: Case, tmp_path: Path) -> tuple[int, str, bool]:
    """Run one case; returns the exit code, stderr and whether anything was written."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    if case.meta is None:
        target = inputs / case.name
        target.write_text(case.result, encoding="utf-8", errors="surrogatepass")
    else:
        target = inputs
        (inputs / "summary.json").write_text(case.result, encoding="utf-8", errors="surrogatepass")
        (inputs / "run-meta.json").write_text(case.meta, encoding="utf-8")
    before = snapshot(tmp_path)
    code, stderr = run_cli(
        ["analyze", str(target), "--baselines", str(tmp_path / "b"), "--record", *case.args]
    )
    return code, stderr, snapshot(tmp_path) != before


ENV = ("NO_COLOR", "PERFGATE_NO_COLOR", "PERFGATE_LLM_TIMEOUT_S", "PERFGATE_LLM_MAX_RETRIES")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    code, stderr, wrote = execute(case, tmp_path)
    assert_clean_error(code, stderr)
    assert code == case.expect, stderr[-600:]
    if code in (2, 3):
        assert not wrote
        assert stderr.count("\n") == 1, stderr
