"""Charts as inline SVG strings: matplotlib's object API (no pyplot, no global figure registry).

Glyphs are drawn as paths (`svg.fonttype = "path"`), so the SVG needs no font and references
nothing outside itself. Metadata, comments, the XML prolog and the xlink namespace are removed;
ids get a per-chart prefix so several charts can share one HTML document. Figures are cleared
after saving and never registered anywhere, so memory stays flat however many reports are made.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from perfgate.core.render.chart_data import Mark, MetricHistory
from perfgate.core.render.formatting import fmt_change, fmt_value, one_line
from perfgate.models import Finding, RunRecord

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

COLOURS = {
    "regression": "#cf222e",
    "warn": "#bf8700",
    "noise": "#6e7781",
    "improvement": "#1a7f37",
    "pass": "#0969da",
    "no_baseline": "#8250df",
    "broken": "#cf222e",
}
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "perfgate",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8c959f",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#eaeef2",
    "xtick.color": "#57606a",
    "ytick.color": "#57606a",
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}
_ID = re.compile(r'\bid="([^"]+)"')


@contextmanager
def _figure(
    width: float, height: float, rows: int = 1, *, right: float = 0.98
) -> Iterator[tuple[Figure, list[Axes]]]:
    """A figure with fixed margins (constrained layout would double the drawing time)."""
    with rc_context(_RC), warnings.catch_warnings():
        # A metric name may hold characters DejaVu lacks: drawn as a box, not a failure.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        figure = Figure(figsize=(width, height))
        figure.subplots_adjust(left=0.6 / width, right=right, top=1 - 0.3 / height, bottom=0.45 / height)
        figure.subplots_adjust(hspace=0.55)
        axes = [figure.add_subplot(rows, 1, i + 1) for i in range(rows)]
        try:
            yield figure, axes
        finally:
            figure.clear()


def _to_svg(figure: Figure, prefix: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return clean_svg(buffer.getvalue(), prefix)


def clean_svg(svg: str, prefix: str) -> str:
    """Matplotlib's SVG made fit to inline: no prolog, metadata, comments or xlink; ids prefixed."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace("xlink:href=", "href=")
    ids = set(_ID.findall(svg))
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(
        r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"' if m.group(1) in ids else m[0], svg
    )
    svg = re.sub(
        r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})" if m.group(1) in ids else m[0], svg
    )
    return re.sub(r"\n\s+", "\n", svg).strip()


def _unit_formatter(unit: str) -> FuncFormatter:
    def label(value: float, _pos: int | None) -> str:
        if unit == "ratio":
            return f"{value * 100:.3g} %"
        suffix = {"ms": " ms", "per_s": "/s"}.get(unit, "")
        return f"{value:.4g}{suffix}"

    return FuncFormatter(label)


def _title(ax: Axes, text: str) -> None:
    ax.set_title(one_line(text), parse_math=False)


def _draw_marks(ax: Axes, marks: Sequence[Mark]) -> None:
    for mark in marks:
        colour = COLOURS.get(mark.classification, COLOURS["noise"])
        x = mark.index + 1
        ax.axvline(x - 0.5, color=colour, linestyle=(0, (4, 2)), linewidth=1.2)
        ax.annotate(
            mark.label, (x - 0.5, 0.0), xycoords=("data", "axes fraction"), xytext=(3, 4),
            textcoords="offset points", color=colour, fontsize=7.5, parse_math=False,
        )  # fmt: skip


