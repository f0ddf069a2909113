"""Record the real k6 runs bench/heal_quality.py heals on and judges (see README.md).

    .venv/bin/python bench/heal_corpus/make_corpus.py --costs io     # ~10 min on 2 cores; resumable
    .venv/bin/python bench/heal_corpus/make_corpus.py --costs mixed  # the CPU-bound variant
    .venv/bin/python bench/heal_corpus/make_corpus.py --probe 2      # 2 clean runs, print p95s, keep nothing

One `service.py` process (127.0.0.1 only) serves every run; a fault is switched between runs
with `PUT /admin/factors` (work multiplied on one endpoint or on all). Each run is k6's own
`--summary-export` JSON under <costs>/runs/<id>.json; labels and order in <costs>/manifest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PORT = 18766
BASE_URL = f"http://127.0.0.1:{PORT}"
ENDPOINTS = ["items", "search", "report", "orders"]
SEED = 20261203
SLOWER = 1.35  # one endpoint: work ×1.35 plus a sleep of 35 % of its typical p95
GLOBAL_SLOWER = 1.3
FASTER = 0.6


def plan_runs() -> list[dict[str, Any]]:
    """Every run: kind and the work factors. Seeded shuffle after the first 8 noise runs."""
    rest: list[dict[str, Any]] = [{"kind": "noise", "factors": {}} for _ in range(32)]
    for j in range(12):
        endpoint = ENDPOINTS[j % len(ENDPOINTS)]
        rest.append({"kind": "regression", "endpoint": endpoint, "factors": {endpoint: SLOWER}})
    for _ in range(6):
        rest.append(
            {"kind": "regression", "endpoint": "*", "factors": dict.fromkeys(ENDPOINTS, GLOBAL_SLOWER)}
        )
    for j in range(8):
        chosen = ENDPOINTS if j % 2 else [ENDPOINTS[j // 2 % len(ENDPOINTS)]]
        rest.append(
            {
                "kind": "improvement",
                "endpoint": "*" if j % 2 else chosen[0],
                "factors": dict.fromkeys(chosen, FASTER),
            }
        )
    random.Random(SEED).shuffle(rest)
    plan = [{"kind": "noise", "factors": {}} for _ in range(8)] + rest
    for order, run in enumerate(plan):
        run["order"] = order
        run["id"] = f"{order:03d}-{run['kind']}"
    return plan


def set_factors(factors: dict[str, float]) -> None:
    request = urllib.request.Request(
        f"{BASE_URL}/admin/factors", data=json.dumps(factors).encode(), method="PUT"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def wait_ready(deadline_s: float = 15.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{BASE_URL}/health", timeout=1) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("service did not start")


def run_once(k6: str, out: Path) -> tuple[int, float]:
    env = {**os.environ, "K6_NO_USAGE_REPORT": "true", "BASE_URL": BASE_URL}
    started = time.monotonic()
    done = subprocess.run(
        [k6, "run", "-q", "--no-color", "--address", "", f"--summary-export={out}", str(HERE / "script.js")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, time.monotonic() - started


def p95s(summary: dict[str, Any]) -> dict[str, float]:
    metrics = summary["metrics"]
    return {e: round(metrics[f"http_req_duration{{name:{e}}}"]["p(95)"], 2) for e in ENDPOINTS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", type=int, default=0)
    parser.add_argument("--costs", choices=["mixed", "io"], default="io")
    parser.add_argument("--out", help="folder name under bench/heal_corpus/ (default: the costs name)")
    args = parser.parse_args()
    k6 = shutil.which("k6", path=str(ROOT / ".venv" / "bin")) or "k6"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "service.py"), str(PORT), "--costs", args.costs],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready()
        if args.probe:
            with tempfile.TemporaryDirectory() as temp:
                for i in range(args.probe):
                    code, wall = run_once(k6, Path(temp) / f"{i}.json")
                    print(code, round(wall, 1), p95s(json.loads((Path(temp) / f"{i}.json").read_text())))
            return
        record(k6, HERE / (args.out or args.costs))
    finally:
        server.terminate()
        server.wait(timeout=10)


def record(k6: str, out: Path) -> None:
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    done = (
        {r["id"]: r for r in json.loads(manifest_path.read_text())["runs"]} if manifest_path.exists() else {}
    )
    for run in plan_runs():
        summary = runs_dir / f"{run['id']}.json"
        if run["id"] in done and summary.exists():
            continue
        set_factors(run["factors"])
        code, wall = run_once(k6, summary)
        run.update(k6_exit_code=code, wall_s=round(wall, 1))
        done[run["id"]] = run
        print(run["id"], code, round(wall, 1), p95s(json.loads(summary.read_text())), flush=True)
        ordered = sorted(done.values(), key=lambda r: r["order"])
        manifest_path.write_text(json.dumps({"seed": SEED, "runs": ordered}, indent=1, sort_keys=True) + "\n")
    set_factors({})


if __name__ == "__main__":
    main()
