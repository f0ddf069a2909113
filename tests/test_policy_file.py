"""perfgate.yml: YAML 1.2 into `Policy`, with one-line errors naming file, field and value."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel

from perfgate.adapters.policy_file import EXAMPLE_POLICY, load_policy, parse_policy
from perfgate.errors import InputDataError
from perfgate.models import Acknowledgement, HealingPolicy, HistoryPolicy, MetricRule, Policy


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "perfgate.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_no_path_means_the_built_in_defaults() -> None:
    assert load_policy(None) == Policy()


def test_a_missing_file_given_explicitly_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as caught:
        load_policy(tmp_path / "perfgate.yml")
    assert caught.value.exit_code == 3
    assert str(caught.value) == f"{tmp_path / 'perfgate.yml'}: policy file not found"


def test_a_directory_is_not_a_policy_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="cannot read"):
        load_policy(tmp_path)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, EXAMPLE_POLICY))
    assert policy.healing.mode == "off"
    assert policy.rule_for("http_req_duration{name:search}").ceiling == 800  # type: ignore[union-attr]
    assert policy.rule_for("http_req_failed{name:search}").unit == "ratio"  # type: ignore[union-attr]
    assert [ack.reason for ack in policy.acknowledgements] == [
        "search index rebuilt nightly; tracked in issue 123"
    ]


@pytest.mark.parametrize("model", [Policy, MetricRule, Acknowledgement, HistoryPolicy, HealingPolicy])
def test_the_example_documents_every_setting(model: type[BaseModel]) -> None:
    missing = [name for name in model.model_fields if f"{name}:" not in EXAMPLE_POLICY]
    assert missing == []


OK_CASES: list[tuple[str, str, Callable[[Policy], object], object]] = [
    ("empty file", "", lambda p: p, Policy()),
    ("only comments", "# nothing here\n", lambda p: p, Policy()),
    ("mode off stays a string (YAML 1.2)", "healing:\n  mode: off\n", lambda p: p.healing.mode, "off"),
    (
        "mode pr",
        "healing: {mode: pr, headroom: 1.3}\n",
        lambda p: (p.healing.mode, p.healing.headroom),
        ("pr", 1.3),
    ),
    ("history", "history:\n  keep_runs: 50\n", lambda p: (p.history.keep_runs, p.history.min_runs), (50, 5)),
    (
        "rules replace the defaults",
        "rules:\n  - {match: 'my_*', stats: [avg], direction: lower_is_worse, unit: count}\n",
        lambda p: [(r.match, r.min_change_ratio) for r in p.rules],
        [("my_*", 1.10)],
    ),
    (
        "acknowledgement date",
        "acknowledgements:\n  - {metric: checks, until: 2026-12-31, reason: known}\n",
        lambda p: (p.acknowledgements[0].until.isoformat(), p.acknowledgements[0].stat),
        ("2026-12-31", "*"),
    ),
]


@pytest.mark.parametrize(
    ("text", "read", "expected"), [c[1:] for c in OK_CASES], ids=[c[0] for c in OK_CASES]
)
def test_valid_policies(
    tmp_path: Path, text: str, read: Callable[[Policy], object], expected: object
) -> None:
    assert read(load_policy(_write(tmp_path, text))) == expected


BAD_CASES: list[tuple[str, str, str]] = [
    (
        "bad direction",
        "rules:\n  - {match: x, stats: [avg], direction: up, unit: ms}\n",
        "rules[0].direction: Input should be 'higher_is_worse' or 'lower_is_worse' (got 'up')",
    ),
    (
        "second rule missing a field",
        "rules:\n  - {match: x, stats: [avg], direction: higher_is_worse, unit: ms}\n  - {match: y, stats: [avg]}\n",
        "rules[1].direction: Field required (and 1 more problem)",
    ),
    ("misspelt section", "histroy:\n  keep_runs: 50\n", "histroy: Extra inputs are not permitted"),
    ("too few kept runs", "history:\n  keep_runs: 5\n", "history.keep_runs: Input should be greater than or equal to 10 (got 5)"),
    ("unknown mode", "healing:\n  mode: yes\n", "healing.mode: Input should be 'off', 'commit' or 'pr' (got 'yes')"),
    ("newer schema", "schema_version: 2\n", "schema_version: Input should be 1 (got 2)"),
    (
        "bad date",
        "acknowledgements:\n  - {metric: x, until: someday, reason: r}\n",
        "acknowledgements[0].until: Input should be a valid date or datetime, input is too short (got 'someday')",
    ),
    ("many problems", "history: {min_runs: 1, keep_runs: 1}\nhealing: {headroom: 0}\n", "(and 2 more problems)"),
    ("duplicate key", "history:\n  keep_runs: 50\nhistory:\n  keep_runs: 60\n", 'invalid YAML at line 3, column 1: found duplicate key "history"'),
    ("unclosed list", "rules: [\n  {match: x}\n", "invalid YAML at line 3, column 1: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)"),
    ("bad indentation", "history:\n  keep_runs: 50\n   min_runs: 5\n", "invalid YAML at line 3, column 12: mapping values are not allowed here"),
    ("top level list", "- a\n- b\n", "expected a mapping of settings at the top level, got list"),
    ("top level scalar", "just text\n", "expected a mapping of settings at the top level, got str"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "problem"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_policies_give_one_line_naming_file_field_and_value(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputDataError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert message.startswith(f"{path}: ")
    assert problem in message, message
    assert "\n" not in message


def test_parse_policy_names_the_given_source() -> None:
    with pytest.raises(InputDataError) as caught:
        parse_policy("rules:\n  - {match: x, stats: [avg], direction: up, unit: ms}\n")
    assert str(caught.value) == (
        "perfgate.yml: rules[0].direction: Input should be 'higher_is_worse' or 'lower_is_worse' (got 'up')"
    )


def test_non_utf8_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "perfgate.yml"
    path.write_bytes(b"healing:\n  mode: \xff\n")
    with pytest.raises(InputDataError, match="not UTF-8"):
        load_policy(path)
