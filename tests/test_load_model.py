"""The load model from the script (`k6 inspect`), the same flags everywhere, stored history kept."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.profiles import load_profile
from perfgate.cli import main
from perfgate.core.history import select_baseline
from perfgate.core.load_model import contradiction
from perfgate.errors import InputDataError, UsageError
from perfgate.models import LoadFingerprint, RunContext, Stage
from perfgate.pipeline.init import InitRequest, write_init
from perfgate.pipeline.load_model import LoadModelSource, resolve_load_model

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "loadtests" / "profiles" / "smoke.yaml"
NOTES = REPO / "loadtests" / "notes.js"
BIN = REPO / ".venv" / "bin"

SCRIPT = """import http from 'k6/http';
export const options = {{
  stages: [{{ duration: '{ramp}', target: {vus} }}, {{ duration: '5s', target: {vus} }}],
  thresholds: {{ http_req_duration: [{threshold}] }},
}};
export default function () {{ http.get(`${{__ENV.BASE_URL}}/`); }}
"""


def _script(
    tmp_path: Path, name: str, *, ramp: str = "2s", vus: int = 4, threshold: str = "'p(95)<500'"
) -> Path:
    path = tmp_path / name
    path.write_text(SCRIPT.format(ramp=ramp, vus=vus, threshold=threshold), encoding="utf-8")
    return path


def _model(script: Path, **env: str) -> LoadFingerprint:
    model = resolve_load_model(LoadModelSource(script=script, env=env))
    assert model is not None
    return model


@pytest.mark.k6
def test_thresholds_and_script_text_are_not_the_load_model_stages_are(tmp_path: Path) -> None:
    base = _model(_script(tmp_path, "a.js"))
    healed = _model(_script(tmp_path, "b.js", threshold="{threshold: 'p(95)<120', abortOnFail: true}"))
    longer = _model(_script(tmp_path, "c.js", ramp="3s"))
    assert base.executor == "ramping-vus" and base.stages[0] == Stage(duration="2s", target=4)
    assert base.script != healed.script and base.digest() == healed.digest()
    assert longer.digest() != base.digest()


@pytest.mark.k6
def test_options_from_env_need_e_and_say_so(tmp_path: Path) -> None:
    script = tmp_path / "env.js"
    script.write_text(
        "export const options = { vus: __ENV.VUS, duration: '1s' };\nexport default function () {}\n"
    )
    with pytest.raises(InputDataError, match=r"-e KEY=VALUE"):
        _model(script)
    assert _model(script, VUS="3").vus == 3


@pytest.mark.k6
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("{ duration: '2s' }", {"vus": 1, "duration": "2s", "iterations": None}),
        ("{ iterations: 6 }", {"vus": 1, "duration": None, "iterations": 6}),
        ("{ vus: 3, iterations: 6 }", {"vus": 3, "duration": None, "iterations": 6}),
    ],
)
def test_a_plan_without_vus_gets_k6_runs_default_of_one(
    tmp_path: Path, options: str, expected: dict[str, object]
) -> None:
    """`k6 inspect --execution-requirements` refuses `iterations` or `duration` alone (no VUs),
    `k6 run` starts them with 1 VU: the load model is what k6 run does."""
    script = tmp_path / "plain.js"
    script.write_text(f"export const options = {options};\nexport default function () {{}}\n")
    model = _model(script)
    assert {key: getattr(model, key) for key in expected} == expected


@pytest.mark.k6
def test_the_demo_history_is_still_one_load_model() -> None:
    """The 20 stored runs carry the older digest (script text included): mapped on read."""
    runs = BaselineStore(REPO / "baselines").runs("notes-smoke")
    assert len(runs) == 20
    from_profile = load_profile(SMOKE).fingerprint.digest()
    from_k6 = resolve_load_model(LoadModelSource(script=NOTES, profile=SMOKE))
    assert from_k6 is not None and from_k6.digest() == from_profile
    assert len(select_baseline(runs, fingerprint=from_profile).runs) == 20


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--profile", "x.js", "--base-url", "http://127.0.0.1:1"], "pass it with --script"),
        (["run", "--base-url", "http://127.0.0.1:1"], "--script FILE.js is required"),
        (
            ["analyze", "tests/fixtures/k6/basic.summary-export.json", "--script", "p.yaml"],
            "pass it with --profile",
        ),
        (["record", "r.json", "--baselines", "b", "--profile", "s.mjs"], "pass it with --script"),
        (
            ["analyze", "tests/fixtures/k6/basic.summary-export.json", "--script", "x.js", "-e", "NOEQUALS"],
            "KEY=VALUE",
        ),
    ],
)
def test_the_wrong_flag_is_one_line_naming_the_right_one(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert main(argv, stdout=io.StringIO()) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error


def test_a_run_that_contradicts_its_load_model() -> None:
    four = LoadFingerprint(executor="constant-vus", vus=4, duration="10s")
    assert contradiction(four, RunContext(vus_max=4)) is None
    assert "12 VUs" in (contradiction(four, RunContext(vus_max=12)) or "")
    shared = LoadFingerprint(executor="shared-iterations", vus=2, iterations=10)
    assert contradiction(shared, RunContext(vus_max=2, iterations=7)) is None  # cut short by maxDuration
    assert "11 iterations" in (contradiction(shared, RunContext(vus_max=2, iterations=11)) or "")
    several = LoadFingerprint(executor="constant-vus", vus=4, extra="0123456789abcdef")
    assert contradiction(several, RunContext(vus_max=9)) is None  # other scenarios add VUs


def _tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


@pytest.mark.parametrize("target_cmd", [None, "python -m my_service --port 8080"])
def test_init_writes_a_workflow_that_passes_zizmor_and_the_schema(
    tmp_path: Path, target_cmd: str | None
) -> None:
    (tmp_path / "load.js").write_text("export default function () {}\n")
    action = "acme/perfgate@" + "0123456789abcdef" * 2 + "01234567"
    written = write_init(
        InitRequest(script=Path("load.js"), action=action, root=tmp_path, target_cmd=target_cmd)
    )
    workflow = tmp_path / ".github" / "workflows" / "perfgate.yml"
    assert workflow in written and (tmp_path / "perfgate.yml") in written
    text = workflow.read_text()
    assert "permissions: {}" in text and f"uses: {action}" in text and "persist-credentials: false" in text
    zizmor = [_tool("zizmor"), "--offline", "--min-severity=low", "--format=plain", str(workflow)]
    done = subprocess.run(zizmor, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    schema = [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)]
    done = subprocess.run(schema, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with pytest.raises(UsageError, match="--force"):
        write_init(InitRequest(script=Path("load.js"), action=action, root=tmp_path))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", "acme/perfgate@main", "40-hex"),
        ("base_url", "http://x/${{ secrets.TOKEN }}", "without"),
    ],
)
def test_init_refuses_unpinned_actions_and_expressions(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    (tmp_path / "load.js").write_text("export default function () {}\n")
    fields = {
        "script": Path("load.js"),
        "action": "acme/perfgate@" + "a" * 40,
        "root": tmp_path,
        field: value,
    }
    with pytest.raises(UsageError, match=message):
        write_init(InitRequest(**fields))  # type: ignore[arg-type]
    assert not (tmp_path / "perfgate.yml").exists()
