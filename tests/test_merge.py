"""`perfgate merge`: real k6 split into 2 and 3 execution segments, run side by side, merged exactly.

Each part is a real k6 process with `--execution-segment` (k6-facts §8). The merged counts must
equal the sum of the parts' own summaries, the merged p(95) the k6 percentile of every point of
every part, and each threshold is judged once on the whole test — sub-metric thresholds only
with `--script` (k6 v1.1.0 does not write them into the NDJSON).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from test_k6_results_k6 import Target, k6_binary

from perfgate.adapters.k6_results import RawOptions, k6_percentile, load_result
from perfgate.adapters.k6_results.sketch import ERROR_BOUND
from perfgate.adapters.run_dir import load_run
from perfgate.cli import main
from perfgate.core.segments import split

pytestmark = pytest.mark.k6

SCRIPT = """
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    steady: { executor: 'constant-arrival-rate', rate: 60, timeUnit: '1s', duration: '2s',
              preAllocatedVUs: 6, gracefulStop: '1s' },
  },
  thresholds: {
    http_req_duration: ['p(95)<2000'],
    'http_req_duration{name:fast}': ['p(95)<1500', 'p(99.9)<4000'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.5'],
  },
};

export default function () {
  const r = http.get(`${__ENV.BASE_URL}/fast`, { tags: { name: 'fast' } });
  check(r, { 'fast is 200': (x) => x.status === 200 });
  http.get(`${__ENV.BASE_URL}/flaky`, { tags: { name: 'flaky' } });
}
"""


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    """/fast and /flaky (every 5th answer a 500) on 127.0.0.1, shared by the parts of each test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run_parts(folder: Path, base_url: str, count: int) -> list[Path]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("K6_")}
    env.update(TZ="UTC", K6_NO_USAGE_REPORT="true", XDG_CONFIG_HOME=str(folder))
    processes = []
    for index in range(count):
        segment, sequence = split(count, index)
        argv = [
            str(k6_binary()), "run", "-q", "--no-color", "--address", "",
            "--execution-segment", segment, "--execution-segment-sequence", sequence,
            "--summary-trend-stats=avg,min,med,max,p(95),count", f"--summary-export=part{index}.json",
            "--out", f"json=part{index}.ndjson", "-e", f"BASE_URL={base_url}", "script.js",
        ]  # fmt: skip
        processes.append(subprocess.Popen(argv, cwd=folder, env=env, stderr=subprocess.PIPE))
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode in (0, 99), err
    return [folder / f"part{index}.ndjson" for index in range(count)]


@pytest.fixture(scope="module", params=[2, 3], ids=["2-segments", "3-segments"])
def parts(
    request: pytest.FixtureRequest,
    target: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Path]]:
    folder = tmp_path_factory.mktemp(f"segments{request.param}")
    (folder / "script.js").write_text(SCRIPT)
    yield _run_parts(folder, target, request.param)


def _points(paths: list[Path], metric: str, name: str | None = None) -> list[float]:
    values = []
    for path in paths:
        for line in path.read_text().splitlines():
            record = json.loads(line)
            wanted = name is None or record["data"].get("tags", {}).get("name") == name
            if record["type"] == "Point" and record["metric"] == metric and wanted:
                values.append(record["data"]["value"])
    return sorted(values)


def _merge(parts: list[Path], out: Path, *extra: str) -> tuple[int, dict[str, object]]:
    code = main(
        ["merge", *map(str, parts), "--out", str(out), "--format", "json", *extra], stdout=(sink := _Sink())
    )
    return code, json.loads(sink.text)


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def test_counts_are_the_sum_of_the_parts(parts: list[Path], tmp_path: Path) -> None:
    code, merged = _merge(parts, tmp_path / "merged")
    summaries = [load_result(path.with_suffix(".json")) for path in parts]
    metrics = merged["metrics"]
    assert isinstance(metrics, dict)
    for key, stat in (("http_reqs", "count"), ("iterations", "count"), ("http_req_duration", "count")):
        assert metrics[key][stat] == sum(s.value(key, stat) or 0 for s in summaries), key
    assert metrics["http_req_failed"]["passes"] == sum(
        s.value("http_req_failed", "passes") or 0 for s in summaries
    )
    part_reqs = [part["http_reqs"] for part in merged["parts"]]  # type: ignore[index, union-attr]
    assert sum(part_reqs) == metrics["http_reqs"]["count"] and all(part_reqs)
    vus_max = sum(s.value("vus_max", "max") or 0 for s in summaries)
    assert metrics["vus_max"]["max"] == vus_max
    assert code == 1  # /flaky fails every 5th request: http_req_failed rate<0.01 is crossed on the whole


