"""`perfgate compare` rendered as text (terminal), Markdown (PR comment) and JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfgate.core.render.formatting import one_line
from perfgate.core.render.markdown import MARKER, escape_md
from perfgate.models.compare import CompareResult, MetricComparison

HEADLINE = {"regression": "REGRESSION", "improvement": "IMPROVEMENT", "same": "SAME", "unsure": "UNSURE"}
ICON = {"regression": "❌", "improvement": "🚀", "same": "✅", "unsure": "❔"}
COLUMNS = ("metric", "base", "head", "change", "interval", "min effect", "verdict")


def metric_label(name: str) -> str:
    """`http_req_duration{name:x}` → `x latency`; the whole run's metrics by what they measure."""
    if name.startswith("http_req_duration{name:") and name.endswith("}"):
        return f"{name[len('http_req_duration{name:') : -1]} latency"
    return {"http_req_duration": "latency (all requests)", "http_req_failed": "error rate"}.get(name, name)


def _value(metric: MetricComparison, value: float) -> str:
    return f"{value:.2f} ms" if metric.unit == "ms" else f"{value * 100:.2f} %"


def _signed(value: float, unit: str) -> str:
    if not math.isfinite(value) or abs(value) >= 1e6:
        return "∞" if value > 0 else "−∞"
    return f"{value:+.1f}{unit}".replace("-", "−")


def _suffix(metric: MetricComparison) -> str:
    return " %" if metric.unit == "ms" else " pt"


def cells(metric: MetricComparison) -> list[str]:
    """The table row of one metric, as plain text."""
    unit = _suffix(metric)
    interval = f"[{_signed(metric.ci_low_pct, '')}, {_signed(metric.ci_high_pct, '')}]{unit}"
    verdict = metric.verdict + (f" (pair {metric.decided_at_pair})" if metric.decided_at_pair else "")
    return [
        metric_label(metric.name),
        _value(metric, metric.base),
        _value(metric, metric.head),
        _signed(metric.change_pct, unit),
        interval,
        f"±{metric.min_effect_pct:.1f}{unit}",
        verdict,
    ]


def _summary(result: CompareResult) -> str:
    return (
        f"{result.pairs} pair(s) of base and head measured in turn (ABBA, {result.min_pairs}-{result.max_pairs} "
        f"allowed); intervals hold the false-alarm rate at {result.alpha:g} over all metrics and looks."
    )


def render_compare_text(result: CompareResult) -> str:
    rows = [list(COLUMNS), *(cells(m) for m in result.metrics)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [f"{HEADLINE[result.verdict]}: {one_line(result.reason)}", _summary(result), ""]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines) + "\n"


def _md_row(values: Sequence[str]) -> str:
    return "| " + " | ".join(values) + " |"


def render_compare_markdown(result: CompareResult) -> str:
    lines = [
        MARKER,
        f"## {ICON[result.verdict]} perfgate compare: {HEADLINE[result.verdict]}",
        "",
        escape_md(result.reason),
        "",
        _summary(result),
        "",
        _md_row(COLUMNS),
        _md_row(["---", "---:", "---:", "---:", "---:", "---:", "---"]),
    ]
    for metric in result.metrics:
        row = cells(metric)
        row[0], row[-1] = escape_md(row[0]), f"**{row[-1]}**" if metric.verdict == "regression" else row[-1]
        lines.append(_md_row(row))
    lines += [
        "",
        "Change: head against base, the Hodges–Lehmann ratio of per-request latencies (error rate: the "
        "difference in points). Interval: where the change lies, with runner noise between pairs counted. "
        "A metric is decided once its interval lies wholly beyond or within the minimum effect (the policy's floor).",
    ]
    return "\n".join(lines) + "\n"


def render_compare_json(result: CompareResult) -> str:
    return result.model_dump_json(indent=2) + "\n"
