"""Record the held-out corpus: real k6 runs against server.py (see README.md), ~20 min.

    .venv/bin/python bench/corpus-heldout/make_heldout.py      # resumable: existing runs are kept

The recipe of bench/corpus/make_corpus.py (same RunRecord files and manifest, fault sizes as a
percentage of a median p95) on another service, with the runner evidence that
`run_k6` now records (`RunRecord.runner`: sampled load, k6's CPU, the calibration probe).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "corpus"))

from make_corpus import record_run  # noqa: E402

from perfgate.adapters.target import start_target  # noqa: E402
from perfgate.models import RunRecord  # noqa: E402

RUNS = HERE / "runs"
PORT = 8766
BASE_URL = f"http://127.0.0.1:{PORT}"
ENDPOINTS = ["ping", "catalog", "item", "search", "order", "report"]
FAULTABLE = ENDPOINTS[1:]  # a 15 % fault on a 1 ms ping is under the gate's 1 ms floor
SEED = 20261203


def plan_runs(p95: dict[str, float]) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    plan: list[dict[str, Any]] = []
    for i in range(30):
        plan.append({"kind": "history", "hogs": 0 if i % 5 else rng.choice([1, 2])})
    plan += [{"kind": "clean"} for _ in range(10)]
    plan += [{"kind": "contention", "hogs": 2} for _ in range(8)]
    for pct in (15, 25, 40):
        for j in range(6):
            endpoint = FAULTABLE[(j + pct) % len(FAULTABLE)]
            ms = round(p95[endpoint] * pct / 100, 3)
            plan.append({"kind": f"latency+{pct}", "endpoint": endpoint, "latency_ms": {endpoint: ms}})
    all_slow = {e: round(p95[e] * 0.3, 3) for e in FAULTABLE}  # code slowdown; ping untouched
    plan += [{"kind": "global-cpu+30", "cpu_ms": all_slow} for _ in range(6)]
    for j in range(6):  # the downstream wait halved: that endpoint ~30-40 % faster
        endpoint = ("item", "report")[j % 2]
        plan.append({"kind": "improvement", "endpoint": endpoint, "wait_scale": {endpoint: 0.4}})
    rng.shuffle(plan)
    for i, run in enumerate(plan):
        run["id"] = f"h{i + 6:03d}-{run['kind']}"
        run.setdefault("hogs", 0)
    return plan


def plan_sized_on_history(p95: dict[str, float]) -> list[dict[str, Any]]:
    """Single-endpoint faults again, sized on the history's median p95 instead of the calibration's
    (and a global slowdown that costs no CPU: a sleep of 30 % of that p95 in every endpoint but ping):
    the machine filled up with other agents' work after the 6 quiet calibration runs, and the
    first faults (kept as `latency+N-of-quiet`) were 3-10 % of the endpoints' p95 after that."""
    rng = random.Random(SEED + 1)
    plan: list[dict[str, Any]] = []
    for pct in (15, 25, 40):
        for j in range(6):
            endpoint = FAULTABLE[(j + pct) % len(FAULTABLE)]
            ms = round(p95[endpoint] * pct / 100, 3)
            plan.append({"kind": f"latency+{pct}", "endpoint": endpoint, "latency_ms": {endpoint: ms}})
    rng.shuffle(plan)
    all_slow = {e: round(p95[e] * 0.3, 3) for e in FAULTABLE}  # waiting, not CPU: ping untouched
    plan += [{"kind": "global-latency+30", "latency_ms": all_slow} for _ in range(6)]
    for i, run in enumerate(plan):
        run["id"] = f"h{i + 84:03d}-{run['kind']}"
        run["hogs"] = 0
    return plan


def put_faults(run: dict[str, Any]) -> None:
    body = {key: run.get(key, {}) for key in ("latency_ms", "cpu_ms", "wait_scale")}
    request = urllib.request.Request(f"{BASE_URL}/admin/faults", data=json.dumps(body).encode(), method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def run_one(run: dict[str, Any], target_pid: int, work: Path) -> RunRecord:
    put_faults(run)
    return record_run(run, target_pid, work, HERE / "shop.js", HERE / "profile.yaml", BASE_URL)


def ensure(run: dict[str, Any], pid: int, work: Path, manifest: dict[str, Any]) -> RunRecord:
    path = RUNS / f"{run['id']}.json"
    if path.exists() and any(r["id"] == run["id"] for r in manifest["runs"]):
        known = next(r for r in manifest["runs"] if r["id"] == run["id"])
        run.update(kind=known["kind"])
        return RunRecord.model_validate_json(path.read_text())
    started = time.time()
    record = run_one(run, pid, work)
    path.write_text(record.model_dump_json(exclude_none=True) + "\n")
    manifest["runs"] = [r for r in manifest["runs"] if r["id"] != run["id"]] + [
        {**run, "order": len(manifest["runs"]), "wall_s": round(time.time() - started, 1)}
    ]
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"{run['id']}: {time.time() - started:.1f}s", flush=True)
    return record


def main() -> int:
    RUNS.mkdir(exist_ok=True)
    manifest_path = HERE / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"runs": []}
    with tempfile.TemporaryDirectory(prefix="perfgate-heldout-") as tmp:
        work = Path(tmp)
        command = [sys.executable, str(HERE / "server.py"), str(PORT)]
        with start_target(command, health_url=f"{BASE_URL}/ping", log_path=work / "server.log") as target:
            calibration = [
                {"id": f"h{i:03d}-calibration", "kind": "calibration", "hogs": 0} for i in range(6)
            ]
            records = [ensure(run, target.pid, work, manifest) for run in calibration]
            p95 = endpoint_p95_of(records)
            manifest["clean_p95_ms"] = p95
            for run in plan_runs(p95):
                ensure(run, target.pid, work, manifest)
            for run in manifest["runs"]:
                if run["kind"].startswith("latency+") and run["id"] < "h084":
                    run["kind"] = run["kind"].removesuffix("-of-quiet") + "-of-quiet"
            history = [
                RunRecord.model_validate_json((RUNS / f"{r['id']}.json").read_text())
                for r in manifest["runs"]
                if r["kind"] == "history"
            ]
            manifest["history_p95_ms"] = endpoint_p95_of(history)
            for run in plan_sized_on_history(manifest["history_p95_ms"]):
                ensure(run, target.pid, work, manifest)
    return 0


def endpoint_p95_of(records: list[RunRecord]) -> dict[str, float]:
    """Median p95 per endpoint over `records`."""
    return {
        e: float(
            statistics.median(r.value(f"http_req_duration{{name:{e}}}", "p(95)") or 0.0 for r in records)
        )
        for e in ENDPOINTS
    }


if __name__ == "__main__":
    raise SystemExit(main())
