"""Markdown and terminal text: structure, escaping of hostile values, next steps, healing diff."""

from __future__ import annotations

import re
from datetime import date

import pytest
from ruamel.yaml import YAML
from test_render_cases import ACK_UNTIL, KINDS, finding, make_plan, make_verdict

from perfgate.core.render import MARKER, escape_md, render_markdown, render_text
from perfgate.core.render.formatting import group_findings, one_line, short_metric
from perfgate.models import HealPlan, Policy, Verdict, VerdictKind

HOSTILE = "x|y`<script>alert(1)</script>&amp;[link](http://e.vil)\n# head\x1b[31m\u202e"


def _hostile_verdict() -> Verdict:
    verdict = make_verdict("regression")
    bad = finding(HOSTILE, "p(95)", 10.0, 20.0, "regression", reason=HOSTILE)
    return verdict.model_copy(
        update={"findings": [bad], "reason": HOSTILE, "notices": [HOSTILE], "scenario": HOSTILE}
    )


@pytest.mark.parametrize("kind", KINDS)
def test_first_line_is_the_verdict_with_the_hidden_marker(kind: VerdictKind) -> None:
    first = render_markdown(make_verdict(kind)).splitlines()[0]
    assert first.startswith("## ") and first.endswith(" " + MARKER) and MARKER == "<!-- perfgate -->"
    assert kind.replace("_", " ").upper() in first


def test_notable_endpoints_are_shown_and_quiet_ones_folded() -> None:
    text = render_markdown(make_verdict("regression"))
    table, folded = text.split("<details>", 1)
    assert "search\\_notes" in table and "❌ regression" in table
    assert "create\\_note" not in table and "create\\_note" in folded


def test_groups_put_the_worst_endpoint_first_and_run_level_last() -> None:
    groups = group_findings(make_verdict("regression").findings)
    assert groups[0].endpoint == "search_notes"
    assert groups[-1].endpoint is None and groups[-1].title == "whole run"


def test_short_metric_names() -> None:
    assert short_metric(finding("a", "p(95)", 1, 1)) == "latency p(95)"
    assert short_metric(finding("a", "rate", 0, 0)) == "error rate"
    assert short_metric(finding(None, "rate", 1, 1)) == "checks"


def test_hostile_text_stays_text_in_markdown() -> None:
    rendered = render_markdown(_hostile_verdict())
    fence = re.search(r"^(`{3,})yaml$", rendered, flags=re.M)
    assert fence is not None
    code = rendered.split(fence[0], 1)[1].split("\n" + fence[1] + "\n", 1)[0]
    assert "\x1b" not in code and "\\u001b[31m" in code  # JSON-quoted inside the code block
    text = rendered.replace(code, "")
    assert "<script>" not in text and "](http" not in text and "\x1b" not in text and "\u202e" not in text
    assert "\n# head" not in text
    for line in text.splitlines():
        if line.startswith("| ") and line.endswith("regression |"):
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) == 8, line  # six columns: no `|` leaked from a value


def test_escape_md_escapes_every_markdown_character() -> None:
    assert escape_md("a_b*c`d") == "a\\_b\\*c\\`d"
    assert escape_md("two\nlines") == "two lines"
    assert escape_md("@org/team http://x www.y") == "@\u2060org/team http\\:\u2060//x www\u2060\\.y"


def test_code_fences_outlast_backticks_in_values() -> None:
    plan = make_plan()
    evil = plan.thresholds[0].model_copy(update={"metric": "http_req_duration{name:```evil}"})
    plan = plan.model_copy(update={"thresholds": [evil, *plan.thresholds[1:]]})
    text = render_markdown(make_verdict("improvement"), plan=plan)
    assert "````diff" in text and "\n````\n" in text


def test_acknowledgement_snippet_is_a_valid_policy_section() -> None:
    text = render_markdown(make_verdict("regression"), ack_until=ACK_UNTIL)
    snippet = text.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    policy = Policy.model_validate(YAML(typ="safe").load(snippet))
    assert [(a.metric, a.stat) for a in policy.acknowledgements] == [
        ("http_req_duration{name:search_notes}", "p(95)"),
        ("http_req_duration{name:search_notes}", "p(99)"),
    ]
    assert all(a.until == date(2026, 12, 15) for a in policy.acknowledgements)


def test_acknowledgement_without_a_date_asks_for_one() -> None:
    assert "until: YYYY-MM-DD" in render_markdown(make_verdict("regression"))


@pytest.mark.parametrize("kind", ["pass", "improvement", "noise", "warn", "no_baseline"])
def test_only_regressions_get_an_acknowledgement(kind: VerdictKind) -> None:
    assert "acknowledgements:" not in render_markdown(make_verdict(kind))


def test_noise_says_re_run() -> None:
    assert "re\\-run the job" in render_markdown(make_verdict("noise"))
    assert "re-run the job" in render_text(make_verdict("noise"))


def test_heal_plan_as_diff_and_refusal() -> None:
    text = render_markdown(make_verdict("improvement"), plan=make_plan())
    diff = text.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert "-  - p(95)<150" in diff and "+  - p(95)<16" in diff
    assert "+  - {duration: 20s, target: 5}" in diff
    refused = HealPlan(scenario="s", profile="p.yaml", refused="the run is a regression")
    text = render_markdown(make_verdict("regression"), plan=refused)
    assert "```diff" not in text and "Healing refused" in text


def test_many_findings_are_cut_with_a_count() -> None:
    many = [finding(f"e{i:03d}", "p(95)", 10, 20, "regression") for i in range(100)]
    verdict = make_verdict("regression").model_copy(update={"findings": many})
    text = render_markdown(verdict)
    assert "… and 20 more metrics" in text


def test_text_has_no_colour_unless_asked() -> None:
    verdict = make_verdict("regression")
    assert "\x1b[" not in render_text(verdict)
    coloured = render_text(verdict, color=True)
    assert coloured.startswith("\x1b[31mperfgate: REGRESSION\x1b[0m")


def test_text_strips_terminal_escapes_from_values() -> None:
    text = render_text(_hostile_verdict(), color=False)
    assert "\x1b" not in text and "\u202e" not in text
    assert one_line("a\tb\x00c\r\nd") == "a b\ufffdc d"


def test_text_lists_findings_by_endpoint_with_the_next_step() -> None:
    text = render_text(make_verdict("regression"), ack_until=ACK_UNTIL)
    lines = text.splitlines()
    assert lines[0] == "perfgate: REGRESSION"
    table_start = next(i for i, line in enumerate(lines) if line.startswith("endpoint"))
    assert lines[table_start + 2].startswith("search_notes  latency p(95)")
    assert "until: 2026-12-15" in text and text.index("next:") < text.index("this run:")
