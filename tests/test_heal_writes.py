"""Heal writes: only the limit changes, comments are replaced not stacked, and a rewrite the real
k6 rejects (or that moves anything but the planned limits) is never written."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from factories import make_threshold_change
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.adapters.k6_runner import find_k6
from perfgate.adapters.loadtest_files import load_loadtest_file, rewrite_loadtest_file
from perfgate.adapters.loadtest_files.k6_check import check_healed_script
from perfgate.core.expressions import format_number
from perfgate.core.heal.targets import threshold_expressions
from perfgate.errors import InputDataError
from perfgate.models import HealPlan

NASTY = """\
import http from 'k6/http';

export const options = {
  vus: 2,
  duration: '1s',
  delayAborEval: '1s', // misspelt on purpose: k6 only warns
  fancyUnknown: { nested: [1, 2] },
  thresholds: {
    'http_req_duration{group:::Checkout}': ['p(95) < 500'],
    'http_req_duration{kind:read}': [{ threshold: 'p(99) <= 900', abortOnFail: true, delayAbortEval: '10s' }],
    http_req_duration: ['p(95)<500', "p(99)<1000"], // perfgate: p(95) history 10 ms ± 1
    'checks': ['rate>=0.4'],
    iteration_duration: ['p(95)<\\
2000'],
  },
};

export default function () {
  http.get('http://127.0.0.1:1/');
}
"""
SWAPS = [
    ("http_req_duration{group:::Checkout}", "p(95) < 500", "p(95) < 250"),
    ("http_req_duration{kind:read}", "p(99) <= 900", "p(99) <= 450"),
    ("http_req_duration", "p(95)<500", "p(95)<250"),
    ("http_req_duration", "p(99)<1000", "p(99)<500"),
    ("iteration_duration", "p(95)<2000", "p(95)<1000"),
    ("checks", "rate>=0.4", "rate>=0.7"),
]


def plan(swaps: list[tuple[str, str, str]], median: float = 10.0) -> HealPlan:
    changes = [make_threshold_change(metric, old, new, median, 1.0) for metric, old, new in swaps]
    return HealPlan(scenario="s", profile="nasty.js", thresholds=changes)


def strip_notes(text: str) -> str:
    return "\n".join(line.split(" // perfgate:")[0] for line in text.split("\n"))


@pytest.fixture
def nasty(tmp_path: Path) -> Path:
    path = tmp_path / "nasty.js"
    path.write_text(NASTY, encoding="utf-8")
    return path


def test_only_the_limits_change_byte_for_byte(nasty: Path) -> None:
    healed = rewrite_loadtest_file(load_loadtest_file(nasty), plan(SWAPS)).text
    expected = strip_notes(NASTY)
    for old, new in [
        ("'p(95) < 500'", "'p(95) < 250'"),
        ("'p(99) <= 900'", "'p(99) <= 450'"),
        ("['p(95)<500', \"p(99)<1000\"]", "['p(95)<250', \"p(99)<500\"]"),
        ("<\\\n2000'", "<\\\n1000'"),
        ("'rate>=0.4'", "'rate>=0.7'"),
    ]:
        assert old in expected
        expected = expected.replace(old, new)
    assert strip_notes(healed) == expected
    assert "2000'], // perfgate:" not in healed and "1000'], // perfgate: p(95) history 10 ms" in healed


def test_comments_are_replaced_never_stacked(nasty: Path) -> None:
    text = NASTY
    back = [(metric, new, old) for metric, old, new in SWAPS]
    for median, swaps in ((10.0, SWAPS), (20.0, back), (30.0, SWAPS)):
        nasty.write_text(text, encoding="utf-8")
        text = rewrite_loadtest_file(load_loadtest_file(nasty), plan(swaps, median)).text
        assert all(line.count("// perfgate:") <= 1 for line in text.splitlines())
    assert "history 30 ms" in text and "history 10 ms" not in text


def test_line_continuation_heal_passes_k6_inspect(nasty: Path) -> None:
    healed = rewrite_loadtest_file(load_loadtest_file(nasty), plan(SWAPS)).text
    check_healed_script(find_k6(), nasty, healed, plan(SWAPS).thresholds)  # raises if k6 disagrees
    assert nasty.read_text(encoding="utf-8") == NASTY
    assert sorted(p.name for p in nasty.parent.iterdir()) == ["nasty.js"], "the check file is removed"


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda t: t.replace("'p(95) < 250'],", "'p(95) < 250' // perfgate: x'],"), "fails `k6 inspect`"),
        (lambda t: t.replace("vus: 2,", "vus: 3,"), "beyond the planned limits (vus)"),
        (lambda t: t.replace("'p(95) < 250'", "'p(95) < 240'"), "beyond the planned limits (thresholds)"),
    ],
)
def test_a_rewrite_k6_rejects_or_that_moves_more_is_refused(nasty: Path, mangle, words: str) -> None:  # type: ignore[no-untyped-def]
    healed = mangle(rewrite_loadtest_file(load_loadtest_file(nasty), plan(SWAPS)).text)
    with pytest.raises(InputDataError) as error:
        check_healed_script(find_k6(), nasty, healed, plan(SWAPS).thresholds)
    assert words in str(error.value) and "nasty.js" in str(error.value)
    assert error.value.exit_code == 3
    assert nasty.read_text(encoding="utf-8") == NASTY
    assert sorted(p.name for p in nasty.parent.iterdir()) == ["nasty.js"]


def test_json_profile_changes_only_the_digits(tmp_path: Path) -> None:
    """A profile written from `k6 inspect` output spells `<` as `\\u003c`: it stays so."""
    profile = tmp_path / "inspected.json"
    text = (
        '{\n  "vus": 2,\n  "thresholds": {"http_req_duration": ["p(95)\\u003c500", "p(99)\\u003c1000"]}\n}\n'
    )
    profile.write_text(text, encoding="utf-8")
    swaps = [
        ("http_req_duration", "p(95)<500", "p(95)<250"),
        ("http_req_duration", "p(99)<1000", "p(99)<500"),
    ]
    healed = rewrite_loadtest_file(load_loadtest_file(profile), plan(swaps)).text
    assert healed == text.replace("c500", "c250").replace("c1000", "c500")


def numbers_as_n(text: str) -> str:
    return re.sub(r"\d+(?:\.\d+)?", "N", text)


@settings(max_examples=25, deadline=None)
@given(
    rounds=st.lists(
        st.lists(st.integers(1, 99999), min_size=len(SWAPS), max_size=len(SWAPS)), min_size=1, max_size=3
    )
)
def test_property_heals_change_only_limits_and_never_stack_comments(rounds: list[list[int]]) -> None:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "nasty.js"
        text, current = NASTY, [old for _, old, _ in SWAPS]
        for limits in rounds:
            wanted = [
                re.sub(r"[\d.]+$", format_number(limit / 100), old)
                for old, limit in zip(current, limits, strict=True)
            ]
            swaps = [
                (m, old, new)
                for (m, _, _), old, new in zip(SWAPS, current, wanted, strict=True)
                if old != new
            ]
            path.write_text(text, encoding="utf-8")
            text = rewrite_loadtest_file(load_loadtest_file(path), plan(swaps)).text
            current = wanted
            assert all(line.count("// perfgate:") <= 1 for line in text.splitlines())
            assert numbers_as_n(strip_notes(text)) == numbers_as_n(strip_notes(NASTY))
            path.write_text(text, encoding="utf-8")
            found = {expression for _, expression in threshold_expressions(load_loadtest_file(path).options)}
            assert set(current) <= found
