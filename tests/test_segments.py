"""Execution segments: the split perfgate computes for `run --segments`, and the checks before a merge."""

from __future__ import annotations

from fractions import Fraction

import pytest

from perfgate.core.segments import coverage, overlap, parse_segment, split


@pytest.mark.parametrize(
    ("count", "index", "segment", "sequence"),
    [
        (1, 0, "0:1", "0,1"),
        (2, 0, "0:1/2", "0,1/2,1"),
        (2, 1, "1/2:1", "0,1/2,1"),
        (3, 1, "1/3:2/3", "0,1/3,2/3,1"),
        (4, 2, "1/2:3/4", "0,1/4,1/2,3/4,1"),
    ],
)
def test_split(count: int, index: int, segment: str, sequence: str) -> None:
    assert split(count, index) == (segment, sequence)


@pytest.mark.parametrize(("count", "index"), [(0, 0), (2, 2), (2, -1), (65, 0)])
def test_split_refuses_impossible_parts(count: int, index: int) -> None:
    with pytest.raises(ValueError):
        split(count, index)


def test_every_split_tiles_the_test_exactly() -> None:
    for count in range(1, 9):
        segments = [parse_segment(split(count, index)[0]) for index in range(count)]
        assert overlap(segments) is None and coverage(segments) == 1


@pytest.mark.parametrize(
    ("texts", "clash"),
    [
        (["0:1/2", "1/2:1"], None),
        (["0:1/2", "0:1/3"], ("0:1/3", "0:1/2")),
        (["2/3:1", "1/3:2/3", "1/2:1"], ("1/3:2/3", "1/2:1")),
        (["1/3", "1/3:1"], None),
    ],
)
def test_overlap(texts: list[str], clash: tuple[str, str] | None) -> None:
    found = overlap([parse_segment(text) for text in texts])
    assert (None if found is None else (str(found[0]), str(found[1]))) == clash


def test_coverage_of_missing_parts() -> None:
    assert coverage([parse_segment("0:1/3"), parse_segment("2/3:1")]) == Fraction(2, 3)


@pytest.mark.parametrize("text", ["", "a:b", "1/2:1/3", "0:2", "1/0:1", "-1/2:1/2"])
def test_parse_segment_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_segment(text)