def test_percentiles_are_exact_over_all_points(parts: list[Path], tmp_path: Path) -> None:
    _, merged = _merge(parts, tmp_path / "merged")
    metrics = merged["metrics"]
    assert isinstance(metrics, dict)
    every = _points(parts, "http_req_duration")
    for stat, p in (("p(95)", 95.0), ("med", 50.0), ("p(99)", 99.0)):
        assert metrics["http_req_duration"][stat] == k6_percentile(every, p)
    fast = _points(parts, "http_req_duration", "fast")
    assert metrics["http_req_duration{name:fast}"]["p(95)"] == k6_percentile(fast, 95.0)
    per_part = [load_result(path.with_suffix(".json")).value("http_req_duration", "p(95)") for path in parts]
    assert len(set(per_part)) > 1  # the parts disagree: averaging them would not be the answer


def test_thresholds_are_judged_once_and_sub_metrics_need_the_script(
    parts: list[Path], tmp_path: Path
) -> None:
    script = parts[0].parent / "script.js"
    _, raw = _merge(parts, tmp_path / "raw")
    _, full = _merge(parts, tmp_path / "full", "--script", str(script))
    assert raw["thresholds_source"] == "raw" and full["thresholds_source"] == "script"
    assert "http_req_duration{name:fast}" not in raw["thresholds"]  # type: ignore[operator]
    assert any("--script" in note for note in raw["notes"])  # type: ignore[union-attr]
    fast = full["thresholds"]["http_req_duration{name:fast}"]  # type: ignore[index]
    observed = k6_percentile(_points(parts, "http_req_duration", "fast"), 99.9)
    assert [c["expression"] for c in fast] == ["p(95)<1500", "p(99.9)<4000"]
    assert fast[1]["observed"] == observed and fast[1]["ok"] is (observed < 4000)
    failed = full["thresholds"]["http_req_failed"]  # type: ignore[index]
    assert failed == [{"expression": "rate<0.01", "ok": False, "observed": failed[0]["observed"]}]


