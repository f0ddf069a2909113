"""`perfgate heal` through its handler (parser from `cli_heal.add_parsers`), on real files."""

from __future__ import annotations

import argparse
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories import make_run_record

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.loadtest_files import load_loadtest_file
from perfgate.adapters.profiles import compute_fingerprint
from perfgate.adapters.run_dir import LoadedRun
from perfgate.cli import heal as cli_heal
from perfgate.errors import InputDataError, UsageError
from perfgate.models import Verdict
from perfgate.paths import NOTES_SCRIPT
from perfgate.pipeline import heal as pipeline_heal
from perfgate.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "loadtests" / "profiles" / "smoke.yaml"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def run_heal(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    handlers = cli_heal.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["heal", *argv])
    out = io.StringIO()
    return handlers["heal"](args, Settings(), out), out.getvalue()


@pytest.fixture
def healable(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of smoke.yaml and 12 comparable runs (p95 ≈ 30 ms) under baselines/notes-smoke."""
    profile = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, profile)
    fingerprint = compute_fingerprint(load_loadtest_file(profile).options, NOTES_SCRIPT)
    store = BaselineStore(tmp_path / "baselines")
    rng = np.random.default_rng(3)
    for i in range(12):
        endpoints = {
            name: {"p(95)": float(30 * np.exp(0.03 * rng.standard_normal()))}
            for name in ("get_note", "create_note")
        }
        record = make_run_record(endpoints, fingerprint=fingerprint)
        store.record("notes-smoke", record, recorded_at=T0 + timedelta(hours=i), run_id=f"run-{i:02d}")
    return profile, tmp_path / "baselines"


def test_dry_run_prints_the_diff_and_writes_nothing(healable: tuple[Path, Path]) -> None:
    profile, baselines = healable
    before = profile.read_text(encoding="utf-8")
    code, out = run_heal("--profile", str(profile), "--baselines", str(baselines), "--dry-run")
    assert code == 0 and profile.read_text(encoding="utf-8") == before
    assert '-  http_req_duration{name:get_note}: ["p(95)<75", "p(99)<150"]' in out
    assert "would change" in out and "(tighten)" in out


def test_heal_writes_in_place_and_keeps_comments(healable: tuple[Path, Path]) -> None:
    profile, baselines = healable
    code, out = run_heal("--profile", str(profile), "--baselines", str(baselines))
    text = profile.read_text(encoding="utf-8")
    assert code == 0 and "changed" in out
    assert (
        "# smoke: about 10 s of tiny load" in text
        and "p(95)<75" not in text.split("get_note}")[1].split("\n")[0]
    )
    for _ in range(6):  # one heal moves a limit at most half way: a few more heals, then nothing
        code, again = run_heal("--profile", str(profile), "--baselines", str(baselines))
        if "nothing to change" in again:
            break
    assert code == 0 and "nothing to change" in again


def test_json_format_is_the_heal_plan(healable: tuple[Path, Path]) -> None:
    profile, baselines = healable
    code, out = run_heal(
        "--profile", str(profile), "--baselines", str(baselines), "--dry-run", "--format", "json"
    )
    plan = json.loads(out)
    assert code == 0 and plan["scenario"] == "notes-smoke" and plan["refused"] is None
    assert {c["metric"] for c in plan["thresholds"]} >= {"http_req_duration{name:get_note}"}
    assert all(c["evidence"]["history_runs"] == 12 for c in plan["thresholds"])


def test_regression_refuses_with_exit_0(healable: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    profile, baselines = healable
    before = profile.read_text(encoding="utf-8")
    loaded = LoadedRun(record=make_run_record(), meta=None)
    verdict = Verdict(
        verdict="regression", reason="slower", scenario="notes-smoke", source="r.json", history_runs=12
    )
    monkeypatch.setattr(pipeline_heal, "load_run", lambda path: loaded)
    monkeypatch.setattr(pipeline_heal, "compare", lambda *a, **k: verdict)
    code, out = run_heal("--profile", str(profile), "--baselines", str(baselines), "--result", "r.json")
    assert code == 0 and out.startswith("heal refused:") and "regression" in out
    assert profile.read_text(encoding="utf-8") == before


def test_too_little_history_is_a_notice(tmp_path: Path, healable: tuple[Path, Path]) -> None:
    profile, _ = healable
    (tmp_path / "empty" / "notes-smoke" / "runs").mkdir(parents=True)
    code, out = run_heal("--profile", str(profile), "--baselines", str(tmp_path / "empty"))
    assert code == 0 and "nothing to change" in out and "healing needs at least 5" in out


def test_bad_input_and_usage(tmp_path: Path, healable: tuple[Path, Path]) -> None:
    profile, baselines = healable
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios: [\n", encoding="utf-8")
    with pytest.raises(InputDataError) as error:
        run_heal("--profile", str(bad), "--baselines", str(baselines), "--scenario", "notes-smoke")
    assert error.value.exit_code == 3 and "bad.yaml" in str(error.value)
    with pytest.raises(UsageError):
        run_heal("--profile", str(profile), "--baselines", str(baselines), "--dry-run", "--publish", "pr")
    script = tmp_path / "s.js"
    script.write_text("export const options = {};\n", encoding="utf-8")
    with pytest.raises(UsageError, match="pass it with --script"):
        run_heal("--profile", str(script), "--baselines", str(baselines))
    with pytest.raises(UsageError, match="--verify"):
        run_heal("--script", str(script), "--baselines", str(baselines), "--verify")


def test_real_history_dry_run() -> None:
    code, out = run_heal("--profile", str(SMOKE), "--baselines", str(REPO / "baselines"), "--dry-run")
    assert code == 0 and "--- a/smoke.yaml" in out


@pytest.mark.k6
def test_verify_runs_k6_with_the_healed_profile(healable: tuple[Path, Path]) -> None:
    profile, baselines = healable
    before = profile.read_text(encoding="utf-8")
    code, out = run_heal(
        "--profile", str(profile), "--baselines", str(baselines), "--dry-run", "--verify", "--timeout", "120"
    )
    assert code == 0 and profile.read_text(encoding="utf-8") == before
    assert "verify: the healed profile passed" in out or "Verification failed: k6 crossed" in out


def test_publish_is_called_with_the_healed_file(
    healable: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import perfgate.pipeline.publish as publishing
    from perfgate.models import PublishResult

    profile, baselines = healable
    (profile.parent / ".git").mkdir()
    calls: list[tuple[object, ...]] = []

    def fake(root: Path, files: list[Path], plan: object, mode: str, settings: Settings) -> PublishResult:
        calls.append((root, files, mode))
        return PublishResult(operation="committed", commit="abc123")

    monkeypatch.setattr(publishing, "publish", fake)
    code, _ = run_heal("--profile", str(profile), "--baselines", str(baselines), "--publish", "commit")
    assert code == 0 and calls == [(profile.parent.resolve(), [profile.resolve()], "commit")]


SCRIPT_JS = """\
import http from 'k6/http';
{extra}
export const options = {{
  vus: 2,
  duration: '5s',
  thresholds: {{
    'http_req_duration{{name:get_note}}': ['p(95)<1000'], // the endpoint
  }},
}};

export default function () {{
  http.get('http://127.0.0.1:1/', {{ tags: {{ name: 'get_note' }} }});
}}
"""


@pytest.mark.parametrize(
    ("extra", "written"),
    [("", True), ("import { textSummary } from 'https://jslib.k6.io/k6-summary/0.0.2/index.js';", False)],
)
def test_a_healed_script_is_written_only_when_k6_accepts_it(
    tmp_path: Path, extra: str, written: bool
) -> None:
    script = tmp_path / "user.js"
    script.write_text(SCRIPT_JS.format(extra=extra), encoding="utf-8")
    before = script.read_text(encoding="utf-8")
    fingerprint = compute_fingerprint(load_loadtest_file(script).options, script)
    store = BaselineStore(tmp_path / "baselines")
    for i, p95 in enumerate(30 * np.exp(0.03 * np.random.default_rng(5).standard_normal(12))):
        record = make_run_record({"get_note": {"p(95)": float(p95)}}, fingerprint=fingerprint)
        store.record("user", record, recorded_at=T0 + timedelta(hours=i), run_id=f"run-{i:02d}")
    argv = ("--script", str(script), "--baselines", str(tmp_path / "baselines"))
    if written:
        code, out = run_heal(*argv)
        assert code == 0 and "changed" in out and "p(95)<500" in script.read_text(encoding="utf-8")
        return
    with pytest.raises(InputDataError) as error:
        run_heal(*argv)
    assert error.value.exit_code == 3 and "fails `k6 inspect`" not in str(error.value)
    # with --script the load model comes from `k6 inspect` first, so k6's refusal is met there
    message = str(error.value)
    assert "jslib.k6.io" in message
    assert (
        "cannot check the healed script with k6" in message or "k6 cannot work out the load model" in message
    )
    assert script.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baselines", "user.js"]
