"""Record the httpbin corpus: real k6 runs of k6's own `examples/http_verbs.js` against httpbin
(PyPI `httpbin`, served by gunicorn on 127.0.0.1), ~20 min. See README.md.

    python3 -m venv /tmp/httpbin && /tmp/httpbin/bin/pip install httpbin==0.10.4 gunicorn
    .venv/bin/python bench/corpus-httpbin/make_httpbin.py --gunicorn /tmp/httpbin/bin/gunicorn

Resumable: a run whose file exists is kept. Faults are switched between runs by rewriting the
fault file that `gunicorn_faults.py`'s pre_request hook reads; httpbin itself is unmodified.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
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
PORT = 8767
BASE_URL = f"http://127.0.0.1:{PORT}"
PATHS = {"GET": "/get", "POST": "/post", "PUT": "/put", "PATCH": "/patch", "DELETE": "/delete"}
WAIT_MS = {"/patch": 4.0, "/delete": 4.0}  # a downstream dependency's wait; improvements shorten it
SEED = 20261204


def endpoint_names(record: RunRecord) -> dict[str, str]:
    """path → the endpoint name perfgate gives the untagged request (its templated URL)."""
    names = record.endpoints()
    return {path: next(n for n in names if n.split("?")[0].endswith(path)) for path in PATHS.values()}


def plan_candidates(p95: dict[str, float], names: dict[str, str]) -> list[dict[str, Any]]:
    """Candidates sized on the history's median p95 per path."""
    rng = random.Random(SEED)
    plan: list[dict[str, Any]] = [{"kind": "clean"} for _ in range(8)]
    plan += [{"kind": "contention", "hogs": 2} for _ in range(8)]
    for pct in (15, 25, 40):
        for path in PATHS.values():
            ms = round(p95[path] * pct / 100, 3)
            plan.append({"kind": f"latency+{pct}", "endpoint": names[path], "latency_ms": {path: ms}})
    all_slow = {path: round(p95[path] * 0.3, 3) for path in PATHS.values()}
    plan += [{"kind": "global-latency+30", "latency_ms": all_slow} for _ in range(6)]
    plan += [{"kind": "global-cpu+30", "cpu_ms": all_slow} for _ in range(6)]
    for j in range(6):  # the downstream wait ×0.4: that endpoint a few ms faster
        path = ("/patch", "/delete")[j % 2]
        plan.append({"kind": "improvement", "endpoint": names[path], "wait_ms": {path: WAIT_MS[path] * 0.4}})
    rng.shuffle(plan)
    for i, run in enumerate(plan):
        run["id"] = f"b{i + 36:03d}-{run['kind']}"
        run.setdefault("hogs", 0)
    return plan


def history_plan() -> list[dict[str, Any]]:
    rng = random.Random(SEED + 1)
    plan = [{"id": f"b{i:03d}-calibration", "kind": "calibration", "hogs": 0} for i in range(6)]
    for i in range(30):
        plan.append(
            {"id": f"b{i + 6:03d}-history", "kind": "history", "hogs": 0 if i % 5 else rng.choice([1, 2])}
        )
    return plan


def ensure(run: dict[str, Any], pid: int, work: Path, manifest: dict[str, Any]) -> RunRecord:
    path = RUNS / f"{run['id']}.json"
    if path.exists():
        return RunRecord.model_validate_json(path.read_text())
    faults = {"latency_ms": run.get("latency_ms", {}), "cpu_ms": run.get("cpu_ms", {})}
    faults["wait_ms"] = {**WAIT_MS, **run.get("wait_ms", {})}
    (work / "faults.json").write_text(json.dumps(faults))
    time.sleep(0.2)
    started = time.time()
    record = record_run(run, pid, work, HERE / "http_verbs.js", HERE / "profile.yaml", BASE_URL, "ndjson.gz")
    path.write_text(record.model_dump_json(exclude_none=True) + "\n")
    manifest["runs"].append(
        {**run, "order": len(manifest["runs"]), "wall_s": round(time.time() - started, 1)}
    )
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"{run['id']}: {time.time() - started:.1f}s", flush=True)
    return record


def median_p95(records: list[RunRecord], names: dict[str, str]) -> dict[str, float]:
    return {
        path: float(
            statistics.median(r.value(f"http_req_duration{{name:{n}}}", "p(95)") or 0.0 for r in records)
        )
        for path, n in names.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gunicorn", type=Path, required=True, help="gunicorn of a venv with httpbin")
    args = parser.parse_args()
    RUNS.mkdir(exist_ok=True)
    manifest_path = HERE / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"runs": []}
    with tempfile.TemporaryDirectory(prefix="perfgate-httpbin-") as tmp:
        work = Path(tmp)
        env = {"PERFGATE_FAULTS": str(work / "faults.json"), "HTTPBIN_PORT": str(PORT)}
        command = [str(args.gunicorn), "-c", str(HERE / "gunicorn_faults.py"), "httpbin:app"]
        with start_target(
            command, health_url=f"{BASE_URL}/get", env=env, log_path=work / "gunicorn.log"
        ) as target:
            history = [ensure(run, target.pid, work, manifest) for run in history_plan()]
            names = endpoint_names(history[0])
            manifest["endpoints"] = names
            manifest["history_p95_ms"] = median_p95([r for r in history[6:]], names)
            for run in plan_candidates(manifest["history_p95_ms"], names):
                ensure(run, target.pid, work, manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
