"""loadtests/: every profile is valid k6 config for notes.js, and a real run carries the tags."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfgate.adapters.k6_runner import find_k6, run_k6
from perfgate.adapters.profiles import load_profile, normalise_duration, write_k6_config

REPO = Path(__file__).resolve().parent.parent
LOADTESTS = REPO / "loadtests"
SCRIPT = LOADTESTS / "notes.js"
PROFILES = sorted((LOADTESTS / "profiles").glob("*.yaml"))
ENDPOINTS = {"create_note", "get_note", "list_notes", "search_notes", "update_note", "delete_note"}
# Planned length of each profile (sum of its stages), in seconds.
PLANNED_S = {"smoke": 10, "load": 60, "stress": 90, "spike": 60, "soak": 1800, "capacity": 66}

pytestmark = pytest.mark.k6


def inspect(*args: str) -> dict[str, Any]:
    """`k6 inspect ARGS notes.js` as JSON; with --execution-requirements k6 consolidates and
    validates the options (thresholds included) as `k6 run` would."""
    command = [str(find_k6()), "inspect", *args, str(SCRIPT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def seconds(duration: str) -> float:
    text = normalise_duration(duration)
    hours, _, rest = text.rpartition("h")
    minutes, _, secs = rest.rpartition("m")
    return float(hours or 0) * 3600 + float(minutes or 0) * 60 + float(secs.rstrip("s"))


@pytest.mark.parametrize("path", PROFILES, ids=lambda path: path.stem)
def test_profile_passes_k6_inspect(tmp_path: Path, path: Path) -> None:
    profile = load_profile(path)
    config = tmp_path / "k6-config.json"
    write_k6_config(profile, config)
    consolidated = inspect("--execution-requirements", "--config", str(config))
    scenario = consolidated["scenarios"]["notes"]
    planned = profile.options["scenarios"]["notes"]
    assert scenario["executor"] == planned["executor"]
    assert [stage["target"] for stage in scenario["stages"]] == [
        stage["target"] for stage in planned["stages"]
    ]
    assert sum(seconds(stage["duration"]) for stage in scenario["stages"]) == PLANNED_S[path.stem]
    assert set(consolidated["thresholds"]) == set(planned_thresholds := profile.options["thresholds"])
    assert planned_thresholds
    assert consolidated["summaryTrendStats"] == profile.options["summaryTrendStats"]
    assert seconds(consolidated["totalDuration"]) >= PLANNED_S[path.stem]


def test_script_exports_no_load_model() -> None:
    options = inspect()  # without --execution-requirements: the script's own options only
    for key in ("scenarios", "stages", "vus", "duration", "iterations", "thresholds"):
        assert not options[key], f"notes.js must not set {key}: script options beat --config"


def test_script_helpers(tmp_path: Path) -> None:
    """notes.js's durationMs and stageIndex, run inside k6 (a mismatch aborts with exit 108)."""
    probe = tmp_path / "probe.js"
    probe.write_text(
        f"import exec from 'k6/execution';\n"
        f"import {{ durationMs, stageIndex }} from '{SCRIPT.as_uri()}';\n"
        "const stages = [{duration: '2s', target: 1}, {duration: '1m0s', target: 1}, {duration: '500ms', target: 0}];\n"
        "const cases = [[durationMs('1m30s'), 90000], [durationMs('1.5s'), 1500], [durationMs('250ms'), 250],\n"
        "  [durationMs('1h0m0s'), 3600000], [durationMs(1500), 1500], [stageIndex(stages, 0), 0],\n"
        "  [stageIndex(stages, 1999), 0], [stageIndex(stages, 2000), 1], [stageIndex(stages, 62499), 2],\n"
        "  [stageIndex(stages, 62500), 3]];\n"
        "export default function () {\n"
        "  cases.forEach(([got, want], i) => { if (got !== want) exec.test.abort(`case ${i}: ${got} != ${want}`); });\n"
        "}\n",
        encoding="utf-8",
    )
    command = [str(find_k6()), "run", "-q", "--no-color", "--address", "", "--iterations", "1", str(probe)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def read_points(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as raw:
        return [line for line in map(json.loads, raw) if line["type"] == "Point"]


def test_short_smoke_run_tags_every_request(tmp_path: Path, notes_server: Any) -> None:
    smoke = yaml.safe_load((LOADTESTS / "profiles" / "smoke.yaml").read_text(encoding="utf-8"))
    smoke["scenarios"]["notes"]["stages"] = [
        {"duration": "1s", "target": 3},
        {"duration": "2s", "target": 3},
        {"duration": "1s", "target": 0},
    ]
    del smoke["thresholds"]  # latency limits: a loaded machine crosses them (exit 99); tags are the subject
    short = tmp_path / "smoke-short.yaml"
    short.write_text(yaml.safe_dump(smoke), encoding="utf-8")
    run_dir = tmp_path / "run"
    meta = run_k6(
        k6=find_k6(),
        script=SCRIPT,
        profile=load_profile(short),
        run_dir=run_dir,
        base_url=notes_server.base_url,
        timeout_s=60,
    )
    assert meta.k6_exit_code == 0, (run_dir / "k6-stdout.txt").read_text()
    points = read_points(run_dir / "raw.ndjson.gz")
    requests = [
        p["data"]["tags"] for p in points if p["metric"] == "http_reqs" and p["data"]["tags"].get("stage")
    ]
    assert {tags["name"] for tags in requests} == ENDPOINTS
    assert {tags["stage"] for tags in requests} <= {"0", "1", "2", "3"}
    assert {"0", "1", "2"} <= {tags["stage"] for tags in requests}
    assert all(tags["scenario"] == "notes" and tags["profile"] == "smoke" for tags in requests)
    per_endpoint = Counter(tags["name"] for tags in requests)
    assert min(per_endpoint.values()) >= 5
    checks = [p["data"]["value"] for p in points if p["metric"] == "checks"]
    assert len(checks) >= 50 and sum(checks) / len(checks) >= 0.99
    assert_stages_follow_time(points)


def assert_stages_follow_time(points: list[dict[str, Any]]) -> None:
    """Requests tagged with a later stage start later (by median), as the script computes it."""
    starts: dict[str, list[datetime]] = defaultdict(list)
    for point in points:
        tags = point["data"]["tags"]
        if point["metric"] == "http_reqs" and "stage" in tags:
            starts[tags["stage"]].append(datetime.fromisoformat(point["data"]["time"]))
    medians = [sorted(times)[len(times) // 2] for _, times in sorted(starts.items())]
    assert medians == sorted(medians)
