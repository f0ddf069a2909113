"""adapters.loadtest_files: values-only rewrites of YAML/JSON profiles and k6 scripts (golden diffs).

Regenerate the expected diffs with `UPDATE_GOLDEN=1 pytest tests/test_loadtest_files.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from factories import make_threshold_change as change

from perfgate.adapters.k6_runner import find_k6
from perfgate.adapters.loadtest_files import load_loadtest_file, rewrite_loadtest_file, save_loadtest_file
from perfgate.errors import InputDataError, ToolNotFoundError
from perfgate.models import HealPlan, Stage, StageChange

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "heal"
PROFILES = REPO / "loadtests" / "profiles"

SCRIPT = """\
// A user's k6 script with inline options. Résumé: non-ASCII bytes stay.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    browse: {
      executor: 'ramping-vus',
      startVUs: 4,
      stages: [
        { duration: '5s', target: 4 }, // warm
        { duration: '2s', target: 20 },
        { duration: "5s", target: 20 },
        { duration: '2s', target: 0 },
      ],
      tags: { env: __ENV.ENV_NAME || 'ci' },
    },
  },
  thresholds: {
    'http_req_duration{name:home}': ['p(95)<500', { threshold: 'p(99) < 900', abortOnFail: false }],
    http_req_failed: ['rate<0.05'], // errors
    checks: [`rate>0.9`],
  },
};

