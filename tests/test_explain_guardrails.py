"""Guardrails: the model suggests, perfgate's evidence and policy decide what is kept."""

from __future__ import annotations

from typing import Any

import pytest
from fake_openai import CEILING_MS, GET_NOTE, LIST_NOTES, make_plan, make_policy, make_stages, make_verdict
from hypothesis import given
from hypothesis import strategies as st

from perfgate.core.explain import ExplainerReply, GuardedExplanation, apply_guardrails
from perfgate.core.expressions import parse_expression
from perfgate.models import HealPlan, Policy, Verdict


def _reply(**fields: Any) -> ExplainerReply:
    base: dict[str, Any] = {"regression": True, "reason": "r", "confidence": 0.5}
    return ExplainerReply.model_validate(base | fields)


def _guard(
    thresholds: dict[str, list[str]],
    kind: str = "pass",
    plan: HealPlan | None = None,
    policy: Policy | None = None,
    **fields: Any,
) -> GuardedExplanation:
    reply = _reply(new_thresholds=thresholds, **fields)
    return apply_guardrails(reply, make_verdict(kind), plan, policy or make_policy(), make_stages())


def _kept(guarded: GuardedExplanation) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in guarded.thresholds:
        out.setdefault(t.metric, []).append(t.expression)
    return out


# window per metric (pass verdict): get_note [25, 31.25] from its baseline; list_notes with the plan
# [45, 56.25] from the plan's history bound 45; checks (lower is worse) [0.8, 1.0].
@pytest.mark.parametrize(
    ("metric", "expression", "kept", "clamped"),
    [
        (GET_NOTE, "p(95)<30", "p(95)<30", False),
        (GET_NOTE, "p(95) <= 28.5", "p(95)<=28.5", False),
        (GET_NOTE, "p(95)<100000", "p(95)<31.25", True),
        (GET_NOTE, "p(95)<3", "p(95)<25", True),
        (LIST_NOTES, "p(95)<50", "p(95)<50", False),
        (LIST_NOTES, "p(95)<100000", "p(95)<56.25", True),
        (LIST_NOTES, "p(95)<10", "p(95)<45", True),
        ("checks", "rate>0.5", "rate>0.8", True),
        ("checks", "rate>=0.95", "rate>=0.95", False),
    ],
)
def test_suggestions_are_kept_inside_perfgates_window(
    metric: str, expression: str, kept: str, clamped: bool
) -> None:
    guarded = _guard({metric: [expression]}, plan=make_plan())
    assert _kept(guarded) == {metric: [kept]}
    assert guarded.thresholds[0].clamped is clamped
    assert guarded.thresholds[0].suggested == parse_expression(expression).limit  # type: ignore[union-attr]
    assert len(guarded.dropped) == (1 if clamped else 0)
    if clamped:
        assert guarded.dropped[0].startswith("clamped ")


def test_the_policy_ceiling_wins_over_the_history_bound() -> None:
    policy = make_policy()
    rules = [policy.rules[0].model_copy(update={"ceiling": 28.0}), *policy.rules[1:]]
    policy = policy.model_copy(update={"rules": rules})
    guarded = _guard({GET_NOTE: ["p(95)<100000"]}, policy=policy)
    assert _kept(guarded) == {GET_NOTE: ["p(95)<28"]}
    assert CEILING_MS > 28.0


@pytest.mark.parametrize(
    ("metric", "expression", "why"),
    [
        ("http_req_duration{name:nope}", "p(95)<30", "not a metric perfgate measured"),
        (GET_NOTE, "p95<30", "not a k6 threshold expression"),
        (GET_NOTE, "p(95)<30; rm -rf /", "not a k6 threshold expression"),
        (GET_NOTE, "p(95)<abc", "not a k6 threshold expression"),
        (GET_NOTE, "p(95)==30", "operator == does not limit the bad direction"),
        (GET_NOTE, "p(95)>30", "does not limit the bad direction"),
        (GET_NOTE, "p(99)<30", "no evidence for p(99)"),
        (GET_NOTE, "rate<0.1", "no evidence for rate"),
        ("checks", "rate<0.9", "does not limit the bad direction"),
    ],
)
def test_unusable_suggestions_are_dropped_with_a_note(metric: str, expression: str, why: str) -> None:
    guarded = _guard({metric: [expression]})
    assert guarded.thresholds == []
    (note,) = guarded.dropped
    assert note.startswith("dropped ") and why in note


