"""Streaming sessionizer: log entries in time order (roughly) → closed sessions.

A session is one client's run of requests with no pause longer than `gap_s`. The key is the
log's session id when it has one, else the client address plus the user agent. Logs are only
roughly ordered (Apache writes a line when the response ends, stamped with the request's start), so a
session closes when the newest time seen is `gap_s + slack_s` past its last request, and its
requests are sorted then. Memory holds only open sessions, and at most `max_events` requests of
each (counts stay exact beyond that).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from perfgate.core.profile.templates import endpoint_key

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SWEEP_EVERY = 2000
_EXAMPLES = 8


@dataclass
class Vocabulary:
    """Endpoint key ↔ small int id, with request counts and a few example paths per endpoint."""

    ids: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    examples: list[dict[str, int]] = field(default_factory=list)
    static: list[bool] = field(default_factory=list)
    _cache: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, method: str, path: str) -> int:
        cached = self._cache.get((method, path))
        if cached is None:
            key = endpoint_key(method, path)
            cached = self.ids.get(key)
            if cached is None:
                cached = self.ids[key] = len(self.keys)
                self.keys.append(key)
                self.counts.append(0)
                self.examples.append({})
                self.static.append(key.startswith("static:"))
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[(method, path)] = cached
        self.counts[cached] += 1
        seen = self.examples[cached]
        if path in seen or len(seen) < _EXAMPLES:
            seen[path] = seen.get(path, 0) + 1
        return cached


@dataclass(frozen=True)
class Session:
    """One closed session; `endpoints` and `gaps_s` cover its first `max_events` requests.

    `key` is the log's session id, else `s<n>` in closing order; `client` is the address, plus the
    quoted user agent when that was part of the session key."""

    key: str
    client: str
    agent: str
    start: float
    end: float
    requests: int
    errors: int
    writes: int
    statics: int
    robots: bool
    response_ms_sum: float
    response_ms_count: int
    endpoints: tuple[int, ...]
    gaps_s: tuple[float, ...]


@dataclass
class _Open:
    client: str
    agent: str
    start: float
    last: float
    events: list[tuple[float, int]] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    writes: int = 0
    statics: int = 0
    robots: bool = False
    rt_sum: float = 0.0
    rt_count: int = 0
    explicit: bool = False


class Sessionizer:
    def __init__(self, gap_s: float = 1800.0, *, slack_s: float = 60.0, max_events: int = 500) -> None:
        self.gap_s = gap_s
        self.slack_s = slack_s
        self.max_events = max_events
        self.vocabulary = Vocabulary()
        self.newest = float("-inf")
        self._open: dict[str, _Open] = {}
        self._seq = 0
        self._since_sweep = 0

    def add(
        self,
        ts: float,
        client: str,
        agent: str,
        method: str,
        path: str,
        status: int,
        response_ms: float | None = None,
        session: str | None = None,
    ) -> list[Session]:
        """Feed one request; returns the sessions this closed (possibly none)."""
        key = session if session is not None else f"{client}\t{agent}"
        closed: list[Session] = []
        current = self._open.get(key)
        if current is not None and session is None and abs(ts - current.last) > self.gap_s:
            closed.append(self._close(key, self._open.pop(key)))
            current = None
        if current is None:
            current = self._open[key] = _Open(client, agent, ts, ts, explicit=session is not None)
        endpoint = self.vocabulary.add(method, path)
        current.requests += 1
        current.errors += status >= 400
        current.writes += method in WRITE_METHODS
        current.statics += self.vocabulary.static[endpoint]
        current.robots = current.robots or path.startswith("/robots.txt")
        current.start, current.last = min(current.start, ts), max(current.last, ts)
        if response_ms is not None:
            current.rt_sum += response_ms
            current.rt_count += 1
        if len(current.events) < self.max_events:
            current.events.append((ts, endpoint))
        self.newest = max(self.newest, ts)
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY:
            closed += self.sweep()
        return closed

    def sweep(self) -> list[Session]:
        """Close every session idle for longer than the gap (plus slack) before the newest time."""
        self._since_sweep = 0
        horizon = self.newest - self.gap_s - self.slack_s
        stale = [key for key, state in self._open.items() if state.last < horizon]
        return [self._close(key, self._open.pop(key)) for key in stale]

    def flush(self) -> list[Session]:
        """Close everything still open (end of input), oldest first."""
        keys = sorted(self._open, key=lambda key: self._open[key].start)
        return [self._close(key, self._open.pop(key)) for key in keys]

    def _close(self, key: str, state: _Open) -> Session:
        self._seq += 1
        label = state.client if state.explicit else f'{state.client} "{state.agent}"'
        events = sorted(state.events)
        times = [ts for ts, _ in events]
        return Session(
            key=key if state.explicit else f"s{self._seq}",
            client=label,
            agent=state.agent,
            start=state.start,
            end=state.last,
            requests=state.requests,
            errors=state.errors,
            writes=state.writes,
            statics=state.statics,
            robots=state.robots,
            response_ms_sum=state.rt_sum,
            response_ms_count=state.rt_count,
            endpoints=tuple(endpoint for _, endpoint in events),
            gaps_s=tuple(later - earlier for earlier, later in itertools.pairwise(times)),
        )
