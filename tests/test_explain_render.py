"""perfgate's own explanation, and how an explanation is rendered (model text is only ever text)."""

from __future__ import annotations

from fake_openai import GET_NOTE, make_plan, make_verdict

from perfgate.core.explain import (
    Explanation,
    GuardedThreshold,
    deterministic_explanation,
)
from perfgate.core.expressions import format_limit, parse_expression, render_expression
from perfgate.core.render.explanation import render_explanation_markdown, render_explanation_text


def test_deterministic_text_is_built_from_the_numbers() -> None:
    text = deterministic_explanation(make_verdict("regression"), None)
    lines = text.splitlines()
    assert lines[0].startswith("perfgate's verdict is REGRESSION (compared with 12 comparable runs)")
    assert lines[1] == "get_note p(95) went from 25.0 ms to 40.0 ms (+60.0 %): regression, confidence 0.99."
    assert lines[2] == "2 other metric(s) are within their usual range or have no baseline yet."
    assert "REASON-TEXT" not in text and "NOTICE-TEXT" not in text


def test_deterministic_text_lists_the_heal_plan() -> None:
    text = deterministic_explanation(make_verdict("pass"), make_plan())
    assert "every gated metric is within its usual range" in text
    assert "Healing proposes 1 threshold and 0 stage change(s)." in text
    assert (
        "- http_req_duration{name:list_notes} p(95): limit 150 → 52 (tighten, from 12 runs, history bound 45)"
        in text
    )
    refused = make_plan().model_copy(update={"refused": "regression"})
    assert "it was refused" in deterministic_explanation(make_verdict("regression"), refused)


def _model_explanation(text: str) -> Explanation:
    return Explanation(
        text=text,
        source="model",
        model="gpt-test",
        model_regression_opinion=False,
        agrees_with_verdict=False,
        model_confidence=0.7,
        guarded_thresholds=[
            GuardedThreshold(
                metric=GET_NOTE,
                expression="p(95)<31.25",
                aggregation="p(95)",
                limit=31.25,
                suggested=1e5,
                clamped=True,
            )
        ],
        dropped=["clamped http_req_duration{name:get_note} p(95)<100000 to p(95)<31.25 (allowed 25-31.25)"],
    )


def test_markdown_marks_the_model_and_escapes_its_text() -> None:
    hostile = "<script>alert(1)</script> [click](https://evil.example) @octocat **bold** | www.x.io"
    md = render_explanation_markdown(_model_explanation(hostile))
    assert md.splitlines()[0] == "### Explanation \\(model\\-written by gpt\\-test; advisory\\)"
    assert "<script>" not in md and "](" not in md and "**bold**" not in md
    assert "\\<script\\>" in md
    assert "@octocat" not in md and "https://" not in md and "www." not in md
    assert "it disagrees with perfgate's verdict, which stands" in md
    suggestion = next(line for line in md.splitlines() if line.startswith("- suggested threshold"))
    assert suggestion.endswith("get\\_note\\} p\\(95\\)\\<31\\.25")


def test_text_strips_terminal_escapes_and_shows_the_opinion_beside_the_verdict() -> None:
    out = render_explanation_text(_model_explanation("fine \x1b[2J\x1b[31mred\x07 text"))
    assert "\x1b" not in out and "\x07" not in out
    lines = out.splitlines()
    assert lines[0] == "Explanation (model-written by gpt-test; advisory)"
    assert lines[1] == "fine [2J [31mred text"
    assert lines[2] == (
        "The model thinks this is not a regression, confidence 0.70; it disagrees with perfgate's verdict, "
        "which stands."
    )
    assert "guardrail: clamped" in out


def test_a_deterministic_explanation_says_who_wrote_it_and_why() -> None:
    explanation = Explanation(text="line one\nline two", source="deterministic", notice="no key")
    assert render_explanation_text(explanation).splitlines() == [
        "Explanation (written by perfgate from its own numbers)",
        "line one",
        "line two",
        "note: no key",
    ]
    assert render_explanation_markdown(explanation).splitlines() == [
        "### Explanation \\(written by perfgate from its own numbers\\)",
        "",
        "line one",
        "line two",
        "",
        "> note\\: no key",
    ]


def test_expressions_render_their_limits_plainly() -> None:
    assert format_limit(40.0) == "40"
    assert format_limit(0.01) == "0.01"
    assert format_limit(1e-7) == "0.0000001"
    assert parse_expression(" p(99.90) <= 4e2 ") is not None
    parsed = parse_expression("p(99.90)<=4e2")
    assert parsed is not None and render_expression(parsed) == "p(99.9)<=400"
