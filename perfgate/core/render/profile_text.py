"""Plain-text summaries of a traffic profile and of a validation (built as strings; printed by the CLI)."""

from __future__ import annotations

from perfgate.models.profile import TrafficProfile, ValidationResult


def render_profile_text(profile: TrafficProfile) -> str:
    lines = []
    for report in profile.files:
        bad = (
            f", {report.malformed} malformed (first at lines {report.first_malformed_lines})"
            if report.malformed
            else ""
        )
        lines.append(f"{report.path}: {report.format}, {report.parsed} of {report.lines} lines read{bad}")
    clustering = profile.clustering
    lines += [
        f"{profile.requests} requests in {profile.sessions} sessions (gap {profile.session_gap_s:g} s); "
        f"bots: {profile.filtered.bot_sessions} sessions ({profile.filtered.bot_share * 100:.1f} %)",
        f"clustering: {clustering.method}, k={clustering.k} ({clustering.chosen_by}); "
        + ", ".join(f"{key}={value:.3g}" for key, value in clustering.scores.items()),
        f"arrival: peak {profile.arrival.peak_per_s * 60:.3g} sessions/min, "
        f"average {profile.arrival.average_per_s * 60:.3g} sessions/min",
        "",
        f"{'persona':<24} {'share':>7} {'sessions':>9} {'req/session':>12} {'think s':>8}  top endpoint",
    ]
    for persona in [*profile.personas, *([profile.bot] if profile.bot else [])]:
        top = max(persona.endpoint_mix.items(), key=lambda item: item[1], default=("-", 0.0))
        lines.append(
            f"{persona.name:<24} {persona.share * 100:6.1f}% {persona.sessions:>9} "
            f"{persona.requests_per_session:>12.1f} {persona.think_time.mean:>8.1f}  {top[0]} ({top[1] * 100:.0f} %)"
        )
    return "\n".join(lines) + "\n"


def render_validation_text(result: ValidationResult) -> str:
    lines = [
        f"run: {result.run_dir} (time ×{result.time_scale:.3g}, rate ×{result.rate_scale:.3g})",
        f"{'metric':<44} {'log':>10} {'run':>10} {'diff':>8} {'allowed':>8}  result",
    ]
    for line in result.lines:
        lines.append(
            f"{line.metric:<44} {line.log_value:>10.4g} {line.run_value:>10.4g} {line.difference:>8.3g} "
            f"{line.allowed:>8.3g}  {'pass' if line.passed else 'FAIL'}"
        )
    lines.append(f"validation: {'pass' if result.passed else 'FAIL'}")
    return "\n".join(lines) + "\n"
