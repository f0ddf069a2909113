"""Sessions with labels → personas: share, endpoint mix, Markov chains of endpoint transitions
(first order, and second order keyed `previous >> current`, so `search, search → view` survives),
fitted think-time and session-length distributions, and a name read off the centroid.

`PersonaBuilder.add` takes one session at a time, so assignments can stream from disk; samples
for the fits are reservoirs of bounded size (seeded).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from perfgate.core.profile.features import FEATURES, session_features
from perfgate.core.profile.fitting import fit_lognormal, is_quantised
from perfgate.core.profile.sessions import Session
from perfgate.models.profile import Persona

T = TypeVar("T")
END = "$end"
START = "^"  # the state before a session's first request
PAIR = " >> "  # key of a second-order state: "previous >> current" ("^ >> first" at the start)
_RESERVOIR = 20_000


@dataclass
class Reservoir(Generic[T]):
    """A uniform sample of at most `size` of the values added (Algorithm R, seeded)."""

    rng: random.Random
    size: int = _RESERVOIR
    values: list[T] = field(default_factory=list)
    seen: int = 0

    def add(self, value: T) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
        else:
            slot = self.rng.randrange(self.seen)
            if slot < self.size:
                self.values[slot] = value


@dataclass
class _Tally:
    rng: random.Random
    sessions: int = 0
    requests: int = 0
    endpoints: Counter[str] = field(default_factory=Counter)
    entry: Counter[str] = field(default_factory=Counter)
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    feature_sums: list[float] = field(default_factory=lambda: [0.0] * len(FEATURES))
    arrivals: list[int] = field(default_factory=lambda: [0] * 24)
    think: Reservoir[float] = field(init=False)
    length: Reservoir[float] = field(init=False)

    def __post_init__(self) -> None:
        self.think, self.length = Reservoir(self.rng), Reservoir(self.rng)


class PersonaBuilder:
    """Accumulates sessions per label; `keys[id]` maps endpoint ids to their final keys."""

    def __init__(self, keys: Sequence[str], seed: int = 0) -> None:
        self.keys = list(keys)
        self.seed = seed
        self.tallies: dict[str, _Tally] = {}

    def add(self, session: Session, label: str) -> None:
        tally = self.tallies.get(label)
        if tally is None:
            tally = self.tallies[label] = _Tally(random.Random(f"{self.seed}:{label}"))
        path = [self.keys[endpoint] for endpoint in session.endpoints]
        tally.sessions += 1
        tally.requests += session.requests
        tally.endpoints.update(path)
        if path:
            tally.entry[path[0]] += 1
            tally.transitions.update(zip(path, [*path[1:], END], strict=True))
            marked = [START, *path]
            ahead = [*marked[2:], END]
            tally.pairs.update(
                (f"{a}{PAIR}{b}", c) for a, b, c in zip(marked, marked[1:], ahead, strict=False)
            )
        for gap in session.gaps_s:
            tally.think.add(gap)
        tally.length.add(float(session.requests))
        tally.arrivals[int(session.start // 3600) % 24] += 1
        for index, value in enumerate(session_features(session)):
            tally.feature_sums[index] += value

    def build(self, label: str, total_sessions: int, name: str, covered_s: Sequence[float]) -> Persona:
        tally = self.tallies[label]
        visits = sum(tally.endpoints.values())
        outgoing = _rows(tally.transitions)
        return Persona(
            name=name,
            share=tally.sessions / max(total_sessions, 1),
            sessions=tally.sessions,
            requests_per_session=tally.requests / tally.sessions,
            endpoint_mix={key: count / visits for key, count in sorted(tally.endpoints.items())},
            entry=_normalise(tally.entry),
            transitions={here: _normalise(counts) for here, counts in sorted(outgoing.items())},
            transitions_2={pair: _normalise(counts) for pair, counts in sorted(_rows(tally.pairs).items())},
            think_time=fit_lognormal(tally.think.values, quantised_to_s=is_quantised(tally.think.values)),
            session_length=fit_lognormal(tally.length.values),
            centroid={
                name: total / tally.sessions for name, total in zip(FEATURES, tally.feature_sums, strict=True)
            },
            arrival_per_hour=[
                count / covered if covered >= 1.0 else 0.0
                for count, covered in zip(tally.arrivals, covered_s, strict=True)
            ],
        )


def _rows(counts: Counter[tuple[str, str]]) -> dict[str, Counter[str]]:
    rows: dict[str, Counter[str]] = {}
    for (here, there), count in counts.items():
        rows.setdefault(here, Counter())[there] += count
    return rows


def _normalise(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {key: count / total for key, count in sorted(counts.items())}


def describe_centroid(centroid: dict[str, float]) -> tuple[str, str]:
    """A deterministic name and one-line description from a persona's mean features."""
    requests = centroid["requests"]
    size = "light-" if requests < 2.5 else "heavy-" if requests >= 20 else ""
    if centroid["error_rate"] >= 0.3:
        role = "error-prone"
    elif centroid["write_ratio"] >= 0.5:
        role, size = "writer", "heavy-" if size != "light-" else ""
    elif centroid["write_ratio"] >= 0.15:
        role = "editor"
    elif centroid["static_ratio"] >= 0.4:
        role = "page-viewer"
    elif requests >= 3 and centroid["think_mean_s"] < 2.0:
        role = "api-client"
    elif requests < 1.5:
        role, size = "one-hit", ""
    else:
        role = "reader"
    description = (
        f"{requests:.1f} requests/session, {centroid['write_ratio'] * 100:.0f} % writes, "
        f"{centroid['static_ratio'] * 100:.0f} % static assets, mean think {centroid['think_mean_s']:.1f} s, "
        f"{centroid['error_rate'] * 100:.0f} % errors"
    )
    return f"{size}{role}", description


def unique_names(names: Sequence[str]) -> list[str]:
    """Suffix repeats in order: reader, reader-2, ..."""
    seen: Counter[str] = Counter()
    result = []
    for name in names:
        seen[name] += 1
        result.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return result