def history_svg(
    finding: Finding, history: MetricHistory, marks: Sequence[Mark], *, title: str, prefix: str
) -> str:
    """The metric over the stored runs, its noise band and median, and the new run marked."""
    n = len(history.run_ids)
    xs = np.arange(1, n + 1)
    colour = COLOURS[finding.classification]
    with _figure(5.6, 2.35) as (figure, (ax,)):
        low, high = history.band
        ax.axhspan(low, high, color="#ddf4ff", linewidth=0)
        ax.axhline(history.median, color="#54aeff", linestyle="--", linewidth=1)
        ax.plot(xs, history.values, color="#57606a", marker="o", markersize=2.5, linewidth=1)
        ax.plot([n + 1], [finding.observed], marker="o", markersize=8, color=colour, linestyle="none")
        ax.annotate(
            f"new: {fmt_value(finding.observed, finding.unit)} ({fmt_change(finding)})", (n + 1, finding.observed),
            xytext=(-6, 8), textcoords="offset points", ha="right", color=colour, fontweight="bold",
        )  # fmt: skip
        _draw_marks(ax, marks)
        ax.set_xlim(0.3, n + 1.7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
        ax.yaxis.set_major_formatter(_unit_formatter(finding.unit))
        ax.set_xlabel(f"stored runs, oldest → newest ({n}); the new run is last", color="#57606a")
        _title(ax, title)
        ax.margins(y=0.25)
        return _to_svg(figure, prefix)


def _stage_labels(run: RunRecord) -> list[str]:
    scenarios = {stage.scenario for stage in run.stages}
    targets = run.fingerprint.stages if run.fingerprint and len(scenarios) == 1 else []
    labels = []
    for stage in run.stages:
        name = one_line(f"{stage.scenario}/{stage.stage}" if len(scenarios) > 1 else f"stage {stage.stage}")
        if stage.stage < len(targets):
            name += f"\n→{targets[stage.stage].target:g} VUs"
        labels.append(name)
    return labels


def _series(values: Sequence[float | None]) -> list[float]:
    return [np.nan if v is None else v for v in values]


def stages_svg(run: RunRecord, *, prefix: str) -> str | None:
    """p95/p99 latency and error rate per stage of the run (None when the run has no stages)."""
    if not run.stages:
        return None
    xs = np.arange(len(run.stages))
    with _figure(5.6, 3.2, rows=2) as (figure, (latency, errors)):
        latency.plot(xs, _series([s.p95_ms for s in run.stages]), marker="o", color="#0969da", label="p95")
        latency.plot(
            xs,
            _series([s.p99_ms for s in run.stages]),
            marker=".",
            color="#8250df",
            linestyle="--",
            label="p99",
        )
        latency.yaxis.set_major_formatter(_unit_formatter("ms"))
        latency.set_xticks(xs, [""] * len(xs))
        latency.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
        latency.margins(y=0.3)
        _title(latency, "This run, per stage: latency (all requests)")
        rates = [s.error_rate for s in run.stages]
        bars = ["#cf222e" if rate > 0 else "#8c959f" for rate in rates]
        errors.bar(xs, rates, color=bars, width=0.6)
        errors.yaxis.set_major_formatter(_unit_formatter("ratio"))
        errors.set_ylim(0, max(max(rates) * 1.3, 0.01))
        errors.set_xticks(xs, _stage_labels(run))
        _title(errors, "error rate per stage")
        return _to_svg(figure, prefix)


def resources_svg(run: RunRecord, *, prefix: str) -> str | None:
    """The target's CPU and memory over the run (None without samples)."""
    usage = run.resources
    if usage is None or len(usage.samples) < 2:
        return None
    ts = [s.t_s for s in usage.samples]
    with _figure(5.6, 2.35, right=0.88) as (figure, (cpu,)):
        cpu.plot(ts, [s.cpu_percent for s in usage.samples], color="#0969da", linewidth=1.2)
        cpu.set_ylabel("CPU % (100 = 1 core)", color="#0969da")
        cpu.set_xlabel("seconds", color="#57606a")
        rss = cpu.twinx()
        rss.plot(ts, [s.rss_mb for s in usage.samples], color="#bf8700", linewidth=1.2)
        rss.set_ylabel("RSS MB", color="#bf8700")
        rss.grid(visible=False)
        _title(cpu, f"Target resources ({one_line(usage.source)})")
        return _to_svg(figure, prefix)


def distributions_svg(
    rows: Sequence[tuple[str, Sequence[float], Sequence[float]]], *, title: str, prefix: str
) -> str | None:
    """Base and head side by side per metric: violins of per-request latency (log scale)."""
    rows = [(label, base, head) for label, base, head in rows if len(base) > 1 and len(head) > 1]
    if not rows:
        return None
    positions = np.arange(len(rows), dtype=float)
    with _figure(max(5.6, 1.1 * len(rows) + 1.2), 3.0) as (figure, (ax,)):
        for offset, index, colour, name in ((-0.2, 1, "#0969da", "base"), (0.2, 2, "#bf8700", "head")):
            parts = ax.violinplot(
                [np.log10(np.maximum(row[index], 1e-3)) for row in rows], positions + offset,
                widths=0.36, showmedians=True, showextrema=False,
            )  # fmt: skip
            for body in list(parts["bodies"]):  # type: ignore[call-overload]
                body.set_facecolor(colour)
                body.set_alpha(0.55)
            parts["cmedians"].set_color(colour)
            ax.plot([], [], color=colour, linewidth=6, alpha=0.55, label=name)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{10**value:.3g} ms"))
        ax.set_xticks(positions, [one_line(row[0]) for row in rows], rotation=20, ha="right")
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
        _title(ax, title)
        return _to_svg(figure, prefix)
