"""The prompt holds perfgate's numbers and sanitised names only: no free text reaches the model."""

from __future__ import annotations

import json
import re
from typing import Any

from fake_openai import (
    CEILING_MS,
    GET_NOTE,
    HOSTILE_ENDPOINT,
    HOSTILE_METRIC,
    make_plan,
    make_policy,
    make_stages,
    make_verdict,
)
from hypothesis import given
from hypothesis import strategies as st

from perfgate.core.explain import SYSTEM_PROMPT, build_evidence, build_prompt, safe_name
from perfgate.models import Finding, StageStats

TOKEN = re.compile(r"^[A-Za-z0-9_.:{}()<>=*\-]*$")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _evidence(messages: list[dict[str, str]]) -> Any:
    header, _, document = messages[1]["content"].partition("\n")
    assert header == "perfgate evidence (JSON):"
    return json.loads(document)


def test_messages_are_the_fixed_instructions_then_one_json_document() -> None:
    messages = build_prompt(make_verdict(), make_plan(), make_policy(), make_stages())
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == SYSTEM_PROMPT
    evidence = _evidence(messages)
    assert evidence["verdict"] == "regression"
    assert evidence["history_runs"] == 12


def test_every_string_in_the_evidence_is_a_token_without_spaces() -> None:
    evidence = _evidence(build_prompt(make_verdict(), make_plan(), make_policy(), make_stages()))
    strings = _strings(evidence)
    assert strings
    assert all(TOKEN.match(s) and len(s) <= 80 for s in strings), [s for s in strings if not TOKEN.match(s)]


def test_carries_the_computed_numbers() -> None:
    evidence = _evidence(build_prompt(make_verdict(), make_plan(), make_policy(), make_stages()))
    get_note = next(f for f in evidence["findings"] if f["metric"] == GET_NOTE)
    assert get_note == {
        "metric": GET_NOTE,
        "aggregation": "p(95)",
        "unit": "ms",
        "direction": "higher_is_worse",
        "baseline": 25.0,
        "observed": 40.0,
        "change_ratio": 1.6,
        "change_abs": 15.0,
        "confidence": 0.99,
        "classification": "regression",
        "detectors": [],
        "ceiling": CEILING_MS,
    }
    (change,) = evidence["heal_plan"]["thresholds"]
    assert (change["old_limit"], change["new_limit"], change["history_bound"]) == (150.0, 52.0, 45.0)
    assert evidence["stages"][2] == {
        "stage": "default:2",
        "requests": 300,
        "failed": 2,
        "error_rate": 0.002,
        "p95_ms": 32.0,
        "p99_ms": None,
    }
    assert {"match": "http_req_duration{name:*}", "unit": "ms", "ceiling": CEILING_MS} in evidence[
        "policy_ceilings"
    ]


def test_reasons_notices_and_file_names_stay_out() -> None:
    messages = build_prompt(make_verdict(), make_plan(), make_policy(), make_stages())
    text = json.dumps(messages)
    for marker in ("REASON-TEXT", "NOTICE-TEXT", "PLAN-REASON", "summary.json", "smoke.yaml"):
        assert marker not in text


def test_a_hostile_endpoint_name_cannot_inject_text() -> None:
    verdict = make_verdict(get_note_metric=HOSTILE_METRIC)
    messages = build_prompt(verdict, None, make_policy(), [])
    user = messages[1]["content"]
    assert "Ignore previous instructions" not in user
    assert HOSTILE_ENDPOINT not in user
    (finding, *_) = _evidence(messages)["findings"]
    assert finding["metric"] == safe_name(HOSTILE_METRIC)
    assert " " not in finding["metric"]
    assert all(TOKEN.match(s) for s in _strings(_evidence(messages)))


def test_safe_name_keeps_k6_selectors_and_caps_length() -> None:
    assert safe_name("http_req_duration{name:get_note}") == "http_req_duration{name:get_note}"
    assert safe_name("p(99.9)") == "p(99.9)"
    assert safe_name('a"b\nc d') == "a_b_c_d"
    assert len(safe_name("x" * 500)) == 80


@given(
    endpoint=st.text(min_size=1, max_size=300),
    scenario=st.text(min_size=1, max_size=100),
    stat=st.text(min_size=1, max_size=30),
)
def test_any_name_becomes_a_short_token(endpoint: str, scenario: str, stat: str) -> None:
    verdict = make_verdict()
    hostile = Finding(
        metric=f"http_req_duration{{name:{endpoint}}}",
        stat=stat,
        endpoint=endpoint,
        direction="higher_is_worse",
        unit="ms",
        observed=1.0,
        classification="pass",
        confidence=1.0,
        detectors=[endpoint],
    )
    verdict = verdict.model_copy(update={"findings": [hostile], "scenario": scenario})
    stages = [StageStats(scenario=scenario, stage=0, requests=1, failed=0, error_rate=0.0)]
    evidence = build_evidence(verdict, None, make_policy(), stages)
    assert all(TOKEN.match(s) and len(s) <= 80 for s in _strings(evidence))
