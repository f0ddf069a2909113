"""Point timestamps of k6 raw output → seconds since the Unix epoch (float).

k6 writes RFC 3339 with up to nine fraction digits and trailing zeros trimmed
(`2026-11-23T14:29:27.9665Z`), in the k6 process's local zone (`-05:00`), and the CSV
output may use whole Unix seconds or milli/micro/nanoseconds instead.

Parsing is the hot spot of raw ingestion, so the calendar part (`YYYY-MM-DDTHH:MM:SS`)
and the offset are each converted once and cached; the fraction is a plain `float()`.
Precision: a float epoch resolves ~0.25 µs, plenty for run durations.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

_FIRST_YEAR, _LAST_YEAR = 1970, 9000  # k6 runs happen now; outside this no date arithmetic is safe


class TimestampError(ValueError):
    """A timestamp that is neither RFC 3339 nor a Unix number."""


class EpochParser:
    """Callable `bytes → epoch seconds`, caching per calendar second and per offset."""

    def __init__(self) -> None:
        self._seconds: dict[bytes, int] = {}
        self._offsets: dict[bytes, int] = {b"Z": 0, b"z": 0}

    def __call__(self, text: bytes) -> float:
        base = self._seconds.get(text[:19])
        if base is not None and text[-1:] == b"Z" and text[19:20] == b"." and text[20:-1].isdigit():
            return base + float(text[19:-1])  # the common case: UTC with a fraction
        return self._general(text)

    def _general(self, text: bytes) -> float:
        if len(text) < 20 or text[10:11] not in (b"T", b"t", b" "):
            return _unix_number(text)
        base = self._seconds.get(text[:19])
        if base is None:
            base = self._calendar(text[:19])
        tail = text[19:]
        zone_size = 1 if tail[-1:] in (b"Z", b"z") else 6
        zone, frac = tail[-zone_size:], tail[:-zone_size]
        offset = self._offsets.get(zone)
        if offset is None:
            offset = self._offset(zone)
        if not frac:
            return float(base - offset)
        if frac[:1] != b"." or not frac[1:].isdigit():
            raise TimestampError(f"bad fraction in timestamp {_show(text)}")
        return base - offset + float(frac)

    def _calendar(self, head: bytes) -> int:
        try:
            parsed = datetime.strptime(head.decode("ascii"), "%Y-%m-%dT%H:%M:%S")
        except (UnicodeDecodeError, ValueError):
            try:
                parsed = datetime.strptime(head.decode("ascii"), "%Y-%m-%d %H:%M:%S")
            except (UnicodeDecodeError, ValueError) as exc:
                raise TimestampError(f"bad timestamp {_show(head)}") from exc
        if not _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
            raise TimestampError(f"timestamp out of range {_show(head)}")
        seconds = calendar.timegm(parsed.timetuple())
        if len(self._seconds) > 100_000:  # keep memory flat on very long runs
            self._seconds.clear()
        self._seconds[head] = seconds
        return seconds

    def _offset(self, zone: bytes) -> int:
        if len(zone) != 6 or zone[:1] not in (b"+", b"-") or zone[3:4] != b":":
            raise TimestampError(f"bad zone offset {_show(zone)}")
        hours, minutes = zone[1:3], zone[4:6]
        if not (hours.isdigit() and minutes.isdigit()):
            raise TimestampError(f"bad zone offset {_show(zone)}")
        seconds = int(hours) * 3600 + int(minutes) * 60
        value = -seconds if zone[:1] == b"-" else seconds
        self._offsets[zone] = value
        return value


def _unix_number(text: bytes) -> float:
    """Unix time as k6's CSV writes it: s, ms, µs or ns, told apart by magnitude."""
    digits = text.strip()
    if not digits.isdigit():
        raise TimestampError(f"bad timestamp {_show(text)}")
    number = int(digits)
    for scale in (1, 1_000, 1_000_000, 1_000_000_000):
        if number < 100_000_000_000 * scale:  # before the year 5138 in this unit
            return number / scale
    raise TimestampError(f"timestamp out of range {_show(text)}")


def epoch_to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _show(text: bytes) -> str:
    return repr(text[:40].decode("utf-8", "replace"))