def test_the_merged_run_is_a_run_like_any_other(parts: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    _, merged = _merge(parts, out)
    loaded = load_run(out)
    assert loaded.record.value("http_reqs", "count") == merged["metrics"]["http_reqs"]["count"]  # type: ignore[index]
    assert loaded.record.stages == load_result(out / "raw.ndjson.gz").stages
    assert loaded.meta is not None and loaded.meta.k6_exit_code == 99
    assert main(["record", str(out), "--baselines", str(tmp_path / "baselines"), "--scenario", "split"]) == 0


def test_refuses_the_same_part_twice_and_an_existing_out(parts: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    assert main(["merge", str(parts[0]), str(parts[0]), "--out", str(out)]) == 2
    assert not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["merge", *map(str, parts), "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def _run_part(script: Path, base_url: str, runs: Path, part: int, count: int) -> Path:
    sink = _Sink()
    argv = [
        "run",
        "--script",
        str(script),
        "--base-url",
        base_url,
        "--runs-dir",
        str(runs),
        "--raw",
        "ndjson",
    ]
    assert main([*argv, "--segments", str(count), "--segment", str(part)], stdout=sink) == 0
    return Path(sink.text.strip())


@pytest.fixture(scope="module")
def run_parts(target: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("perfgate-run-parts")
    script = folder / "script.js"
    script.write_text(SCRIPT)
    return script, [_run_part(script, target, folder / "runs", part, 2) for part in (1, 2)]


def test_perfgate_run_segments_record_their_part_and_merge_checks_them(
    run_parts: tuple[Path, list[Path]],
    target: str,
    tmp_path: Path,
) -> None:
    script, parts = run_parts
    metas = [load_run(part).meta for part in parts]
    assert [m.execution_segment for m in metas if m] == ["0:1/2", "1/2:1"]
    assert all(m and m.execution_segment_sequence == "0,1/2,1" for m in metas)
    code, merged = _merge(parts, tmp_path / "merged", "--script", str(script))
    assert code == 1 and not any("segment" in note for note in merged["notes"])  # type: ignore[union-attr]
    assert [p["segment"] for p in merged["parts"]] == ["0:1/2", "1/2:1"]  # type: ignore[index, union-attr]
    overlapping = _run_part(script, target, tmp_path / "runs", 1, 3)  # 0:1/3 lies inside 0:1/2
    assert main(["merge", str(parts[0]), str(parts[1]), str(overlapping), "--out", str(tmp_path / "x")]) == 2
    code, half = _merge([parts[0]], tmp_path / "half")
    assert any("cover 50%" in note for note in half["notes"])  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--segments", "2"], "go together"),
        (["--segments", "2", "--segment", "3"], "1 <= I <= N"),
        (["--segments", "0", "--segment", "1"], "1 <= I <= N"),
    ],
)
def test_bad_segment_options_are_usage_errors(
    argv: list[str], problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.js"
    script.write_text(SCRIPT)
    code = main(["run", "--script", str(script), "--base-url", "http://127.0.0.1:9", *argv])
    assert code == 2 and problem in capsys.readouterr().err


def test_a_broken_part_makes_the_merged_run_broken(
    run_parts: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """A runner whose k6 aborted (exit 108, as `perfgate run --segments` records it) did not run its
    share: the merge says so, exits 1, and the merged run is never taken for a measurement."""
    script, parts = run_parts
    aborted = tmp_path / "aborted-part"
    shutil.copytree(parts[0], aborted)
    meta = json.loads((aborted / "run-meta.json").read_text())
    (aborted / "run-meta.json").write_text(json.dumps({**meta, "k6_exit_code": 108}))
    out = tmp_path / "merged"
    code, merged = _merge([aborted, parts[1]], out, "--script", str(script))
    assert code == 1 and merged["broken"] is True
    assert "k6 exited 108 (test aborted by the script)" in merged["notes"][0]  # type: ignore[index]
    sink = io.StringIO()
    assert (
        main(["analyze", str(out), "--baselines", str(tmp_path / "h"), "--format", "json"], stdout=sink) == 1
    )
    assert json.loads(sink.getvalue())["verdict"] == "broken"
    assert main(["record", str(out), "--baselines", str(tmp_path / "h"), "--scenario", "split"]) == 3
    assert not any((tmp_path / "h").rglob("*.json"))


def test_past_the_exact_points_percentiles_come_from_hdr_histograms_within_the_bound(
    parts: list[Path], tmp_path: Path
) -> None:
    """A cap of 20 points forces the fallback on real k6 output: p(N) within 0.1 % of k6's exact rule,
    the thresholds judged on those same values, the notes say so — and merging the parts gives the very
    histogram one reading of all their points gives."""
    code, merged = _merge(parts, tmp_path / "merged", "--exact-points", "20")
    metrics = merged["metrics"]
    assert isinstance(metrics, dict)
    every = _points(parts, "http_req_duration")
    assert metrics["http_req_duration"]["count"] == len(every) > 20
    for stat, p in (("p(95)", 95.0), ("med", 50.0), ("p(99)", 99.0)):
        exact = k6_percentile(every, p)
        assert abs(metrics["http_req_duration"][stat] - exact) <= ERROR_BOUND * exact, stat
    assert (metrics["http_req_duration"]["min"], metrics["http_req_duration"]["max"]) == (every[0], every[-1])
    fast = _points(parts, "http_req_duration", "fast")
    exact_fast = k6_percentile(fast, 95.0)
    assert abs(metrics["http_req_duration{name:fast}"]["p(95)"] - exact_fast) <= ERROR_BOUND * exact_fast
    judged = merged["thresholds"]["http_req_duration"]  # type: ignore[index]
    assert judged[0]["observed"] == metrics["http_req_duration"]["p(95)"]
    notes = [note for note in merged["notes"] if "HDR histogram" in note]  # type: ignore[union-attr]
    assert any(note.startswith(f"http_req_duration: {len(every):,} points") for note in notes), notes
    assert any("0.1%" in note for note in notes)
    whole = tmp_path / "whole.ndjson"
    whole.write_bytes(b"".join(path.read_bytes() for path in parts))
    options = RawOptions(trend_stats=("avg", "min", "med", "max", "p(95)", "p(99)", "count"), exact_points=20)
    single = load_result(whole, options=options).metrics["http_req_duration"].values
    for stat in ("med", "p(95)", "p(99)", "min", "max", "count"):
        assert single[stat] == metrics["http_req_duration"][stat], stat
    assert single["avg"] == pytest.approx(metrics["http_req_duration"]["avg"], rel=1e-12)
    _, exact_run = _merge(parts, tmp_path / "exact")
    assert not any("HDR" in note for note in exact_run["notes"])  # type: ignore[union-attr]
    assert code == 1


def test_the_merged_run_remembers_its_exact_points_limit_when_read_again(
    parts: list[Path], tmp_path: Path
) -> None:
    """Read again (analyze, record, heal), the merged run's raw points are summarised with the limit it
    was merged with, not the default: the same per-stage numbers and the same notes as the merge."""
    out = tmp_path / "merged"
    _merge(parts, out, "--exact-points", "20")
    loaded = load_run(out)
    assert loaded.meta is not None and loaded.meta.exact_points == 20
    again = load_result(out / "raw.ndjson.gz", options=RawOptions(exact_points=20))
    assert (loaded.record.notes, loaded.record.stages) == (again.notes, again.stages)
    assert any("HDR histogram" in note for note in loaded.record.notes)
    default = tmp_path / "default"
    _merge(parts, default)
    assert load_run(default).meta.exact_points == RawOptions().exact_points  # type: ignore[union-attr]
    assert not any("HDR histogram" in note for note in load_run(default).record.notes)
