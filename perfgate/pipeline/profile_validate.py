"""`perfgate profile validate DIR --base-url URL`: run the generated script, scaled down to fit the
machine, against a target on 127.0.0.1, and compare the run with the log it came from.

    DIR/profile.json ──▶ scale (the covered hours squeezed into --duration, real time when they fit;
        the peak capped at --max-rate sessions/s)
        ──▶ adapters.k6_runner (PROFILE_FROM_CONFIG=1, SESSION_TAGS=1, NDJSON) into DIR/validate-run/
        ──▶ adapters.k6_requests ──▶ core.profile.compare ──▶ ValidationResult
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from perfgate.adapters.k6_requests import load_k6_requests
from perfgate.adapters.k6_runner import find_k6, run_k6
from perfgate.adapters.profile_files import SCRIPT_JS, load_traffic_profile
from perfgate.adapters.profiles import Profile, compute_fingerprint
from perfgate.core.profile.compare import ReplayedRequest, compare_stats, log_stats, run_stats
from perfgate.core.profile.k6script import build_options, replay_hours
from perfgate.errors import InputDataError, UsageError
from perfgate.models.profile import TrafficProfile, ValidateRequest, ValidationResult

Progress = Callable[[str], None]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_MAX_GRACE_S = 30.0


def _check_target(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK:
        raise UsageError(f"--base-url: validation runs load only against 127.0.0.1, got {url!r}")


def scaled_options(
    profile: TrafficProfile, request: ValidateRequest
) -> tuple[dict[str, object], float, float]:
    """(k6 options, time scale, rate scale) for a bounded run of the profile."""
    covered = sum(profile.arrival.observed_s[hour] for hour in replay_hours(profile))
    time_scale = min(1.0, request.duration_s / max(covered, 1.0))
    peak = max(profile.arrival.peak_per_s, 1e-9)
    rate_scale = min(1.0, request.max_rate_per_s / peak)
    options = build_options(profile, time_scale=time_scale, rate_scale=rate_scale)
    longest = max([p.centroid.get("duration_s", 0.0) for p in profile.personas] + [0.0])
    grace = f"{min(_MAX_GRACE_S, max(5.0, 2 * longest)):g}s"
    for scenario in options["scenarios"].values():
        scenario["gracefulStop"] = grace
    options["thresholds"] = {}
    return options, time_scale, rate_scale


def validate_profile(request: ValidateRequest, say: Progress) -> ValidationResult:
    _check_target(request.base_url)
    profile = load_traffic_profile(request.profile_dir)
    script = request.profile_dir / SCRIPT_JS
    if not script.is_file():
        raise InputDataError(script, "missing: run `perfgate profile` into this directory first")
    options, time_scale, rate_scale = scaled_options(profile, request)
    run_dir = request.profile_dir / "validate-run"
    config = Profile(
        name="validate",
        path=run_dir / "validate.json",
        options=options,
        fingerprint=compute_fingerprint(options, script),
    )
    say(f"running {script} against {request.base_url} for ~{request.duration_s:g} s (rate ×{rate_scale:.3g})")
    run_k6(
        k6=find_k6(request.k6),
        script=script,
        profile=config,
        run_dir=run_dir,
        base_url=request.base_url,
        timeout_s=request.timeout_s + request.duration_s,
        env={"PROFILE_FROM_CONFIG": "1", "SESSION_TAGS": "1"},
        raw_output="ndjson",
    )
    keys = {endpoint.name: endpoint.key for endpoint in profile.endpoints}
    replayed = [
        ReplayedRequest(session, persona, start, keys.get(name, name), status)
        for session, persona, start, name, status in load_k6_requests(run_dir / "raw.ndjson")
    ]
    scheduled = sum(profile.arrival.observed_s[hour] for hour in replay_hours(profile)) * time_scale
    lines = compare_stats(log_stats(profile, rate_scale), run_stats(replayed, scheduled), request.tolerance)
    return ValidationResult(
        run_dir=run_dir,
        time_scale=time_scale,
        rate_scale=rate_scale,
        lines=lines,
        passed=all(line.passed for line in lines),
    )