export default function () {
  const res = http.get(`${__ENV.BASE_URL || 'http://127.0.0.1:1'}/`, { tags: { name: 'home' } });
  check(res, { 'status 200': (r) => r.status === 200 });
}
"""


def stage(
    kind: str, scenario: str, index: int, old: tuple[str, float], new: list[tuple[str, float]]
) -> StageChange:
    return StageChange(
        kind=kind,  # type: ignore[arg-type]
        scenario=scenario,
        stage=index,
        old=[Stage(duration=old[0], target=old[1])],
        new=[Stage(duration=d, target=t) for d, t in new],
        reason="test",
    )


SPIKE_PLAN = HealPlan(
    scenario="notes-spike",
    profile="spike.yaml",
    thresholds=[
        change("http_req_duration{name:get_note}", "p(95)<100", "p(95)<29", 25, 2),
        change("http_req_failed{name:update_note}", "rate<0.05", "rate<0.01", 0, 0),
        change("checks", "rate>0.99", "rate>0.995", 1, 0),
    ],
    stages=[
        stage(
            "step_load", "notes", 1, ("5s", 20), [("5s", 8), ("5s", 8), ("5s", 14), ("5s", 14), ("5s", 20)]
        ),
        stage("lengthen_ramp", "notes", 5, ("5s", 0), [("10s", 0)]),
        stage("remove_stage", "notes", 3, ("5s", 4), []),
    ],
)
SCRIPT_PLAN = HealPlan(
    scenario="script",
    profile="script.js",
    thresholds=[
        change("http_req_duration{name:home}", "p(95)<500", "p(95)<420"),
        change("http_req_duration{name:home}", "p(99) < 900", "p(99) < 600", 510, 40),
        change("http_req_failed", "rate<0.05", "rate<0.01", 0.001, 0.002),
        change("checks", "rate>0.9", "rate>0.99", 1, 0),
    ],
    stages=[
        stage("step_load", "browse", 1, ("2s", 20), [("2s", 12), ("2s", 12), ("2s", 20)]),
        stage("remove_stage", "browse", 3, ("2s", 0), []),
    ],
)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{name} differs; UPDATE_GOLDEN=1 regenerates it"


def copy(tmp_path: Path, name: str, text: str | None = None) -> Path:
    target = tmp_path / name
    target.write_text(
        text if text is not None else (PROFILES / name).read_text(encoding="utf-8"), encoding="utf-8"
    )
    return target


def test_yaml_profile_golden(tmp_path: Path) -> None:
    path = copy(tmp_path, "spike.yaml")
    rewrite = rewrite_loadtest_file(load_loadtest_file(path), SPIKE_PLAN)
    check_golden("spike.yaml.diff", rewrite.diff)
    healed = load_loadtest_file(copy(tmp_path, "healed.yaml", rewrite.text)).options
    assert healed["thresholds"]["http_req_duration{name:get_note}"] == ["p(95)<29", "p(99)<200"]
    assert [s["target"] for s in healed["scenarios"]["notes"]["stages"]] == [4, 8, 8, 14, 14, 20, 20, 4, 0]


@pytest.mark.parametrize("name", sorted(p.name for p in PROFILES.glob("*.yaml")))
def test_every_real_profile_round_trips_unchanged(tmp_path: Path, name: str) -> None:
    path = copy(tmp_path, name)
    plan = HealPlan(
        scenario="s",
        profile=name,
        thresholds=[
            change(
                "checks",
                "rate>0.95" if name in ("stress.yaml", "capacity.yaml") else "rate>0.99",
                "rate>0.98",
                1,
                0,
            )
        ],
    )
    rewrite = rewrite_loadtest_file(load_loadtest_file(path), plan)
    removed = [
        line for line in rewrite.diff.splitlines() if line.startswith("-") and not line.startswith("---")
    ]
    assert len(removed) == 1 and "checks" in removed[0]


def test_json_profile_golden(tmp_path: Path) -> None:
    options = load_loadtest_file(PROFILES / "spike.yaml").options
    text = json.dumps(options, indent=2)
    text = text.replace('[\n        "p(95)<100",\n        "p(99)<200"\n      ]', '["p(95)<100", "p(99)<200"]')
    path = copy(tmp_path, "spike.json", text + "\n")
    rewrite = rewrite_loadtest_file(load_loadtest_file(path), SPIKE_PLAN)
    check_golden("spike.json.diff", rewrite.diff)
    assert json.loads(rewrite.text)["thresholds"]["checks"] == ["rate>0.995"]


def test_script_golden_and_k6_inspect(tmp_path: Path) -> None:
    path = copy(tmp_path, "script.js", SCRIPT)
    file = load_loadtest_file(path)
    assert file.options["scenarios"]["browse"]["tags"] == {"env": None}
    rewrite = rewrite_loadtest_file(file, SCRIPT_PLAN)
    check_golden("script.js.diff", rewrite.diff)
    assert "// perfgate: p(95) history 380 ms ± 12; p(99) history 510 ms ± 40" in rewrite.text
    again = rewrite_loadtest_file(
        load_loadtest_file(copy(tmp_path, "again.js", rewrite.text)),
        HealPlan(
            scenario="s",
            profile="again.js",
            thresholds=[change("http_req_failed", "rate<0.01", "rate<0.02", 0.001, 0.002)],
        ),
    )
    assert again.text.count("// perfgate:") == rewrite.text.count("// perfgate:")
    try:
        k6 = find_k6()
    except ToolNotFoundError:
        pytest.skip("k6 not installed")
    healed = copy(tmp_path, "healed.js", rewrite.text)
    done = subprocess.run(
        [str(k6), "inspect", str(healed)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "K6_NO_USAGE_REPORT": "true"},
    )
    assert done.returncode == 0, done.stderr
    inspected = json.loads(done.stdout)
    assert inspected["thresholds"]["http_req_duration{name:home}"][0] == "p(95)<420"
    assert [s["target"] for s in inspected["scenarios"]["browse"]["stages"]] == [4, 12, 12, 20, 20]


@pytest.mark.parametrize(
    ("snippet", "words"),
    [
        ("thresholds: { ...base },", "a spread"),
        ("stages: makeStages(),", "a function call"),
        ("scenarios: { a: { executor: 'ramping-vus', stages: cfg.stages } },", "a member expression"),
    ],
)
def test_dynamic_options_are_refused(tmp_path: Path, snippet: str, words: str) -> None:
    script = (
        f"const base = {{}};\nexport const options = {{\n  {snippet}\n}};\nexport default function () {{}}\n"
    )
    path = copy(tmp_path, "dyn.js", script)
    with pytest.raises(InputDataError) as error:
        load_loadtest_file(path)
    assert words in str(error.value) and "dyn.js" in str(error.value) and "line 3" in str(error.value)
    assert error.value.exit_code == 3


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("[`http_req_duration{name:${BASE}/post}`]: ['max<1000'],", "a computed key"),
        ("checks: limits,", "an identifier"),
        ("checks: [`rate>${x}`],", "a template with substitutions"),
    ],
)
def test_a_threshold_entry_that_is_not_a_literal_is_left_alone(
    tmp_path: Path, entry: str, words: str
) -> None:
    """k6's examples/thresholds.js names a request by its URL; with the URL from `__ENV` the key is
    computed. That entry is kept as written and named; the literal thresholds are still healed."""
    script = (
        "const BASE = __ENV.BASE_URL;\nconst limits = [];\nconst x = 1;\nexport const options = {\n"
        f"  thresholds: {{\n    http_req_duration: ['p(95)<500'],\n    {entry}\n  }},\n}};\n"
        "export default function () {}\n"
    )
    path = copy(tmp_path, "mixed.js", script)
    file = load_loadtest_file(path)
    assert file.options["thresholds"] == {"http_req_duration": ["p(95)<500"]}
    (note,) = file.left_alone
    assert "line 7" in note and words in note and "left as written" in note
    plan = HealPlan(
        scenario="s", profile="mixed.js", thresholds=[change("http_req_duration", "p(95)<500", "p(95)<250")]
    )
    healed = rewrite_loadtest_file(file, plan).text
    assert "p(95)<250" in healed and entry in healed


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("import { options } from './opts.js';\nexport { options };\n", "imported or re-exported"),
        ("export default function () {}\n", "no inline"),
        ("const o = {};\nexport const options = Object.assign({}, o);\n", "a function call"),
    ],
)
def test_options_that_are_not_a_literal_are_refused(tmp_path: Path, script: str, words: str) -> None:
    with pytest.raises(InputDataError, match=words):
        load_loadtest_file(copy(tmp_path, "x.js", script))


def test_errors_name_the_file_and_write_nothing(tmp_path: Path) -> None:
    path = copy(tmp_path, "smoke.yaml")
    before = path.read_text(encoding="utf-8")
    plan = HealPlan(scenario="s", profile="smoke.yaml", thresholds=[change("nope", "p(95)<1", "p(95)<2")])
    with pytest.raises(InputDataError, match=r"smoke\.yaml.*'nope'"):
        rewrite_loadtest_file(load_loadtest_file(path), plan)
    assert path.read_text(encoding="utf-8") == before
    with pytest.raises(InputDataError, match="profile"):
        load_loadtest_file(copy(tmp_path, "x.txt", "a: 1\n"))
    with pytest.raises(InputDataError, match=r"bad\.yaml"):
        load_loadtest_file(copy(tmp_path, "bad.yaml", "thresholds: [\n"))


def test_save_is_atomic_and_keeps_mode(tmp_path: Path) -> None:
    path = copy(tmp_path, "smoke.yaml")
    path.chmod(0o640)
    save_loadtest_file(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n" and (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["smoke.yaml"]
