"""Compare a k6 run of the generated script with the log it came from.

Both sides are reduced to the same numbers: session arrival rate (sessions over the window of
session starts, at the replay's rate scale) and request rate (that × requests/session, so the
edges of a short run do not bias it), endpoint mix per template, error rate, requests per session, and think time (mean gap
between request starts within a session). Each line passes within `tolerance` relatively, or
within an absolute floor for shares (2 points) and error rates (1 point).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from perfgate.models.profile import TrafficProfile, ValidationLine

MIX_FLOOR = 0.02
ERROR_FLOOR = 0.01
MIN_SHARE_LISTED = 0.01


@dataclass(frozen=True)
class ReplayedRequest:
    """One request of the k6 run: its session and persona tags, start (s), endpoint key, status."""

    session: str
    persona: str
    start_s: float
    endpoint: str
    status: int


@dataclass(frozen=True)
class TrafficStats:
    session_rate_per_s: float
    request_rate_per_s: float
    mix: dict[str, float]
    error_rate: float
    session_length: float
    think_time_s: float


def log_stats(profile: TrafficProfile, rate_scale: float) -> TrafficStats:
    """The log's numbers at the replay's rate scale (request rate = session rate × requests/session)."""
    session_rate = profile.session_rate_per_s * rate_scale
    total = max(sum(endpoint.requests for endpoint in profile.endpoints), 1)
    return TrafficStats(
        session_rate_per_s=session_rate,
        request_rate_per_s=session_rate * profile.session_length_mean,
        mix={endpoint.key: endpoint.requests / total for endpoint in profile.endpoints},
        error_rate=profile.error_rate,
        session_length=profile.session_length_mean,
        think_time_s=profile.think_time_mean_s,
    )


def run_stats(requests: Iterable[ReplayedRequest], duration_s: float) -> TrafficStats:
    """The run's numbers; `duration_s` is the replay's scheduled length (its stages)."""
    sessions: dict[str, list[float]] = defaultdict(list)
    personas: dict[str, str] = {}
    mix: Counter[str] = Counter()
    errors = 0
    for request in requests:
        sessions[request.session].append(request.start_s)
        personas[request.session] = request.persona
        mix[request.endpoint] += 1
        errors += request.status >= 400 or request.status == 0
    total = sum(mix.values())
    session_rate = _arrival_rate(sessions, personas, duration_s)
    gaps = [
        b - a for times in sessions.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
    ]
    return TrafficStats(
        session_rate_per_s=session_rate,
        request_rate_per_s=session_rate * (total / len(sessions)) if sessions else 0.0,
        mix={key: count / total for key, count in mix.items()} if total else {},
        error_rate=errors / total if total else 0.0,
        session_length=total / len(sessions) if sessions else 0.0,
        think_time_s=sum(gaps) / len(gaps) if gaps else 0.0,
    )


def _arrival_rate(sessions: dict[str, list[float]], personas: dict[str, str], duration_s: float) -> float:
    """Sessions/s of the run over its scheduled replay time. k6 starts floor(rate × D) + 1
    iterations per arrival-rate scenario, i.e. half an iteration too many on average: taken off."""
    scenarios = len(set(personas.values()))
    return max(len(sessions) - scenarios / 2, 0.0) / duration_s if duration_s > 0 else 0.0


def _line(metric: str, log: float, run: float, tolerance: float, floor: float = 0.0) -> ValidationLine:
    difference = run / log - 1.0 if log else (0.0 if run == 0 else float("1e9"))
    passed = abs(difference) <= tolerance or abs(run - log) <= floor
    return ValidationLine(
        metric=metric,
        log_value=log,
        run_value=run,
        difference=min(difference, 1e9),
        allowed=tolerance,
        absolute_floor=floor,
        passed=passed,
    )


def compare_stats(log: TrafficStats, run: TrafficStats, tolerance: float = 0.15) -> list[ValidationLine]:
    lines = [
        _line("session arrival rate (sessions/s)", log.session_rate_per_s, run.session_rate_per_s, tolerance),
        _line("request rate (requests/s)", log.request_rate_per_s, run.request_rate_per_s, tolerance),
        _line("error rate", log.error_rate, run.error_rate, tolerance, ERROR_FLOOR),
        _line("session length (requests/session)", log.session_length, run.session_length, tolerance),
        _line("think time (mean s between requests)", log.think_time_s, run.think_time_s, tolerance),
    ]
    listed = [
        key for key, share in sorted(log.mix.items(), key=lambda item: -item[1]) if share >= MIN_SHARE_LISTED
    ]
    for key in listed:
        lines.append(_line(f"mix {key}", log.mix[key], run.mix.get(key, 0.0), tolerance, MIX_FLOOR))
    rest_log = sum(share for key, share in log.mix.items() if key not in listed)
    rest_run = sum(share for key, share in run.mix.items() if key not in listed)
    if rest_log or rest_run:
        lines.append(_line("mix (other templates)", rest_log, rest_run, tolerance, MIX_FLOOR))
    return lines
