"""YAML bombs and legitimate anchors in profiles and policy files.

Bombs (billion laughs, 5,000-deep nesting, huge files) are answered with exit 3 before a
loader builds them, with bounded memory (tracemalloc peak); a shared `&anchor`/`*alias`
thresholds list is accepted and healed once, for every alias.
"""

from __future__ import annotations

import shutil
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_world import assert_clean_error, run_cli, snapshot

from perfgate.adapters.loadtest_files import load_loadtest_file
from perfgate.paths import NOTES_SCRIPT

REPO = Path(__file__).resolve().parent.parent.parent
SMOKE = REPO / "loadtests" / "profiles" / "smoke.yaml"
LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)
BILLION_LAUGHS = LAUGHS + "\nthresholds: {checks: *i}\n"
MAX_PEAK_BYTES = 64 << 20


@dataclass(frozen=True)
class Bomb:
    id: str
    text: str


BOMBS = [
    Bomb("billion-laughs", BILLION_LAUGHS),
    Bomb("deep-flow-5000", "thresholds: " + "[" * 5000 + "]" * 5000 + "\n"),
    Bomb("deep-block-5000", "thresholds:\n  x:\n" + "    " + "- " * 5000 + "p(95)<1\n"),
    Bomb("deep-mapping-5000", "thresholds: " + "{a: " * 5000 + "x" + "}" * 5000 + "\n"),
    Bomb("two-megabytes", "tags:\n" + "".join(f"  k{i}: {'v' * 60}\n" for i in range(40_000))),
    Bomb("many-aliases", "a: &a x\nthresholds:\n  checks: [" + ",".join(["*a"] * 20_000) + "]\n"),
]


def commands(tmp_path: Path, bomb_file: Path) -> dict[str, list[str]]:
    result = tmp_path / "result.json"
    shutil.copy(REPO / "tests" / "fixtures" / "k6" / "basic.summary-export.json", result)
    baselines = str(tmp_path / "baselines")
    return {
        "heal": ["heal", "--profile", str(bomb_file), "--baselines", baselines, "--dry-run"],
        "run": [
            "run",
            "--script",
            str(NOTES_SCRIPT),
            "--profile",
            str(bomb_file),
            "--base-url",
            "http://127.0.0.1:9",
            "--runs-dir",
            baselines,
        ],
        "policy": ["analyze", str(result), "--policy", str(bomb_file)],
    }


@pytest.mark.parametrize("bomb", BOMBS, ids=[bomb.id for bomb in BOMBS])
@pytest.mark.parametrize("command", ["heal", "run", "policy"])
def test_a_yaml_bomb_is_bad_input_with_bounded_memory(bomb: Bomb, command: str, tmp_path: Path) -> None:
    bomb_file = tmp_path / "bomb.yaml"
    bomb_file.write_text(bomb.text)
    argv = commands(tmp_path, bomb_file)[command]
    before = snapshot(tmp_path)
    tracemalloc.start()
    try:
        code, stderr = run_cli(argv)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_clean_error(code, stderr)
    assert code == 3, stderr
    assert "bomb.yaml" in stderr
    assert peak < MAX_PEAK_BYTES
    assert snapshot(tmp_path) == before


SHARED = """\
scenarios:
  notes:
    executor: ramping-vus
    startVUs: 0
    stages:
      - {duration: 2s, target: 4}   # ramp up
      - {duration: 6s, target: 4}   # steady
      - {duration: 2s, target: 0}   # ramp down
    gracefulRampDown: 2s

thresholds:
  http_req_duration{name:get_note}: &fast ["p(95)<75", "p(99)<150"]   # shared
  http_req_duration{name:list_notes}: *fast
  http_req_duration{name:create_note}: ["p(95)<100", "p(99)<200"]
  checks: ["rate>0.99"]
"""


def test_a_shared_anchor_is_read_as_its_value_for_every_alias(tmp_path: Path) -> None:
    profile = tmp_path / "shared.yaml"
    profile.write_text(SHARED)
    options = load_loadtest_file(profile).options
    assert options["thresholds"]["http_req_duration{name:list_notes}"] == ["p(95)<75", "p(99)<150"]


def test_a_heal_rewrites_the_anchored_value_once_for_every_alias(
    tmp_path: Path, healable_history: Path
) -> None:
    profile = tmp_path / "shared.yaml"
    profile.write_text(SHARED)
    code, stderr = run_cli(["heal", "--profile", str(profile), "--baselines", str(healable_history)])
    assert_clean_error(code, stderr)
    assert code == 0, stderr
    text = profile.read_text()
    assert "http_req_duration{name:list_notes}: *fast\n" in text
    anchored = text.split("&fast ")[1].split("\n")[0]
    assert "p(95)<75" not in anchored and anchored.endswith("# shared")
    options = load_loadtest_file(profile).options["thresholds"]
    assert options["http_req_duration{name:list_notes}"] == options["http_req_duration{name:get_note}"]


@pytest.fixture
def healable_history(tmp_path: Path) -> Path:
    """12 comparable runs with get_note p95 ≈ 30 ms, fingerprinted like SHARED."""
    from datetime import UTC, datetime, timedelta

    import numpy as np
    from factories import make_run_record

    from perfgate.adapters.baselines import BaselineStore
    from perfgate.adapters.profiles import compute_fingerprint
    from perfgate.paths import NOTES_SCRIPT

    profile = tmp_path / "fingerprint.yaml"
    profile.write_text(SHARED)
    fingerprint = compute_fingerprint(load_loadtest_file(profile).options, NOTES_SCRIPT)
    store = BaselineStore(tmp_path / "baselines")
    rng = np.random.default_rng(3)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(12):
        p95 = float(30 * np.exp(0.03 * rng.standard_normal()))
        record = make_run_record({"get_note": {"p(95)": p95}}, fingerprint=fingerprint)
        store.record("shared", record, recorded_at=start + timedelta(hours=i), run_id=f"run-{i:02d}")
    return tmp_path / "baselines"
