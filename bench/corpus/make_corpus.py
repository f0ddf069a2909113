"""Regenerate the labelled corpus of real k6 runs against the notes API (see README.md).

    /tmp/venv/bin/python bench/corpus/make_corpus.py            # ~35 min on 2 cores
    /tmp/venv/bin/python bench/corpus/make_corpus.py --probe 3  # 3 clean runs, print p95s, keep nothing
    /tmp/venv/bin/python bench/corpus/make_corpus.py --sample   # one clean run dir -> sample-run/
    /tmp/venv/bin/python bench/corpus/make_corpus.py --plan repeats --out bench/corpus-repeats  # ~17 min
    /tmp/venv/bin/python bench/corpus/make_corpus.py --plan probe --out bench/corpus-probe  # ~15 min

One gunicorn (1 worker, admin API on, 127.0.0.1 only) serves every run; faults are switched
between runs through PUT /admin/faults. A CPU hog is N `python -c "while True: pass"`
processes alive during the k6 run. Runs are written as RunRecord JSON under runs/, labels in
manifest.json. Resumable: a run whose file exists is not run again.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from perfgate.adapters.k6_runner import RawOutput, find_k6, run_k6  # noqa: E402
from perfgate.adapters.profiles import load_profile  # noqa: E402
from perfgate.adapters.resources import ResourceSampler  # noqa: E402
from perfgate.adapters.run_dir import load_run  # noqa: E402
from perfgate.adapters.target import start_target  # noqa: E402
from perfgate.models import RunRecord  # noqa: E402

SOURCE = Path(__file__).resolve().parent  # the recipe: this script and profile.yaml
HERE = SOURCE  # the corpus folder; --out changes it (a second corpus elsewhere)
RUNS = HERE / "runs"
PORT = 8765
BASE_URL = f"http://127.0.0.1:{PORT}"
ENDPOINTS = ["create_note", "get_note", "list_notes", "search_notes", "update_note", "delete_note"]
SEED = 20250101


def plan_runs(p95: dict[str, float]) -> list[dict[str, Any]]:
    """Every run after calibration: kind, faults and hog count. Fault sizes are % of clean p95."""
    rng = random.Random(SEED)
    plan: list[dict[str, Any]] = []
    for i in range(40):
        hogs = 0 if i % 5 else rng.choice([1, 2])  # 8 of 40 history runs on a contended machine
        plan.append({"kind": "history", "hogs": hogs})
    plan += [{"kind": "clean"} for _ in range(16)]
    plan += [{"kind": "contention", "hogs": 2} for _ in range(16)]
    for pct in (10, 15, 25, 40):
        for j in range(8):
            endpoint = ENDPOINTS[(j + pct) % len(ENDPOINTS)]
            ms = round(p95[endpoint] * pct / 100, 3)
            plan.append({"kind": f"latency+{pct}", "endpoint": endpoint, "latency_ms": {endpoint: ms}})
    for j in range(10):
        endpoint = ENDPOINTS[j % len(ENDPOINTS)]
        plan.append({"kind": "errors", "endpoint": endpoint, "error_rate": {endpoint: 0.01 + 0.01 * (j % 3)}})
    all_slow = {e: round(p95[e] * 0.3, 3) for e in ENDPOINTS}
    plan += [{"kind": "global-latency+30", "latency_ms": all_slow} for _ in range(6)]
    plan += [{"kind": "global-cpu+30", "cpu_ms": all_slow} for _ in range(6)]
    slow_search = {"search_notes": round(p95["search_notes"] * 0.4, 3)}
    plan += [{"kind": "improvement-history", "latency_ms": slow_search} for _ in range(12)]
    rng.shuffle(plan)
    for i, run in enumerate(plan):
        run["id"] = f"r{i + 6:03d}-{run['kind']}"
        run.setdefault("hogs", 0)
    return plan


def put_faults(run: dict[str, Any]) -> None:
    body = {key: run.get(key, {}) for key in ("latency_ms", "error_rate", "cpu_ms")}
    body["seed"] = 1
    request = urllib.request.Request(f"{BASE_URL}/admin/faults", data=json.dumps(body).encode(), method="PUT")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def load_record(run_dir: Path) -> RunRecord:
    try:
        from perfgate.adapters.k6_results import load_result  # type: ignore[attr-defined]
    except ImportError:
        from summary_export import record_from_summary  # fallback until the adapter exists

        return record_from_summary(run_dir / "summary.json")
    record: RunRecord = load_result(run_dir / "summary.json")
    return record


def plan_repeats(p95: dict[str, float]) -> list[dict[str, Any]]:
    """A noisy runner emulated, for pooled repeats: every run (history and candidates) has a CPU
    hog alive with probability 1/2; candidates come in groups of 3 back-to-back runs of the same
    code (clean, or one endpoint +15 % / +25 %), as a CI job running k6 three times would."""
    rng = random.Random(SEED + 1)
    plan: list[dict[str, Any]] = [{"kind": "history", "hogs": rng.choice([0, 1])} for _ in range(30)]
    groups: list[list[dict[str, Any]]] = [[{"kind": "clean"} for _ in range(3)] for _ in range(6)]
    for pct in (15, 25):
        for endpoint in ENDPOINTS:
            ms = round(p95[endpoint] * pct / 100, 3)
            fault = {"kind": f"latency+{pct}", "endpoint": endpoint, "latency_ms": {endpoint: ms}}
            groups.append([dict(fault) for _ in range(3)])
    rng.shuffle(groups)
    for g, group in enumerate(groups):
        for run in group:
            plan.append({**run, "group": g, "hogs": rng.choice([0, 1])})
    for i, run in enumerate(plan):
        run["id"] = f"r{i + 6:03d}-{run['kind']}"
    return plan


def plan_probe(p95: dict[str, float]) -> list[dict[str, Any]]:
    """A smaller corpus recorded with the runner evidence `run_k6` keeps (`RunRecord.runner`: the
    calibration probe, the runner's load): clean, 2-hog contention, one endpoint +15/+25/+40 %,
    and a global +30 % slowdown both as CPU and as waiting (the kind only that evidence tells
    from a busy runner)."""
    rng = random.Random(SEED + 2)
    plan: list[dict[str, Any]] = []
    for i in range(30):
        plan.append({"kind": "history", "hogs": 0 if i % 5 else rng.choice([1, 2])})
    plan += [{"kind": "clean"} for _ in range(8)]
    plan += [{"kind": "contention", "hogs": 2} for _ in range(8)]
    for pct in (15, 25, 40):
        for j in range(6):
            endpoint = ENDPOINTS[(j + pct) % len(ENDPOINTS)]
            ms = round(p95[endpoint] * pct / 100, 3)
            plan.append({"kind": f"latency+{pct}", "endpoint": endpoint, "latency_ms": {endpoint: ms}})
    all_slow = {e: round(p95[e] * 0.3, 3) for e in ENDPOINTS}
    plan += [{"kind": "global-latency+30", "latency_ms": all_slow} for _ in range(6)]
    plan += [{"kind": "global-cpu+30", "cpu_ms": all_slow} for _ in range(6)]
    rng.shuffle(plan)
    for i, run in enumerate(plan):
        run["id"] = f"r{i + 6:03d}-{run['kind']}"
        run.setdefault("hogs", 0)
    return plan


PLANS = {"full": plan_runs, "repeats": plan_repeats, "probe": plan_probe}


def run_one(run: dict[str, Any], target_pid: int, work: Path) -> RunRecord:
    put_faults(run)
    return record_run(
        run, target_pid, work, ROOT / "loadtests" / "notes.js", SOURCE / "profile.yaml", BASE_URL
    )


def record_run(
    run: dict[str, Any],
    target_pid: int,
    work: Path,
    script: Path,
    profile_path: Path,
    base_url: str,
    raw_output: RawOutput = "none",
) -> RunRecord:
    """One k6 run of `script` with `run["hogs"]` CPU hogs alive; its RunRecord with the target's
    resources, the load fingerprint and the runner evidence (also used by bench/corpus-heldout and
    bench/corpus-httpbin). With raw points kept (`raw_output`), the record is the run directory's as
    `perfgate run` reads it: per-endpoint series of an untagged script come from the points."""
    profile = load_profile(profile_path, script=script)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(run.get("hogs", 0))]
    try:
        time.sleep(0.5 if hogs else 0.0)
        meta = run_k6(
            k6=find_k6(),
            script=script,
            profile=profile,
            run_dir=work / run["id"],
            base_url=base_url,
            timeout_s=60,
            env={"THINK_TIME": "0.02"},
            raw_output=raw_output,
            sampler=ResourceSampler(target_pid, interval_s=0.5),
        )
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    if raw_output != "none":
        return load_run(work / run["id"]).record
    record = load_record(work / run["id"])
    update = {"resources": meta.resources, "fingerprint": meta.fingerprint, "runner": meta.runner}
    return record.model_copy(update=update)


def endpoint_p95(records: list[RunRecord]) -> dict[str, float]:
    out = {}
    for endpoint in ENDPOINTS:
        values = sorted(r.value(f"http_req_duration{{name:{endpoint}}}", "p(95)") or 0.0 for r in records)
        out[endpoint] = values[len(values) // 2]
    return out


def main() -> int:
    global HERE, RUNS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", type=int, default=0, help="only N clean runs; print p95s")
    parser.add_argument(
        "--sample", action="store_true", help="one clean run kept as a k6 run directory in sample-run/"
    )
    parser.add_argument("--out", type=Path, default=HERE, help="corpus folder (default: this one)")
    parser.add_argument("--plan", choices=sorted(PLANS), default="full", help="which runs (default: full)")
    args = parser.parse_args()
    HERE, RUNS = args.out.resolve(), args.out.resolve() / "runs"
    RUNS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perfgate-corpus-") as tmp:
        work = Path(tmp)
        env = {
            "NOTES_ADMIN": "1",
            "NOTES_WORKERS": "1",
            "NOTES_BIND": f"127.0.0.1:{PORT}",
            "NOTES_DB_PATH": str(work / "notes.db"),
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "target_app/gunicorn.conf.py",
            "target_app.wsgi:app",
        ]
        with start_target(
            command, health_url=f"{BASE_URL}/healthz", env=env, cwd=ROOT, log_path=work / "gunicorn.log"
        ) as target:
            if args.probe:
                records = [
                    run_one({"id": f"probe{i}", "kind": "clean"}, target.pid, work) for i in range(args.probe)
                ]
                print(json.dumps(endpoint_p95(records), indent=2))
                return 0
            if args.sample:
                return keep_sample(target.pid, work)
            return generate(target.pid, work, PLANS[args.plan])


def keep_sample(target_pid: int, work: Path) -> int:
    """A clean run's summary.json + run-meta.json + k6-config.json (for bench/analyze_speed.py)."""
    run_one({"id": "sample", "kind": "clean"}, target_pid, work)
    out = HERE / "sample-run"
    out.mkdir(exist_ok=True)
    for name in ("summary.json", "run-meta.json", "k6-config.json"):
        (out / name).write_bytes((work / "sample" / name).read_bytes())
    return 0


def generate(target_pid: int, work: Path, plan: Any = plan_runs) -> int:
    manifest_path = HERE / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"runs": []}
    done = {run["id"] for run in manifest["runs"]}
    calibration = [{"id": f"r{i:03d}-calibration", "kind": "calibration", "hogs": 0} for i in range(6)]
    records = []
    for run in calibration:
        records.append(_ensure(run, target_pid, work, manifest, done))
    manifest["clean_p95_ms"] = endpoint_p95(records)
    for run in plan(manifest["clean_p95_ms"]):
        _ensure(run, target_pid, work, manifest, done)
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return 0


def _ensure(
    run: dict[str, Any], target_pid: int, work: Path, manifest: dict[str, Any], done: set[str]
) -> RunRecord:
    path = RUNS / f"{run['id']}.json"
    if run["id"] in done and path.exists():
        return RunRecord.model_validate_json(path.read_text())
    started = time.time()
    record = run_one(run, target_pid, work)
    path.write_text(record.model_dump_json(exclude_none=True) + "\n")
    manifest["runs"] = [r for r in manifest["runs"] if r["id"] != run["id"]] + [
        {**run, "order": len(manifest["runs"]), "wall_s": round(time.time() - started, 1)}
    ]
    done.add(run["id"])
    print(f"{run['id']}: {time.time() - started:.1f}s", flush=True)
    return record


if __name__ == "__main__":
    raise SystemExit(main())
