"""The real k6 binary against a tiny local server; every output format read back.

One ~2.5 s k6 run (module fixture) writes --summary-export, a handleSummary JSON, NDJSON
(plain and .gz) and CSV (rfc3339_nano). Then the formats must agree: counts exactly, and
percentiles recomputed from raw points equal k6's own. k6 writes the raw values with full
float precision (NDJSON: shortest round-trip text; CSV: %f, i.e. whole nanoseconds for
times in ms, which is all a Go duration holds), and we sort and interpolate exactly as k6
does, so order statistics come out bit-identical; only `avg` may differ in the last bits
(k6 adds values in arrival order, we per signature). Hence rel=1e-9.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from perfgate.adapters.k6_results import BREAKDOWN_TRENDS, RawOptions, load_result
from perfgate.models.run import MetricKey, RunRecord

pytestmark = pytest.mark.k6

TREND_STATS = "avg,min,med,max,p(90),p(95),p(99),count"
SCRIPT = """
import http from 'k6/http';
import exec from 'k6/execution';
import { check, group, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const BASE = __ENV.BASE_URL;
const flakyLatency = new Trend('flaky_latency', true);
const items = new Counter('items');

export const options = {
  scenarios: {
    default: {
      executor: 'ramping-vus', startVUs: 1, gracefulRampDown: '0s',
      stages: [{ duration: '1s', target: 2 }, { duration: '1500ms', target: 2 }],
    },
  },
  thresholds: {
    http_req_duration: ['p(95)<2000', 'max<5000'],
    'http_req_duration{name:fast}': ['p(95)<1000'],
    'http_req_duration{method:GET,status:200}': ['p(99)<3000'],
    'http_reqs{name:fast}': ['count>0'],
    'http_req_failed{name:flaky}': ['rate<0.5'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.5'],
  },
};

export default function () {
  exec.vu.metrics.tags.stage = Date.now() - exec.scenario.startTime < 1000 ? '0' : '1';
  group('api', function () {
    const r = http.get(`${BASE}/fast`, { tags: { name: 'fast' } });
    check(r, { 'fast is 200': (x) => x.status === 200 });
    http.get(`${BASE}/slow?ms=3`, { tags: { name: 'slow' } });
  });
  const f = http.get(`${BASE}/flaky`, { tags: { name: 'flaky' } });
  check(f, { 'flaky is 200': (x) => x.status === 200 });
  flakyLatency.add(f.timings.duration);
  items.add(3);
  sleep(0.01);
}

export function handleSummary(data) {
  return { 'handle-summary.json': JSON.stringify(data) };
}
"""


class Target(BaseHTTPRequestHandler):
    """/fast, /slow?ms=N, /flaky (every 5th answer is a 500)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    flaky_count = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        status = 200
        if self.path.startswith("/slow"):
            threading.Event().wait(float(self.path.partition("ms=")[2] or 3) / 1000)
        elif self.path.startswith("/flaky"):
            with Target.lock:
                Target.flaky_count += 1
                status = 500 if Target.flaky_count % 5 == 0 else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class K6Run:
    folder: Path
    export: RunRecord
    handle_summary: RunRecord
    ndjson: RunRecord
    ndjson_gz: RunRecord
    csv: RunRecord


def k6_binary() -> Path:
    beside = Path(sys.executable).with_name("k6")
    found = beside if beside.exists() else shutil.which("k6")
    if not found:
        pytest.skip("k6 binary not found")
    return Path(found)


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def k6_run(target: str, tmp_path_factory: pytest.TempPathFactory) -> K6Run:
    folder = tmp_path_factory.mktemp("k6run")
    (folder / "script.js").write_text(SCRIPT)
    env = {key: value for key, value in os.environ.items() if not key.startswith("K6_")}
    env.update(TZ="UTC", K6_NO_USAGE_REPORT="true", XDG_CONFIG_HOME=str(folder))
    argv = [
        str(k6_binary()), "run", "-q", "--no-color", "--address", "",
        f"--summary-trend-stats={TREND_STATS}", "--summary-export=summary-export.json",
        "--out", "json=raw.ndjson", "--out", "json=raw.ndjson.gz",
        "--out", "csv=fileName=raw.csv,timeFormat=rfc3339_nano",
        "-e", f"BASE_URL={target}", "script.js",
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 99, done.stderr  # http_req_failed rate<0.01 is crossed on purpose
    raw_options = RawOptions(keep_breakdown_values=True, metric_types={"items": "counter"})
    return K6Run(
        folder=folder,
        export=load_result(folder / "summary-export.json"),
        handle_summary=load_result(folder / "handle-summary.json"),
        ndjson=load_result(folder / "raw.ndjson", options=raw_options),
        ndjson_gz=load_result(folder / "raw.ndjson.gz", options=raw_options),
        csv=load_result(folder / "raw.csv", options=raw_options),
    )


def test_every_format_parses(k6_run: K6Run) -> None:
    formats = [run.source_format for run in (k6_run.export, k6_run.handle_summary, k6_run.ndjson, k6_run.csv)]
    assert formats == ["summary-export", "handle-summary", "ndjson", "csv"]
    assert k6_run.ndjson_gz.source_format == "ndjson"
    assert k6_run.export.context.http_reqs is not None and k6_run.export.context.http_reqs > 100


def test_counts_agree_exactly_across_formats(k6_run: K6Run) -> None:
    runs = [k6_run.export, k6_run.handle_summary, k6_run.ndjson, k6_run.ndjson_gz, k6_run.csv]
    wanted = [
        ("http_reqs", "count"),
        ("http_reqs{name:fast}", "count"),
        ("iterations", "count"),
        ("items", "count"),
        ("http_req_failed", "passes"),
        ("http_req_failed", "fails"),
        ("checks", "passes"),
        ("checks", "fails"),
        ("http_req_duration", "count"),
        ("flaky_latency", "count"),
    ]
    for key, stat in wanted:
        seen = {run.value(key, stat) for run in runs}
        assert len(seen) == 1 and None not in seen, (key, stat, seen)
    checks = [sorted((c.path, c.passes, c.fails) for c in run.checks) for run in runs]
    assert all(found == checks[0] for found in checks) and len(checks[0]) == 2
    contexts = {(r.context.http_reqs, r.context.iterations, r.context.vus_max) for r in runs}
    assert len(contexts) == 1


@pytest.mark.parametrize("raw_format", ["ndjson", "csv"])
def test_percentiles_equal_k6s_own(k6_run: K6Run, raw_format: str) -> None:
    raw: RunRecord = getattr(k6_run, raw_format)
    compared = 0
    for key, series in k6_run.export.metrics.items():
        if series.type != "trend" or (
            raw_format == "csv" and MetricKey.parse(key).tags[:1] == (("method", "GET"),)
        ):
            continue  # CSV has no Metric lines, so no declared {method:GET,status:200} sub-metric
        ours = raw.metrics[key].values
        for stat, value in series.values.items():
            assert ours[stat] == pytest.approx(value, rel=1e-9, abs=1e-12), (key, stat)
            compared += 1
    assert compared >= 8 * 12


def test_handle_summary_equals_export(k6_run: K6Run) -> None:
    export, summary = k6_run.export, k6_run.handle_summary
    assert export.metrics.keys() == summary.metrics.keys()
    for key, series in export.metrics.items():
        assert summary.metrics[key].values == series.values, key
        assert summary.metrics[key].thresholds == series.thresholds, key


def test_per_name_sub_metrics_and_stage_tags(k6_run: K6Run) -> None:
    for run in (k6_run.ndjson, k6_run.csv):
        assert run.endpoints() == ["fast", "flaky", "slow"]
        assert {"http_req_duration{stage:0}", "http_req_duration{stage:1}"} <= run.metrics.keys()
        assert {"http_req_failed{name:flaky}", "http_reqs{name:slow}"} <= run.metrics.keys()
        assert [(s.scenario, s.stage) for s in run.stages] == [("default", 0), ("default", 1)]
        assert sum(s.requests for s in run.stages) == run.context.http_reqs
        assert sum(s.failed for s in run.stages) == run.value("http_req_failed", "passes")
        assert all(s.p95_ms is not None and s.p99_ms is not None for s in run.stages)
    assert k6_run.ndjson.stages == k6_run.csv.stages
    flaky = k6_run.ndjson.metrics["http_req_failed{name:flaky}"].values
    assert flaky["passes"] == k6_run.export.value("http_req_failed", "passes")
    assert flaky["rate"] == pytest.approx(k6_run.export.value("http_req_failed{name:flaky}", "rate"))


def test_perfgate_threshold_verdicts_match_k6(k6_run: K6Run) -> None:
    judged = load_result(k6_run.folder / "raw.ndjson", options=RawOptions(evaluate_thresholds=True))
    compared = 0
    for key, series in judged.metrics.items():
        for threshold in series.thresholds:
            k6_verdict = {t.expression: t.crossed for t in k6_run.export.metrics[key].thresholds}
            assert threshold.crossed == k6_verdict[threshold.expression], (key, threshold.expression)
            compared += 1
    assert compared == 4  # NDJSON carries the thresholds of base metrics only
    assert judged.metrics["http_req_failed"].thresholds[0].crossed is True


def test_raw_context_is_close_to_k6s(k6_run: K6Run) -> None:
    k6_duration = k6_run.handle_summary.context.duration_s
    assert k6_duration is not None
    for run in (k6_run.ndjson, k6_run.csv):
        assert run.context.duration_s == pytest.approx(k6_duration, abs=0.2)
        assert run.context.http_reqs_per_s == pytest.approx(k6_run.export.context.http_reqs_per_s, rel=0.03)
        assert run.context.started_at is not None
        assert run.context.vus_max == 2


def test_gzip_and_json_path_give_identical_records(k6_run: K6Run) -> None:
    assert k6_run.ndjson_gz.model_dump(exclude={"source"}) == k6_run.ndjson.model_dump(exclude={"source"})
    options = RawOptions(keep_breakdown_values=True, metric_types={"items": "counter"})
    slow = load_result(k6_run.folder / "raw.ndjson", options=options, fast=False)
    assert slow.model_dump() == k6_run.ndjson.model_dump()


def test_breakdown_values_off_by_default(k6_run: K6Run) -> None:
    default = load_result(k6_run.folder / "raw.ndjson")
    for name in BREAKDOWN_TRENDS:
        assert set(default.metrics[name].values) == {"avg", "min", "max", "count"}
        assert default.metrics[name].values["count"] == k6_run.export.value(name, "count")
        assert default.metrics[name].values["max"] == k6_run.export.value(name, "max")
