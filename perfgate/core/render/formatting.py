"""Numbers, labels and grouping shared by every renderer. Percent only appears in rendered text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.models import VERDICT_SEVERITY, Finding, MetricKey, VerdictKind

VERDICT_HEADLINE: dict[VerdictKind, str] = {
    "pass": "PASS",
    "improvement": "IMPROVEMENT",
    "noise": "NOISE",
    "warn": "WARN",
    "regression": "REGRESSION",
    "no_baseline": "NO BASELINE",
    "broken": "BROKEN RUN",
}

VERDICT_ICON: dict[str, str] = {
    "pass": "✅",
    "improvement": "🚀",
    "noise": "〰️",
    "warn": "⚠️",
    "regression": "❌",
    "no_baseline": "🆕",
    "broken": "🛑",
}

RUN_LEVEL = "whole run"
_FRIENDLY = {
    "http_req_duration": "latency",
    "http_req_failed": "error rate",
    "http_reqs": "throughput",
    "checks": "checks",
    "dropped_iterations": "dropped iterations",
}
# C0/C1 controls, line/paragraph separators and bidi overrides: never let them reach a terminal,
# a Markdown line or an XML document as they are.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """Free text made safe for one line: tabs and newlines become spaces, other controls U+FFFD."""
    flat = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _UNSAFE.sub("\ufffd", flat)


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
    raw = f"{(finding.change_ratio - 1) * 100:+.1f} %"
    own, expected = finding.own_change_ratio, finding.expected_level_ratio
    if own is not None and abs(own - finding.change_ratio) >= 0.02:
        return f"{raw} (own {(own - 1) * 100:+.1f} %)"
    if expected is not None and abs(expected - finding.change_ratio) >= 0.02:
        return f"{raw} (runner-expected {(expected - 1) * 100:+.1f} %)"
    return raw


def fmt_arrow(finding: Finding) -> str:
    """`baseline → observed`, or only the observed value when there is no baseline."""
    observed = fmt_value(finding.observed, finding.unit)
    if finding.baseline is None:
        return f"– → {observed}"
    return f"{fmt_value(finding.baseline, finding.unit)} → {observed}"


def metric_label(finding: Finding) -> str:
    """The metric with its endpoint: `search p(95)` (free text: escape it for the output)."""
    where = finding.endpoint or finding.metric
    return f"{where} {finding.stat}"


def short_metric(finding: Finding) -> str:
    """The metric within its endpoint group: `latency p(95)`, `error rate`, `throughput`."""
    try:
        key = MetricKey.parse(finding.metric)
    except ValueError:
        return f"{finding.metric} {finding.stat}"
    name = _FRIENDLY.get(key.name, key.name)
    extra = ",".join(f"{tag}:{value}" for tag, value in key.tags if tag != "name")
    parts = [name, f"{{{extra}}}" if extra else ""]
    if finding.stat not in ("rate", "count") or key.name not in _FRIENDLY:
        parts.append(finding.stat)
    return " ".join(part for part in parts if part)


def is_notable(finding: Finding) -> bool:
    return finding.classification != "pass"


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one endpoint (or of the whole run, `endpoint` None)."""

    endpoint: str | None
    findings: tuple[Finding, ...]

    @property
    def title(self) -> str:
        return self.endpoint if self.endpoint is not None else RUN_LEVEL

    @property
    def worst(self) -> int:
        return max(VERDICT_SEVERITY[f.classification] for f in self.findings)

    @property
    def notable(self) -> bool:
        return any(is_notable(f) for f in self.findings)


def group_findings(findings: Sequence[Finding]) -> list[FindingGroup]:
    """Findings by endpoint: the worst endpoints first (then by name), run-level metrics last."""
    by_endpoint: dict[str | None, list[Finding]] = {}
    for finding in findings:
        by_endpoint.setdefault(finding.endpoint, []).append(finding)
    groups = [FindingGroup(endpoint, tuple(items)) for endpoint, items in by_endpoint.items()]
    return sorted(groups, key=lambda g: (g.endpoint is None, -g.worst, g.endpoint or ""))


def fence_for(text: str, minimum: int = 3) -> str:
    """A backtick fence longer than any backtick run in `text`, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(minimum, longest + 1)
