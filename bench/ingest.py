"""Ingestion speed and memory of `load_result` on large k6 NDJSON files (plain and gzip).

    python bench/ingest.py                       # 100 MB, 100 MB of unique URLs and 1 GB, plain and .gz
    python bench/ingest.py --size-mb 100 --small-mb 25
    python bench/ingest.py --from-file run.ndjson # measure a recorded file instead

The generated lines have the exact layout k6 v1.1.0 writes (`--out json`): a `Metric` line
before each metric's first point, 9 HTTP points per request with k6's tags (6 endpoint
names, a `stage` tag set by the script, some 500s with `error_code`), iteration points,
checks, `vus`/`vus_max` every second, nanosecond RFC 3339 times with trailing zeros
trimmed. Files go into a temporary directory that is removed afterwards.

Each measurement runs in a fresh child process, so peak RSS (ru_maxrss) belongs to that
one parse: `rss+` is the growth of the peak over the process after imports and a warm-up
parse of a tiny file, `traced` is tracemalloc's peak during the parse (a separate run,
since tracing slows Python down). Memory independent of file size = the same figures for
both sizes, apart from the 8 bytes per kept trend value (`RawOptions`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perfgate.adapters.k6_results import RawOptions, load_result

ENDPOINTS = [
    ("list_notes", "GET", 1.2),
    ("create_note", "POST", 2.5),
    ("get_note", "GET", 0.9),
    ("search", "GET", 6.0),
    ("update_note", "PUT", 2.1),
    ("delete_note", "DELETE", 1.4),
]
HTTP_METRICS = [
    ("http_reqs", "counter", "default"),
    ("http_req_duration", "trend", "time"),
    ("http_req_blocked", "trend", "time"),
    ("http_req_connecting", "trend", "time"),
    ("http_req_tls_handshaking", "trend", "time"),
    ("http_req_sending", "trend", "time"),
    ("http_req_waiting", "trend", "time"),
    ("http_req_receiving", "trend", "time"),
    ("http_req_failed", "rate", "default"),
]
ITERATION_METRICS = [
    ("checks", "rate", "default"),
    ("data_sent", "counter", "data"),
    ("data_received", "counter", "data"),
    ("iteration_duration", "trend", "time"),
    ("iterations", "counter", "default"),
    ("vus", "gauge", "default"),
    ("vus_max", "gauge", "default"),
]
THRESHOLDS = {"http_req_duration": ["p(95)<500", "avg<300"], "http_req_failed": ["rate<0.01"]}


def metric_line(name: str, kind: str, contains: str) -> str:
    data = {
        "name": name,
        "type": kind,
        "contains": contains,
        "thresholds": THRESHOLDS.get(name, []),
        "submetrics": None,
    }
    return json.dumps({"type": "Metric", "data": data, "metric": name}, separators=(",", ":")) + "\n"


def stamp(epoch_ns: int) -> str:
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    head = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    frac = f"{nanos:09d}".rstrip("0")
    return f"{head}.{frac}Z" if frac else f"{head}Z"


def point(metric: str, when: str, value: float | int, tags: str) -> str:
    return (
        f'{{"metric":"{metric}","type":"Point","data":{{"time":"{when}","value":{value},"tags":{tags}}}}}\n'
    )


def http_tags(name: str, method: str, status: int, stage: int, url: str | None = None) -> str:
    """k6's tags of one request; with `url`, an untagged request (k6's `name` is the URL itself)."""
    ok = status < 400
    error = "" if ok else '"error_code":"1500",'
    name = url or name
    return (
        f'{{{error}"expected_response":"{str(ok).lower()}","group":"::api","method":"{method}",'
        f'"name":"{name}","proto":"HTTP/1.1","scenario":"default","stage":"{stage}",'
        f'"status":"{status}","url":"{url or name}"}}'
    )


def unique_url(name: str, request: int) -> str:
    """A distinct URL per request, as an untagged script calling `/notes/${id}` makes."""
    if name == "search":
        return f"http://127.0.0.1:8000/notes?q=term{request}"
    if name in ("list_notes", "create_note"):
        return f"http://127.0.0.1:8000/notes?page={request}"
    return f"http://127.0.0.1:8000/notes/{request}"


def generate(path: Path, size_mb: float, seed: int = 7, *, unique_urls: bool = False) -> int:
    """Write ~size_mb of k6-shaped NDJSON; returns the number of requests. `unique_urls`: every
    request untagged with its own URL (the high-cardinality case)."""
    rng = random.Random(seed)
    target = int(size_mb * 1_000_000)
    now = 1_795_346_214_000_000_000
    written = requests = 0
    declared: set[str] = set()
    next_vus = now + 1_000_000_000
    with path.open("w") as out:
        while written < target:
            stage = min(2, written * 3 // target)
            lines: list[str] = []
            for name, method, base_ms in ENDPOINTS:
                duration = round(rng.lognormvariate(0, 0.5) * base_ms, 6)
                now += int(duration * 1_000_000) + rng.randrange(20_000, 90_000)
                status = 500 if rng.random() < 0.01 else (201 if method == "POST" else 200)
                url = unique_url(name, requests) if unique_urls else None
                tags, when = http_tags(name, method, status, stage, url), stamp(now)
                for metric, kind, contains in HTTP_METRICS:
                    if metric not in declared:
                        declared.add(metric)
                        lines.append(metric_line(metric, kind, contains))
                    value = _http_value(metric, duration, status, rng)
                    lines.append(point(metric, when, value, tags))
                requests += 1
            lines.extend(_iteration_lines(now, stage, rng, declared))
            if now >= next_vus:
                lines.extend(_vus_lines(next_vus, declared))
                next_vus += 1_000_000_000
            chunk = "".join(lines)
            out.write(chunk)
            written += len(chunk)
    return requests


def _http_value(metric: str, duration: float, status: int, rng: random.Random) -> float | int:
    if metric == "http_reqs":
        return 1
    if metric == "http_req_failed":
        return int(status >= 400)
    if metric == "http_req_duration":
        return duration
    if metric == "http_req_waiting":
        return round(duration * 0.8, 6)
    return round(rng.random() * 0.05, 6) if metric != "http_req_tls_handshaking" else 0


def _iteration_lines(now: int, stage: int, rng: random.Random, declared: set[str]) -> list[str]:
    when = stamp(now + 150_000)
    base = f'{{"group":"","scenario":"default","stage":"{stage}"}}'
    check = f'{{"check":"status is 2xx","group":"::api","scenario":"default","stage":"{stage}"}}'
    values = {
        "checks": (int(rng.random() > 0.01), check),
        "data_sent": (rng.randrange(600, 900), base),
        "data_received": (rng.randrange(2000, 9000), base),
        "iteration_duration": (round(rng.lognormvariate(2.5, 0.3), 6), base),
        "iterations": (1, base),
    }
    lines = []
    for metric, kind, contains in ITERATION_METRICS[:5]:
        if metric not in declared:
            declared.add(metric)
            lines.append(metric_line(metric, kind, contains))
        value, tags = values[metric]
        lines.append(point(metric, when, value, tags))
    return lines


def _vus_lines(at: int, declared: set[str]) -> list[str]:
    lines = []
    for metric, kind, contains in ITERATION_METRICS[5:]:
        if metric not in declared:
            declared.add(metric)
            lines.append(metric_line(metric, kind, contains))
        lines.append(point(metric, stamp(at), 4, "{}"))
    return lines


def compress(source: Path, target: Path) -> None:
    with source.open("rb") as plain, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(plain, packed, 1 << 20)


def measure(path: Path, traced: bool, processes: int | None) -> dict[str, float]:
    """Runs in the child: warm up, then parse `path` once and report."""
    with tempfile.TemporaryDirectory(prefix="perfgate-warmup-") as tmp:
        warm = Path(tmp) / "warmup.ndjson"
        generate(warm, 0.2)
        load_result(warm)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if traced:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), _cpu()
    record = load_result(path, options=RawOptions(processes=processes))
    seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu_started
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_growth_kb": rss_after - rss_before,
        "rss_peak_kb": rss_after,
        "workers_rss_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "traced_peak_kb": peak / 1024,
        "requests": record.context.http_reqs or 0,
    }


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the range workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_child(path: Path, traced: bool = False, processes: int | None = None) -> dict[str, float]:
    argv = [sys.executable, __file__, "--measure", str(path)] + (["--traced"] if traced else [])
    argv += ["--processes", str(processes)] if processes else []
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def anchor(path: Path, how: str) -> tuple[float, float]:
    """(wall, CPU) seconds for the same file read by a bare loop: `lines` (no parsing) or `orjson`
    (orjson.loads per line, the usual "fast JSON" baseline). Same process kind, same run, same file."""
    argv = [sys.executable, __file__, "--anchor", how, str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def run_anchor(how: str, path: Path) -> tuple[float, float]:
    import orjson

    opener = gzip.open if path.suffix == ".gz" else open
    started, cpu_started = time.perf_counter(), time.process_time()
    with opener(path, "rb") as handle:
        if how == "lines":
            for _ in handle:
                pass
        else:
            loads = orjson.loads
            for line in handle:
                loads(line)
    return time.perf_counter() - started, time.process_time() - cpu_started


HEADER = (
    f"{'file':<30} {'how':<16} {'wall s':>7} {'MB/s':>7} {'cpu s':>7} {'MB/s':>7}"
    f" {'×orjson wall':>12} {'×orjson cpu':>11} {'peak rss':>9} {'rss+':>6} {'workers rss':>11}"
)


def report(label: str, path: Path, plain_bytes: int, *, traced: bool) -> dict[str, float]:
    """One file: the anchors, perfgate in one process and as it chooses (ranges for large plain files)."""
    megabytes = plain_bytes / 1e6
    anchors = {how: anchor(path, how) for how in ("lines", "orjson")}
    orjson_wall, orjson_cpu = anchors["orjson"]
    for how, (wall, cpu) in anchors.items():
        print(
            f"{label:<30} {'anchor: ' + how:<16} {wall:7.2f} {megabytes / wall:7.1f} {cpu:7.2f} {megabytes / cpu:7.1f}"
        )
    rows = {"one process": run_child(path, processes=1), "perfgate": run_child(path)}
    for how, row in rows.items():
        print(
            f"{label:<30} {how:<16} {row['seconds']:7.2f} {megabytes / row['seconds']:7.1f}"
            f" {row['cpu_seconds']:7.2f} {megabytes / row['cpu_seconds']:7.1f}"
            f" {orjson_wall / row['seconds']:11.2f}× {orjson_cpu / row['cpu_seconds']:10.2f}×"
            f" {row['rss_peak_kb'] / 1024:6.1f} MB {row['rss_growth_kb'] / 1024:4.1f}"
            f" {row['workers_rss_peak_kb'] / 1024:8.1f} MB"
        )
    if traced:
        peak = run_child(path, traced=True, processes=1)["traced_peak_kb"]
        print(f"{label:<30} tracemalloc peak of one process: {peak / 1024:.1f} MB")
    return {
        "mb_s": megabytes / rows["perfgate"]["seconds"],
        "cpu_mb_s": megabytes / rows["perfgate"]["cpu_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=1000.0, help="large file size (default 1000)")
    parser.add_argument("--small-mb", type=float, default=100.0, help="small file size (default 100)")
    parser.add_argument("--unique-mb", type=float, default=100.0, help="unique-URL file size (default 100)")
    parser.add_argument("--from-file", type=Path, help="measure this NDJSON file instead of generating")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--anchor", nargs=2, metavar=("HOW", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.anchor:
        print(*run_anchor(args.anchor[0], Path(args.anchor[1])))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.traced, args.processes)))
        return
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f};"
        " load_result on k6-shaped NDJSON (MB/s of uncompressed NDJSON; cpu = all processes)"
    )
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="perfgate-bench-") as tmp:
        if args.from_file:
            report(args.from_file.name, args.from_file, args.from_file.stat().st_size, traced=True)
            return
        folder = Path(tmp)
        speeds = {}
        for size, unique in [(args.small_mb, False), (args.unique_mb, True), (args.size_mb, False)]:
            plain = folder / f"run-{size:g}mb{'-unique-urls' if unique else ''}.ndjson"
            generate(plain, size, unique_urls=unique)
            packed = folder / (plain.name + ".gz")
            compress(plain, packed)
            speeds[plain.name] = report(plain.name, plain, plain.stat().st_size, traced=size <= 200)
            report(packed.name, packed, plain.stat().st_size, traced=False)
            plain.unlink()
            packed.unlink()
        normal, unique = (
            speeds[f"run-{args.small_mb:g}mb.ndjson"],
            speeds[f"run-{args.unique_mb:g}mb-unique-urls.ndjson"],
        )
        print(
            f"unique URLs vs normal, plain {args.unique_mb:g} MB: {unique['mb_s'] / normal['mb_s']:.0%} wall,"
            f" {unique['cpu_mb_s'] / normal['cpu_mb_s']:.0%} cpu"
        )


if __name__ == "__main__":
    main()
