"""Runs k6 stops or refuses are broken runs (issue 12), with the real k6 and tiny scripts that make
no request (the base URL is a closed port): `perfgate run` reports verdict `broken` (exit 1) with
k6's exit code and its last log lines, in every output, and records nothing. Exit codes as k6
v1.1.0 gives them (/work/shared/k6-facts, section 5): a throw in init 107, a bad threshold 104,
`exec.test.abort()` 108, `exec.test.fail()` 110; a threshold with abortOnFail is 99, not broken."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import pytest

from perfgate.adapters.k6_runner import find_k6, run_k6
from perfgate.cli import main
from perfgate.errors import K6Error

NO_SERVER = "http://127.0.0.1:9"
ONCE = "export const options = { vus: 1, iterations: 1 };\n"
SCRIPTS = {
    "init-throws": "throw new Error('boom in init');\nexport default function () {}\n",
    "bad-threshold": "export const options = { vus: 1, iterations: 1, thresholds: { iterations: ['p95<1'] } };\n"
    "export default function () {}\n",
    "abort": "import exec from 'k6/execution';\n"
    + ONCE
    + "export default function () { exec.test.abort('stopping on purpose'); }\n",
    "fail": "import exec from 'k6/execution';\n"
    + ONCE
    + "export default function () { exec.test.fail('marked as failed on purpose'); }\n",
}
# case: (k6 exit code, words of the reason, k6's own text in its last log lines, summary written)
BROKEN = {
    "init-throws": (107, "script error", "boom in init", False),
    "bad-threshold": (104, "invalid options", "p95<1", False),
    "abort": (108, "aborted by the script", "stopping on purpose", True),
    "fail": (110, "marked as failed", "marked as failed on purpose", True),
}


def _script(tmp_path: Path, case: str) -> Path:
    path = tmp_path / f"{case}.js"
    path.write_text(SCRIPTS[case], encoding="utf-8")
    return path


def _run(tmp_path: Path, script: Path, *extra: str) -> tuple[int, dict[str, object], Path]:
    out = io.StringIO()
    argv = ["run", "--script", str(script), "--base-url", NO_SERVER, "--runs-dir", str(tmp_path / "runs")]
    argv += ["--baselines", str(tmp_path / "baselines"), "--format", "json", *extra]
    code = main(argv, stdout=out)
    (run_dir,) = (tmp_path / "runs").iterdir()
    return code, json.loads(out.getvalue()), run_dir


@pytest.mark.k6
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_run_k6_stops_or_refuses_is_broken_with_k6s_evidence(tmp_path: Path, case: str) -> None:
    code, words, k6_text, summary = BROKEN[case]
    exit_code, verdict, run_dir = _run(tmp_path, _script(tmp_path, case), "--record")
    assert exit_code == 1, verdict
    assert verdict["verdict"] == "broken" and verdict["history_runs"] == 0 and verdict["findings"] == []
    assert f"k6 exited {code}" in str(verdict["reason"]) and words in str(verdict["reason"])
    k6 = verdict["k6"]
    assert isinstance(k6, dict) and k6["exit_code"] == code and k6["version"] == "1.1.0"
    assert any(k6_text in line for line in k6["log_tail"]), k6["log_tail"]
    assert all("\n" not in line and len(line) <= 300 for line in k6["log_tail"])
    assert (run_dir / "summary.json").is_file() == summary
    assert not (tmp_path / "baselines").exists() or not list((tmp_path / "baselines").rglob("*.json"))
    for name, shown in (
        ("report.md", k6_text),
        ("report.html", html.escape(k6_text)),
        ("verdict.json", k6_text),
    ):
        assert shown in (run_dir / name).read_text(encoding="utf-8"), name
    assert 'type="broken"' in (run_dir / "junit.xml").read_text(encoding="utf-8")
    assert "BROKEN RUN" in (run_dir / "report.md").read_text(encoding="utf-8")
    meta = json.loads((run_dir / "run-meta.json").read_text())
    assert meta["k6_exit_code"] == code and meta["k6_log_tail"] == k6["log_tail"]
    again = io.StringIO()  # the run directory stays a broken run when analysed later
    assert main(["analyze", str(run_dir), "--format", "json"], stdout=again) == 1
    assert json.loads(again.getvalue())["verdict"] == "broken"
    assert main(["record", str(run_dir), "--baselines", str(tmp_path / "baselines")]) == 3


@pytest.mark.k6
def test_abort_on_fail_is_k6s_crossed_threshold_not_a_broken_run(tmp_path: Path) -> None:
    script = tmp_path / "abort-on-fail.js"
    script.write_text(
        "import { check, sleep } from 'k6';\n"
        "export const options = { vus: 1, duration: '20s',\n"
        "  thresholds: { checks: [{ threshold: 'rate>0.99', abortOnFail: true }] } };\n"
        "export default function () { check(1, { 'never true': () => false }); sleep(0.1); }\n",
        encoding="utf-8",
    )
    exit_code, verdict, _ = _run(tmp_path, script)
    assert exit_code == 1 and verdict["verdict"] != "broken"
    k6 = verdict["k6"]
    assert isinstance(k6, dict) and k6["exit_code"] == 99 and k6["log_tail"] == []
    assert [(c["metric"], c["expression"], c["observed"]) for c in k6["crossed"]] == [
        ("checks", "rate>0.99", 0.0)
    ]


@pytest.mark.k6
def test_without_broken_ok_the_runner_still_raises(tmp_path: Path) -> None:
    """Other callers (compare's halves, capacity) keep k6's failure as a K6Error (exit 4)."""
    with pytest.raises(K6Error, match=r"k6 run failed: script error \(k6 exit 107\): .*boom in init"):
        run_k6(
            k6=find_k6(),
            script=_script(tmp_path, "init-throws"),
            profile=None,
            run_dir=tmp_path / "run",
            base_url=NO_SERVER,
            timeout_s=60,
        )
    assert not (tmp_path / "run" / "run-meta.json").exists()


@pytest.mark.k6
def test_a_plan_k6_rejects_but_would_still_run_is_bad_input_and_never_run(tmp_path: Path) -> None:
    """`vus: __ENV.VUS` without -e: `k6 run` would start with a default plan (exit 0), so perfgate
    refuses it (exit 3, naming -e) before any load is sent, instead of a broken run."""
    script = tmp_path / "env.js"
    script.write_text(
        "export const options = { vus: __ENV.VUS, duration: '1s' };\nexport default function () {}\n"
    )
    argv = ["run", "--script", str(script), "--base-url", NO_SERVER, "--runs-dir", str(tmp_path / "runs")]
    assert main(argv) == 3
    assert not (tmp_path / "runs").exists()
