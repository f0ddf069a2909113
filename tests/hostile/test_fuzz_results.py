"""Fuzzing every k6 result format: mutated real samples never crash perfgate.

Real k6 files (tests/fixtures/k6, copies of /work/shared/k6-facts/samples) are mutated by
hypothesis: JSON values swapped for hostile ones (negative counts, huge and tiny numbers,
lone surrogates, newlines and `::` in names, deep nesting, wrong types), lines and cells of
NDJSON and CSV replaced, bytes flipped and files cut short. Each mutant goes through
`perfgate analyze --record`; the exit code must be 0, 1 or 3 and stderr must hold no
traceback. In CI the examples are derandomized (tests/conftest.py), so the run is repeatable.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hostile_world import CSV, EXPORT, HANDLE, MACHINE, NDJSON, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HOSTILE_VALUES: list[Any] = [
    -1,
    0,
    -1e308,
    1e308,
    5e-324,
    2**63,
    "",
    "x",
    "\ud800",
    "a\nb::warning::c",
    "2026-11-22T11:16:54.9x65Z",
    "2026-11-22T11:16:54.Z",
    "0000-01-01T00:00:00Z",
    "p(95)<",
    None,
    True,
    [],
    {},
    {"count": -1, "rate": -1},
    {"avg": 1e308, "max": 1e308},
]
HOSTILE_TOKENS = ["1e999", "NaN", "-Infinity", "[" * 3000, "{" * 2000, '"\\udfff"', "-0", "1" * 400]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def mutate_tree(draw: st.DrawFn, node: Any, depth: int = 0) -> Any:
    """Replace one value somewhere under `node` (or a key, or add one) with a hostile one."""
    if isinstance(node, dict) and node and depth < 6 and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        return {**node, key: mutate_tree(draw, node[key], depth + 1)}
    if isinstance(node, list) and node and depth < 6 and draw(st.booleans()):
        index = draw(st.integers(0, len(node) - 1))
        return [*node[:index], mutate_tree(draw, node[index], depth + 1), *node[index + 1 :]]
    if isinstance(node, dict) and draw(st.booleans()):
        name = draw(st.sampled_from(["\udfff", "vus_max", "iterations", "x{a:\ud800}", "a\n::b", "{"]))
        return {**node, name: draw(st.sampled_from(HOSTILE_VALUES))}
    return draw(st.sampled_from(HOSTILE_VALUES))


def splice(draw: st.DrawFn, text: str) -> str:
    """A hostile token put somewhere, or the text cut short, or bytes flipped."""
    how = draw(st.sampled_from(["token", "cut", "flip"]))
    at = draw(st.integers(0, len(text)))
    if how == "token":
        return text[:at] + draw(st.sampled_from(HOSTILE_TOKENS)) + text[at:]
    if how == "cut":
        return text[:at]
    return text[:at] + chr(draw(st.integers(0, 0x2FF))) + text[at + 1 :]


def check(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / name
        result.write_bytes(text.encode("utf-8", "surrogatepass"))
        code, stderr = run_cli(["analyze", str(result), "--baselines", f"{tmp}/b", "--record"])
    assert "Traceback" not in stderr, stderr[-3000:]
    assert code in (0, 1, 3), stderr[-3000:]


@st.composite
def documents(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from([EXPORT, HANDLE, MACHINE]))
    mutant = base
    for _ in range(draw(st.integers(1, 4))):
        mutant = mutate_tree(draw, mutant)
    text = json.dumps(mutant, ensure_ascii=draw(st.booleans()))
    return splice(draw, text) if draw(st.booleans()) else text


@st.composite
def raw_lines(draw: st.DrawFn, source: str, is_json: bool) -> str:
    lines = source.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(1, len(lines) - 1))
        if is_json and lines[index].startswith("{") and lines[index].endswith("}") and draw(st.booleans()):
            try:
                parsed = json.loads(lines[index])
            except (ValueError, RecursionError):  # a line an earlier draw already broke
                parsed = {}
            line = json.dumps(mutate_tree(draw, parsed), ensure_ascii=draw(st.booleans()))
        elif not is_json and draw(st.booleans()):
            cells = lines[index].split(",")
            cell = draw(st.integers(0, len(cells) - 1))
            cells[cell] = draw(st.sampled_from([*HOSTILE_TOKENS, "-1", "", "\ud800", "9" * 30, "1.5.5"]))
            line = ",".join(cells)
        else:
            line = splice(draw, lines[index])
        lines[index] = line
    return "\n".join(lines) + "\n"


@FUZZ
@given(documents())
def test_fuzzed_summaries_never_crash(text: str) -> None:
    check("result.json", text)


@FUZZ
@given(raw_lines(NDJSON, is_json=True))
def test_fuzzed_ndjson_never_crashes(text: str) -> None:
    check("result.ndjson", text)


@FUZZ
@given(raw_lines(CSV, is_json=False))
def test_fuzzed_csv_never_crashes(text: str) -> None:
    check("result.csv", text)
