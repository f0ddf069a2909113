"""`perfgate compare` end to end: the real k6 binary against two real notes APIs on 127.0.0.1."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from perfgate.adapters.k6_results.requests import load_request_samples
from perfgate.cli import main
from perfgate.errors import InputDataError

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "loadtests" / "notes.js"


@pytest.fixture
def half_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each half: 4 VUs for 2 s, with a short think time so every endpoint gets ~50 requests."""
    monkeypatch.setenv("THINK_TIME", "0.01")  # notes.js reads it from the environment k6 passes on
    path = tmp_path / "half.yaml"
    path.write_text(
        yaml.safe_dump({"scenarios": {"notes": {"executor": "constant-vus", "vus": 4, "duration": "2s"}}})
    )
    return path


def _compare(
    tmp_path: Path, base: str, head: str, profile: Path, *extra: str
) -> tuple[int, dict[str, object]]:
    out = io.StringIO()
    argv = [
        "compare",
        "--base-url",
        base,
        "--head-url",
        head,
        "--script",
        str(SCRIPT),
        "--profile",
        str(profile),
    ]
    code = main([*argv, "--out-dir", str(tmp_path / "cmp"), "--format", "json", *extra], stdout=out)
    return code, json.loads(out.getvalue()) if out.getvalue() else {}


@pytest.mark.k6
def test_injected_latency_on_one_endpoint_is_a_regression(
    tmp_path: Path, half_profile: Path, notes_server_factory: Callable[..., object]
) -> None:
    base = notes_server_factory()
    head = notes_server_factory(NOTES_FAULT_LATENCY_MS="search_notes=300")
    code, result = _compare(tmp_path, base.base_url, head.base_url, half_profile, "--max-pairs", "4")  # type: ignore[attr-defined]
    assert code == 1 and result["verdict"] == "regression"
    metrics = {m["name"]: m for m in result["metrics"]}  # type: ignore[attr-defined]
    search = metrics["http_req_duration{name:search_notes}"]
    assert search["verdict"] == "regression" and search["ci_low_pct"] > search["min_effect_pct"]
    assert search["head"] > search["base"] + 250
    assert all(
        m["verdict"] != "regression"
        for name, m in metrics.items()
        if "search_notes" not in name and "{" in name
    )
    halves = [(h["pair"], h["arm"]) for h in result["halves"]]  # type: ignore[attr-defined]
    assert halves[:4] == [(1, "base"), (1, "head"), (2, "head"), (2, "base")]
    assert len(halves) == 2 * result["pairs"]  # type: ignore[operator]
    cmp = tmp_path / "cmp"
    for name in ("compare.json", "report.md", "report.html"):
        assert (cmp / name).is_file()
    assert "search\\_notes latency" in (cmp / "report.md").read_text()
    summary = json.loads((cmp / "pair-01-head" / "summary.json").read_text())
    samples = load_request_samples(cmp / "pair-01-head" / "raw.ndjson.gz", "head")
    setup_requests = 1  # notes.js checks /healthz in setup(); not part of the load model
    total = sum(s.requests for s in samples.endpoints.values())
    assert total == summary["metrics"]["http_reqs"]["count"] - setup_requests


@pytest.mark.k6
def test_a_a_comparison_is_never_a_regression(
    tmp_path: Path, half_profile: Path, notes_server_factory: Callable[..., object]
) -> None:
    first, second = notes_server_factory(), notes_server_factory()
    code, result = _compare(tmp_path, first.base_url, second.base_url, half_profile, "--max-pairs", "2")  # type: ignore[attr-defined]
    assert code == 0
    assert result["verdict"] in ("same", "unsure") and result["pairs"] == 2


@pytest.mark.k6
def test_a_target_that_is_down_is_an_external_failure(
    tmp_path: Path,
    half_profile: Path,
    notes_server_factory: Callable[..., object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = notes_server_factory()
    code, result = _compare(tmp_path, base.base_url, "http://127.0.0.1:9", half_profile)  # type: ignore[attr-defined]
    assert code == 4 and result == {}
    assert "k6" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "ftp://x", "--head-url", "http://127.0.0.1:1"], "--base-url"),
        (["--base-url", "http://127.0.0.1:1", "--head-url", "127.0.0.1:2"], "--head-url"),
        (
            ["--base-url", "http://a", "--head-url", "http://b", "--min-pairs", "5", "--max-pairs", "3"],
            "min_pairs",
        ),
        (["--base-url", "http://a", "--head-url", "http://b", "--min-pairs", "1"], "--min-pairs"),
        (["--base-url", "http://a", "--head-url", "http://b", "--alpha", "0.7"], "--alpha"),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", *args, "--script", str(SCRIPT)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_missing_script_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--base-url", "http://a", "--head-url", "http://b", "--script", "nope.js"]) == 2
    assert "--script" in capsys.readouterr().err


def _ndjson(path: Path, lines: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
    return path


def _point(metric: str, value: float, **tags: str) -> dict[str, object]:
    return {
        "metric": metric,
        "type": "Point",
        "data": {"time": "2026-01-01T00:00:00Z", "value": value, "tags": tags},
    }


def test_request_samples_leave_setup_out_and_count_failures(tmp_path: Path) -> None:
    path = _ndjson(
        tmp_path / "raw.ndjson.gz",
        [
            {
                "type": "Metric",
                "metric": "http_req_duration",
                "data": {"name": "http_req_duration", "type": "trend"},
            },
            _point("http_req_duration", 9.0, name="healthz", group="::setup"),
            _point("http_req_failed", 0, name="healthz", group="::setup"),
            _point("http_req_duration", 3.5, name="get"),
            _point("http_req_failed", 0, name="get"),
            _point("http_req_duration", 4.5, name="get"),
            _point("http_req_failed", 1, name="get"),
            _point("http_req_duration", 7.0, url="http://x/"),
            _point("http_req_failed", 0, url="http://x/"),
            _point("iterations", 1),
        ],
    )
    samples = load_request_samples(path, "base")
    assert set(samples.endpoints) == {"get", "(unnamed)"}
    assert samples.endpoints["get"].latency_ms == (3.5, 4.5) and samples.endpoints["get"].failed == 1


def test_untagged_requests_pair_up_across_base_and_head_urls(tmp_path: Path) -> None:
    """k6 names an untagged request by its URL, and base and head are different URLs: each arm's
    requests are grouped by the templated path, so the arms share their endpoints."""
    endpoints = []
    for arm, port, note in (("base", 18081, 7), ("head", 18082, 4711)):
        lines = []
        for url in (f"http://127.0.0.1:{port}/notes/{note}", f"http://127.0.0.1:{port}/post"):
            lines += [
                _point("http_req_duration", 3.0, name=url, url=url),
                _point("http_req_failed", 0, name=url, url=url),
            ]
        samples = load_request_samples(_ndjson(tmp_path / f"{arm}.ndjson.gz", lines), arm)  # type: ignore[arg-type]
        endpoints.append(set(samples.endpoints))
    assert endpoints[0] == endpoints[1] == {"/notes/{id}", "/post"}


def test_a_broken_raw_file_is_bad_input_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "raw.ndjson"
    path.write_text(
        json.dumps(_point("http_req_duration", 1.0, name="a"))
        + '\n{"metric":"http_req_duration","type":"Point"\n'
    )
    with pytest.raises(InputDataError, match="line 2"):
        load_request_samples(path, "head")
    path.write_text(json.dumps(_point("iterations", 1.0)) + "\n")
    with pytest.raises(InputDataError, match="no http_req_duration"):
        load_request_samples(path, "head")
