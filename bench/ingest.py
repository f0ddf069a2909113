"""Ingestion speed and memory of `load_result` on large k6 NDJSON files (plain and gzip).

    python bench/ingest.py                       # ~300 MB and ~75 MB files, plain and .gz
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

from perfgate.adapters.k6_results import load_result

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


def http_tags(name: str, method: str, status: int, stage: int) -> str:
    ok = status < 400
    error = "" if ok else '"error_code":"1500",'
    return (
        f'{{{error}"expected_response":"{str(ok).lower()}","group":"::api","method":"{method}",'
        f'"name":"{name}","proto":"HTTP/1.1","scenario":"default","stage":"{stage}",'
        f'"status":"{status}","url":"{name}"}}'
    )


def generate(path: Path, size_mb: float, seed: int = 7) -> int:
    """Write ~size_mb of k6-shaped NDJSON; returns the number of requests."""
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
                tags, when = http_tags(name, method, status, stage), stamp(now)
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


def measure(path: Path, traced: bool) -> dict[str, float]:
    """Runs in the child: warm up, then parse `path` once and report."""
    with tempfile.TemporaryDirectory(prefix="perfgate-warmup-") as tmp:
        warm = Path(tmp) / "warmup.ndjson"
        generate(warm, 0.2)
        load_result(warm)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if traced:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    record = load_result(path)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_growth_kb": rss_after - rss_before,
        "traced_peak_kb": peak / 1024,
        "requests": record.context.http_reqs or 0,
    }


def run_child(path: Path, traced: bool) -> dict[str, float]:
    argv = [sys.executable, __file__, "--measure", str(path)] + (["--traced"] if traced else [])
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def anchor(path: Path, how: str) -> float:
    """CPU seconds for the same file read by a bare loop: `lines` (no parsing) or `orjson` (orjson.loads
    per line, the usual "fast JSON" baseline). Same process kind, same run, same file."""
    argv = [sys.executable, __file__, "--anchor", how, str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return float(done.stdout)


def run_anchor(how: str, path: Path) -> float:
    import orjson

    opener = gzip.open if path.suffix == ".gz" else open
    started = time.process_time()
    with opener(path, "rb") as handle:
        if how == "lines":
            for _ in handle:
                pass
        else:
            loads = orjson.loads
            for line in handle:
                loads(line)
    return time.process_time() - started


def report(label: str, path: Path, plain_bytes: int) -> None:
    megabytes = plain_bytes / 1e6
    anchors = {how: megabytes / anchor(path, how) for how in ("lines", "orjson")}
    timed = run_child(path, traced=False)
    traced = run_child(path, traced=True)
    print(
        f"{label:<22} {path.stat().st_size / 1e6:7.1f} MB  wall {timed['seconds']:5.2f} s"
        f" = {megabytes / timed['seconds']:6.1f} MB/s  cpu {timed['cpu_seconds']:5.2f} s"
        f" = {megabytes / timed['cpu_seconds']:6.1f} MB/s  rss+ {timed['rss_growth_kb'] / 1024:5.1f} MB"
        f"  traced peak {traced['traced_peak_kb'] / 1024:5.1f} MB  requests {int(timed['requests'])}"
    )
    ratio = megabytes / timed["cpu_seconds"] / anchors["orjson"]
    print(
        f"{'':<22} anchors, same file: lines only {anchors['lines']:6.1f} MB/s, orjson.loads per line "
        f"{anchors['orjson']:6.1f} MB/s (cpu)  → perfgate = {ratio:4.2f}× orjson"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=300.0, help="large file size (default 300)")
    parser.add_argument("--small-mb", type=float, default=75.0, help="small file size (default 75)")
    parser.add_argument("--from-file", type=Path, help="measure this NDJSON file instead of generating")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--anchor", nargs=2, metavar=("HOW", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.anchor:
        print(run_anchor(args.anchor[0], Path(args.anchor[1])))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.traced)))
        return
    print(f"python {sys.version.split()[0]}, load_result on k6-shaped NDJSON (MB/s of uncompressed NDJSON)")
    with tempfile.TemporaryDirectory(prefix="perfgate-bench-") as tmp:
        folder = Path(tmp)
        sources = [args.from_file] if args.from_file else []
        for size in [] if args.from_file else [args.small_mb, args.size_mb]:
            plain = folder / f"run-{size:g}mb.ndjson"
            started = time.perf_counter()
            generate(plain, size)
            print(f"generated {plain.name} in {time.perf_counter() - started:.1f} s")
            sources.append(plain)
        for plain in sources:
            packed = folder / (plain.name + ".gz")
            compress(plain, packed)
            report(plain.name, plain, plain.stat().st_size)
            report(packed.name, packed, plain.stat().st_size)


if __name__ == "__main__":
    main()
