"""The k6 side of a traffic profile: scenarios (one `ramping-arrival-rate` per persona following
the arrival curve), the k6 script that walks each persona's Markov chain, and profile.yaml options.

Replay: one stage per observed hour of day, an hour long (real time) or squeezed by a time scale,
target = the persona's sessions/s in that hour × `rate_scale`. k6 stage targets are integers, so the time
unit is the shortest of 1s/1m/1h that gives the peak at least 100 iterations per unit.
"""

from __future__ import annotations

import json
import math
from typing import Any

from perfgate.core.profile.k6_template import SCRIPT
from perfgate.models.profile import Persona, TrafficProfile

_UNITS = (("1s", 1.0), ("1m", 60.0), ("1h", 3600.0))
_DEFAULT_P95_MS = 2000
MAX_VUS = 2000


def replay_hours(profile: TrafficProfile) -> list[int]:
    """Observed hours of day, in log order (starting at the hour the log starts)."""
    first = int(profile.arrival.start // 3600) % 24
    order = [(first + offset) % 24 for offset in range(24)]
    return [hour for hour in order if profile.arrival.per_hour[hour] is not None]


def time_unit(peak_per_s: float) -> tuple[str, float]:
    for unit, seconds in _UNITS:
        if peak_per_s * seconds >= 100:
            return unit, seconds
    return _UNITS[-1]


def scenario_for(
    persona: Persona, hours: list[int], stage_s: list[float], rate_scale: float
) -> dict[str, Any]:
    rates = [persona.arrival_per_hour[hour] * rate_scale for hour in hours]
    peak = max(rates, default=0.0)
    unit, per_unit = time_unit(peak)
    session_s = persona.centroid.get("duration_s", 0.0)
    vus = min(math.ceil(peak * (session_s + 1.0) * 1.5) + 2, MAX_VUS)
    return {
        "executor": "ramping-arrival-rate",
        "exec": function_name(persona),
        "startRate": round(rates[0] * per_unit) if rates else 0,
        "timeUnit": unit,
        "preAllocatedVUs": vus,
        "maxVUs": min(vus * 4, MAX_VUS),
        "stages": [
            {"duration": f"{seconds:.0f}s", "target": round(rate * per_unit)}
            for rate, seconds in zip(rates, stage_s, strict=True)
        ],
        "gracefulStop": "30s",
        "tags": {"persona": persona.name},
    }


def function_name(persona: Persona) -> str:
    return "persona_" + "".join(ch if ch.isalnum() else "_" for ch in persona.name)


def _replayed(profile: TrafficProfile) -> list[Persona]:
    return [*profile.personas, *([profile.bot] if profile.bot is not None else [])]


def build_scenarios(
    profile: TrafficProfile, *, time_scale: float | None = None, rate_scale: float = 1.0
) -> dict[str, Any]:
    """One scenario per persona. Stages last an hour each (`time_scale` None), or, with a
    `time_scale`, the seconds of that hour the log covers × `time_scale` (at least 1 s)."""
    hours = replay_hours(profile)
    if time_scale is None:
        stage_s = [3600.0] * len(hours)
    else:
        stage_s = [max(profile.arrival.observed_s[hour] * time_scale, 1.0) for hour in hours]
    return {persona.name: scenario_for(persona, hours, stage_s, rate_scale) for persona in _replayed(profile)}


def build_options(
    profile: TrafficProfile, *, time_scale: float | None = None, rate_scale: float = 1.0
) -> dict[str, Any]:
    """k6 options for perfgate's profile mechanism (profile.yaml / --config)."""
    thresholds: dict[str, list[str]] = {
        f"http_req_duration{{name:{endpoint.name}}}": [f"p(95)<{_DEFAULT_P95_MS}"]
        for endpoint in profile.endpoints
        if not endpoint.static
    }
    thresholds["http_req_failed"] = [f"rate<{min(0.99, round(profile.error_rate * 1.5 + 0.02, 3))}"]
    return {
        "scenarios": build_scenarios(profile, time_scale=time_scale, rate_scale=rate_scale),
        "thresholds": thresholds,
        "summaryTrendStats": ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"],
        "tags": {"profile": "traffic"},
    }


def _script_data(profile: TrafficProfile) -> dict[str, Any]:
    personas = {
        function_name(persona): {
            "name": persona.name,
            "entry": persona.entry,
            "transitions": persona.transitions,
            "transitions_2": persona.transitions_2,
            "think": persona.think_time.model_dump(),
            "length": persona.session_length.model_dump(),
        }
        for persona in _replayed(profile)
    }
    endpoints = {
        endpoint.key: {
            "method": endpoint.method,
            "template": endpoint.template,
            "name": endpoint.name,
            "examples": endpoint.examples,
        }
        for endpoint in profile.endpoints
    }
    return {"personas": personas, "endpoints": endpoints}


def render_script(profile: TrafficProfile) -> str:
    """loadtest.js: the profile's data, its 1× scenarios and the journey walker."""
    template = SCRIPT
    data = json.dumps(_script_data(profile), indent=1, sort_keys=True)
    scenarios = json.dumps(build_scenarios(profile), indent=1, sort_keys=True)
    exports = "\n".join(
        f"export function {function_name(persona)}() {{ journey(PROFILE.personas.{function_name(persona)}); }}"
        for persona in _replayed(profile)
    )
    return (
        template.replace("/*PROFILE*/", data)
        .replace("/*SCENARIOS*/", scenarios)
        .replace("/*EXPORTS*/", exports)
    )
