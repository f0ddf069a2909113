"""Load profiles: loading, validation messages, the load-model fingerprint, the --config JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfgate.adapters.profiles import (
    compute_fingerprint,
    load_profile,
    normalise_duration,
    script_digest,
    write_k6_config,
)
from perfgate.errors import InputDataError

REPO = Path(__file__).resolve().parent.parent
PROFILES = sorted((REPO / "loadtests" / "profiles").glob("*.yaml"))
SCRIPT = REPO / "loadtests" / "notes.js"
ENDPOINTS = ("create_note", "get_note", "list_notes", "search_notes", "update_note", "delete_note")


def ramping(stages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"scenarios": {"notes": {"executor": "ramping-vus", "stages": stages, **extra}}}


STAGES = [{"duration": "1m", "target": 5}, {"duration": "30s", "target": 0}]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_six_profiles_ship() -> None:
    assert [path.stem for path in PROFILES] == ["capacity", "load", "smoke", "soak", "spike", "stress"]


@pytest.mark.parametrize("path", PROFILES, ids=lambda path: path.stem)
def test_shipped_profile_loads_with_per_endpoint_thresholds(path: Path) -> None:
    profile = load_profile(path, script=SCRIPT)
    assert profile.name == path.stem
    assert list(profile.options["scenarios"]) == ["notes"]
    thresholds = profile.options["thresholds"]
    for endpoint in ENDPOINTS:
        assert f"http_req_duration{{name:{endpoint}}}" in thresholds
        assert f"http_req_failed{{name:{endpoint}}}" in thresholds
    assert "checks" in thresholds
    assert {"p(95)", "p(99)", "count"} <= set(profile.options["summaryTrendStats"])
    assert profile.fingerprint.script == script_digest(SCRIPT)
    assert path.read_text(encoding="utf-8").lstrip().startswith("#"), "each profile explains itself"


def test_shipped_profiles_have_distinct_fingerprints() -> None:
    digests = {load_profile(path).fingerprint.digest() for path in PROFILES}
    assert len(digests) == len(PROFILES)


def test_fingerprint_ignores_key_order_and_duration_spelling() -> None:
    one = ramping(STAGES, startVUs=2, gracefulRampDown="5s")
    other = {
        "scenarios": {
            "notes": {
                "gracefulRampDown": "5s",
                "stages": [{"target": 5, "duration": "60s"}, {"target": 0.0, "duration": "0m30s"}],
                "startVUs": 2,
                "executor": "ramping-vus",
            }
        }
    }
    assert compute_fingerprint(one, None) == compute_fingerprint(other, None)


def test_thresholds_tags_and_trend_stats_do_not_change_the_fingerprint() -> None:
    bare = ramping(STAGES)
    dressed = {
        **ramping(STAGES),
        "thresholds": {"http_req_duration{name:get_note}": ["p(95)<1"]},
        "tags": {"profile": "x"},
        "summaryTrendStats": ["avg"],
    }
    assert compute_fingerprint(bare, None).digest() == compute_fingerprint(dressed, None).digest()


@pytest.mark.parametrize(
    "changed",
    [
        ramping([{"duration": "1m", "target": 6}, {"duration": "30s", "target": 0}]),
        ramping([{"duration": "2m", "target": 5}, {"duration": "30s", "target": 0}]),
        ramping([*STAGES, {"duration": "1s", "target": 0}]),
        ramping(STAGES, startVUs=3),
        {"scenarios": {"notes": {"executor": "ramping-arrival-rate", "stages": STAGES}}},
    ],
    ids=["target", "duration", "extra-stage", "start-vus", "executor"],
)
def test_load_model_changes_change_the_fingerprint(changed: dict[str, Any]) -> None:
    assert compute_fingerprint(changed, None) != compute_fingerprint(ramping(STAGES), None)


def test_defaults_are_filled_in() -> None:
    assert compute_fingerprint(ramping(STAGES), None) == compute_fingerprint(
        ramping(STAGES, startVUs=1), None
    )
    rate = {"executor": "constant-arrival-rate", "rate": 10, "duration": "1m"}
    explicit = {**rate, "timeUnit": "1000ms"}
    one = compute_fingerprint({"scenarios": {"a": rate}}, None)
    assert one == compute_fingerprint({"scenarios": {"a": explicit}}, None)
    assert (one.rate, one.time_unit, one.duration) == (10.0, "1s", "1m0s")


def test_execution_shortcuts_become_the_scenario_k6_builds() -> None:
    stages = compute_fingerprint({"stages": STAGES, "vus": 3}, None)
    assert (stages.executor, stages.vus, len(stages.stages)) == ("ramping-vus", 3, 2)
    constant = compute_fingerprint({"vus": 4, "duration": "30s"}, None)
    assert (constant.executor, constant.vus, constant.duration) == ("constant-vus", 4, "30s")
    assert compute_fingerprint({}, None).executor == "shared-iterations"


def test_several_scenarios_fingerprint_the_first_by_name_and_hash_the_rest() -> None:
    first = {"executor": "constant-vus", "vus": 2, "duration": "10s"}
    second = {"executor": "constant-arrival-rate", "rate": 5, "duration": "10s"}
    both = compute_fingerprint({"scenarios": {"b": second, "a": first}}, None)
    assert compute_fingerprint({"scenarios": {"a": first, "b": second}}, None) == both
    assert (both.executor, both.vus) == ("constant-vus", 2)
    assert both.script is None and both.extra is not None
    faster = compute_fingerprint({"scenarios": {"a": first, "b": {**second, "rate": 6}}}, None)
    assert faster != both


def test_script_identity_follows_the_script_text(tmp_path: Path) -> None:
    script = write(tmp_path, "a.js", "export default function () {}\n")
    same = write(tmp_path, "b.js", "export default function () {}\r\n")
    other = write(tmp_path, "c.js", "export default function () { }\n")
    options = ramping(STAGES)
    digest = compute_fingerprint(options, script).script
    assert digest is not None and len(digest) == 16
    assert compute_fingerprint(options, same).script == digest
    assert compute_fingerprint(options, other).script != digest


def test_json_profile_equals_yaml_profile(tmp_path: Path) -> None:
    options = {**ramping(STAGES), "thresholds": {"checks": ["rate>0.99"]}}
    from_json = load_profile(write(tmp_path, "p.json", json.dumps(options)))
    from_yaml = load_profile(write(tmp_path, "p.yaml", yaml.safe_dump(options)))
    assert from_json.options == from_yaml.options
    assert from_json.fingerprint == from_yaml.fingerprint


def test_write_k6_config_round_trips(tmp_path: Path) -> None:
    profile = load_profile(PROFILES[0])
    target = tmp_path / "k6-config.json"
    write_k6_config(profile, target)
    assert json.loads(target.read_text(encoding="utf-8")) == profile.options


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1m", "1m0s"),
        ("60s", "1m0s"),
        ("90s", "1m30s"),
        ("1.5s", "1.5s"),
        ("1500ms", "1.5s"),
        (1500, "1.5s"),
        ("500ms", "500ms"),
        ("2h30m", "2h30m0s"),
        ("0", "0s"),
    ],
)
def test_normalise_duration(value: object, expected: str) -> None:
    assert normalise_duration(value) == expected


@pytest.mark.parametrize("value", ["", "5", "1x", "s", "-1s", "1 m", None, True])
def test_normalise_duration_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        normalise_duration(value)


BAD_PROFILES = {
    "list.yaml": ("- a\n- b\n", "must be a mapping of k6 options, got list"),
    "empty.yaml": ("# nothing\n", "got nothing"),
    "syntax.yaml": ("scenarios:\n  notes: {executor: [\n", "YAML syntax error at line"),
    "syntax.json": ('{\n "scenarios": {\n}', "JSON syntax error at line 3"),
    "both.yaml": (
        "stages: [{duration: 1s, target: 1}]\nscenarios: {a: {executor: constant-vus}}\n",
        "either 'stages' or 'scenarios'",
    ),
    "executor.yaml": ("scenarios: {notes: {executor: ramping-users}}\n", "unknown executor 'ramping-users'"),
    "nostages.yaml": ("scenarios: {notes: {executor: ramping-vus}}\n", "needs 'stages'"),
    "threshold-number.yaml": ("thresholds: {checks: [0.99]}\n", "thresholds for 'checks'"),
    "threshold-string.yaml": ("thresholds: {checks: 'rate>0.99'}\n", "thresholds for 'checks'"),
    "threshold-object.yaml": ("thresholds: {checks: [{abortOnFail: true}]}\n", "thresholds for 'checks'"),
    "duration.yaml": (
        "scenarios: {notes: {executor: ramping-vus, stages: [{duration: 10x, target: 1}]}}\n",
        "not a duration: '10x'",
    ),
    "stats.yaml": ("summaryTrendStats: avg\n", "summaryTrendStats"),
    "selector.yaml": ("thresholds: {'http_req_duration{name}': ['p(95)<1']}\n", "bad tag selector 'name'"),
}


@pytest.mark.parametrize("name", sorted(BAD_PROFILES))
def test_bad_profile_names_the_file_and_the_problem(tmp_path: Path, name: str) -> None:
    text, problem = BAD_PROFILES[name]
    path = write(tmp_path, name, text)
    with pytest.raises(InputDataError) as caught:
        load_profile(path)
    assert caught.value.source == str(path)
    assert problem in caught.value.problem
    assert "\n" not in str(caught.value)


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", 'thresholds:\n  checks: ["rate>0.99"]\n  bad: [\n')
    with pytest.raises(InputDataError, match=r"p\.yaml: YAML syntax error at line 4"):
        load_profile(path)


def test_missing_profile_is_input_data_error(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="cannot read profile"):
        load_profile(tmp_path / "nope.yaml")


def test_threshold_object_form_is_accepted(tmp_path: Path) -> None:
    text = "thresholds:\n  checks: [{threshold: 'rate>0.9', abortOnFail: true}, 'rate>0.5']\n"
    assert load_profile(write(tmp_path, "p.yaml", text)).options["thresholds"]["checks"][1] == "rate>0.5"
