"""k6 execution segments: split one test into N equal parts, and check parts before merging them.

k6 runs part I of N with `--execution-segment "I/N:(I+1)/N"` and the same
`--execution-segment-sequence "0,1/N,...,1"` on every runner (k6-facts §8: the work of
arrival-rate scenarios is split exactly, VUs are split, `setup()` runs in every part).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

MAX_SEGMENTS = 64


@dataclass(frozen=True)
class Segment:
    start: Fraction
    end: Fraction

    def __str__(self) -> str:
        return f"{_text(self.start)}:{_text(self.end)}"


def _text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def split(count: int, index: int) -> tuple[str, str]:
    """(`--execution-segment`, `--execution-segment-sequence`) of part `index` (0-based) of `count`."""
    if not 1 <= count <= MAX_SEGMENTS:
        raise ValueError(f"segments must be 1..{MAX_SEGMENTS}, got {count}")
    if not 0 <= index < count:
        raise ValueError(f"segment must be 0..{count - 1} for {count} segments, got {index}")
    bounds = [Fraction(i, count) for i in range(count + 1)]
    return str(Segment(bounds[index], bounds[index + 1])), ",".join(_text(b) for b in bounds)


def parse_segment(text: str) -> Segment:
    """`1/3:2/3` (k6's syntax; a bare `1/3` means `0:1/3`) → `Segment`."""
    start_text, sep, end_text = text.strip().partition(":")
    try:
        start = Fraction(start_text) if sep else Fraction(0)
        end = Fraction(end_text if sep else start_text)
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"not an execution segment: {text!r}") from exc
    if not 0 <= start < end <= 1:
        raise ValueError(f"not an execution segment within 0..1: {text!r}")
    return Segment(start, end)


def overlap(segments: Sequence[Segment]) -> tuple[Segment, Segment] | None:
    """The first two segments that share part of the test, or None."""
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            return before, after
    return None


def coverage(segments: Sequence[Segment]) -> Fraction:
    """The share of the whole test the (non-overlapping) segments cover."""
    return sum((s.end - s.start for s in segments), Fraction(0))
