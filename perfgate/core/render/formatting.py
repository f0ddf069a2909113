"""Number formatting shared by the renderers. Percent only appears in rendered text."""

from __future__ import annotations

from perfgate.models import Finding

VERDICT_HEADLINE = {
    "pass": "PASS",
    "improvement": "IMPROVEMENT",
    "noise": "NOISE",
    "warn": "WARN",
    "regression": "REGRESSION",
    "no_baseline": "NO BASELINE",
}

VERDICT_ICON = {
    "pass": "✅",
    "improvement": "🚀",
    "noise": "〰️",
    "warn": "⚠️",
    "regression": "❌",
    "no_baseline": "🆕",
}


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def fmt_ratio(value: float | None) -> str:
    """A 0-1 fraction as a percentage."""
    if value is None:
        return "–"
    return f"{value * 100:.2f} %"


def fmt_rps(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}/s"


def fmt_int(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def fmt_value(value: float | None, unit: str) -> str:
    if unit == "ms":
        return fmt_ms(value)
    if unit == "ratio":
        return fmt_ratio(value)
    if unit == "per_s":
        return fmt_rps(value)
    return "–" if value is None else f"{value:g}"


def fmt_change(finding: Finding) -> str:
    if finding.unit == "ratio" and finding.change_abs is not None:
        return f"{finding.change_abs * 100:+.2f} pts"
    if finding.change_ratio is None:
        return "–"
    return f"{(finding.change_ratio - 1) * 100:+.1f} %"


def metric_label(finding: Finding) -> str:
    where = finding.endpoint or finding.metric
    return f"{where} {finding.stat}"