def test_a_regression_loosens_nothing() -> None:
    guarded = _guard(
        {GET_NOTE: ["p(95)<100000"], LIST_NOTES: ["p(95)<200"]},
        kind="regression",
        plan=make_plan(),
        regression=False,
        stage_adjustments=[{"type": "step_load", "reason": "less load", "change": "half the VUs"}],
        remove=["default:2"],
    )
    assert guarded.thresholds == []
    assert guarded.stage_adjustments == [] and guarded.remove == []
    assert any("regressed value 40 would pass it" in n for n in guarded.dropped)
    assert any("would loosen the current limit 150" in n for n in guarded.dropped)
    assert any("no load changes while the verdict is a regression" in n for n in guarded.dropped)
    assert len(guarded.dropped) == 4
    assert (guarded.model_regression, guarded.agrees_with_verdict) == (False, False)


def test_a_regression_may_still_tighten_below_the_regressed_value() -> None:
    guarded = _guard({GET_NOTE: ["p(95)<30"]}, kind="regression")
    assert _kept(guarded) == {GET_NOTE: ["p(95)<30"]}
    assert guarded.agrees_with_verdict is True


def test_duplicates_and_too_many_expressions_are_dropped() -> None:
    guarded = _guard({GET_NOTE: ["p(95)<30", "p(95)<29", "avg<20", "med<10", "max<99", "min<1"]})
    assert _kept(guarded) == {GET_NOTE: ["p(95)<30"]}
    assert any("a second threshold on p(95)" in n for n in guarded.dropped)
    assert any("more than 4 expressions" in n for n in guarded.dropped)
    assert len(guarded.dropped) == 5


def test_the_prompt_safe_name_of_a_metric_is_understood() -> None:
    verdict = make_verdict("pass", get_note_metric="http_req_duration{name:get note}")
    reply = _reply(new_thresholds={"http_req_duration{name:get_note}": ["p(95)<30"]})
    guarded = apply_guardrails(reply, verdict, None, make_policy())
    assert [t.metric for t in guarded.thresholds] == ["http_req_duration{name:get note}"]


def test_stage_suggestions_need_a_known_kind_a_known_stage_and_the_policy() -> None:
    fields: dict[str, Any] = {
        "stage_adjustments": [
            {"type": "lengthen_ramp", "reason": "ramp \x1b[31mred", "change": "30s ramp"},
            {"type": "delete_everything", "reason": "x", "change": "y"},
        ],
        "remove": ["default:1", "default:9", "default:1"],
    }
    forbidden = _guard({}, **fields)
    assert [s.type for s in forbidden.stage_adjustments] == ["lengthen_ramp"]
    assert forbidden.stage_adjustments[0].reason == "ramp [31mred"
    assert forbidden.remove == []
    allowed = _guard({}, policy=make_policy(allow_stage_removal=True), **fields)
    assert allowed.remove == ["default:1"]
    assert any("no such stage" in n for n in allowed.dropped)


def test_the_reason_is_kept_as_flat_text_without_control_characters() -> None:
    guarded = _guard({}, reason="line one\n\x1b]8;;http://x\x07link\u202e done")
    assert guarded.reason == "line one ]8;;http://x link done"


_VERDICT_KINDS = st.sampled_from(["pass", "regression"])
_EXPRESSIONS = st.builds(
    lambda agg, op, limit: f"{agg}{op}{limit}",
    st.sampled_from(["p(95)", "p(99)", "avg", "rate"]),
    st.sampled_from(["<", "<=", ">", ">=", "=="]),
    st.floats(min_value=-10, max_value=1e6, allow_nan=False),
)


@given(
    kind=_VERDICT_KINDS,
    suggestions=st.dictionaries(
        st.sampled_from([GET_NOTE, LIST_NOTES, "checks", "nope"]), st.lists(_EXPRESSIONS, max_size=6)
    ),
    with_plan=st.booleans(),
)
def test_whatever_is_suggested_stays_within_perfgates_bounds(
    kind: str, suggestions: dict[str, list[str]], with_plan: bool
) -> None:
    verdict: Verdict = make_verdict(kind)
    guarded = apply_guardrails(
        _reply(new_thresholds=suggestions), verdict, make_plan() if with_plan else None, make_policy()
    )
    total = sum(len(v) for v in suggestions.values())
    unknown = 1 if suggestions.get("nope") is not None else 0
    clamped = sum(t.clamped for t in guarded.thresholds)
    assert (
        len(guarded.thresholds) + len(guarded.dropped) - clamped
        == total - len(suggestions.get("nope", [])) + unknown
    )
    for t in guarded.thresholds:
        if t.metric == GET_NOTE:
            assert 25.0 <= t.limit <= 31.25
            assert not (kind == "regression" and t.limit >= 40.0)
        elif t.metric == LIST_NOTES:
            assert (45.0 if with_plan else 40.0) <= t.limit <= (56.25 if with_plan else 50.0)
        else:
            assert 0.8 <= t.limit <= 1.0
    assert verdict == make_verdict(kind)
