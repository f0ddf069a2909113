"""The capacity study's four figures as inline SVG (matplotlib object API, as core.render.charts).

actual vs predicted p95 · failure probability vs users · anomalies over the run · the USL
throughput curve with its 95 % confidence band.
"""

from __future__ import annotations

import numpy as np

from perfgate.core.capacity.usl import usl_band, usl_throughput
from perfgate.core.render.charts import COLOURS, _figure, _title, _to_svg, _unit_formatter
from perfgate.models.capacity import CapacityResult

MUTED = "#57606a"


def predicted_svg(result: CapacityResult, *, prefix: str) -> str:
    """Measured p95 per window against the chosen model's prediction (trained without the hold-out)."""
    preds = result.predictions
    with _figure(5.6, 2.6) as (figure, (ax,)):
        for held, colour, label in (
            (False, COLOURS["pass"], "training"),
            (True, COLOURS["warn"], "held out"),
        ):
            chosen = [p for p in preds if p.holdout == held]
            ax.plot(
                [p.users for p in chosen],
                [p.actual_p95_ms for p in chosen],
                "o",
                color=colour,
                markersize=4,
                label=f"measured ({label})",
            )
        order = sorted(preds, key=lambda p: p.users)
        ax.plot(
            [p.users for p in order],
            [p.predicted_p95_ms for p in order],
            color=MUTED,
            linewidth=1.4,
            label=f"predicted ({result.chosen_model})",
        )
        if result.inputs.latency_slo_ms is not None:
            ax.axhline(
                result.inputs.latency_slo_ms,
                color=COLOURS["regression"],
                linestyle="--",
                linewidth=1,
                label="SLO",
            )
        ax.yaxis.set_major_formatter(_unit_formatter("ms"))
        ax.set_xlabel("users (VUs)", color=MUTED)
        ax.legend(loc="upper left", fontsize=7, frameon=False)
        _title(ax, "p95 latency: measured vs the digital twin")
        return _to_svg(figure, prefix)


def failure_svg(result: CapacityResult, *, prefix: str) -> str:
    curve = result.failure_probability
    with _figure(5.6, 2.35) as (figure, (ax,)):
        ax.plot([p.users for p in curve], [p.p for p in curve], color=COLOURS["regression"], linewidth=1.6)
        for level in (0.05, 0.5):
            ax.axhline(level, color=MUTED, linestyle=":", linewidth=0.8)
        safe = result.max_safe_users
        if safe.interval is not None:
            ax.axvspan(*safe.interval, color="#ddf4ff", linewidth=0)
        if safe.users is not None:
            ax.axvline(safe.users, color=COLOURS["pass"], linestyle="--", linewidth=1.2)
        ax.axvline(result.inputs.highest_measured_users, color=MUTED, linewidth=0.8)
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(_unit_formatter("ratio"))
        ax.set_xlabel(
            "users (VUs); dashed: max safe users, shaded: its interval, grey: highest measured", color=MUTED
        )
        _title(ax, "Failure probability (SLO broken in a window) vs users")
        return _to_svg(figure, prefix)


def anomalies_svg(result: CapacityResult, *, prefix: str) -> str:
    windows = result.windows
    starts = [w.start_s for w in windows]
    flagged = {a.window for a in result.anomalies}
    with _figure(5.6, 2.6, right=0.88) as (figure, (ax,)):
        ax.plot(
            starts, [w.p95_ms for w in windows], color=COLOURS["pass"], marker=".", linewidth=1, label="p95"
        )
        marks = [windows[i] for i in sorted(flagged)]
        ax.plot(
            [w.start_s for w in marks],
            [w.p95_ms for w in marks],
            "o",
            markersize=9,
            markerfacecolor="none",
            color=COLOURS["regression"],
            label="anomalous window",
        )
        ax.yaxis.set_major_formatter(_unit_formatter("ms"))
        ax.set_xlabel("seconds into the run", color=MUTED)
        users = ax.twinx()
        users.step(starts, [w.users for w in windows], where="post", color=MUTED, linewidth=1)
        users.set_ylabel("users", color=MUTED)
        users.grid(visible=False)
        ax.legend(loc="upper left", fontsize=7, frameon=False)
        _title(ax, "Anomaly detection over the run (Isolation Forest)")
        return _to_svg(figure, prefix)


def usl_svg(result: CapacityResult, *, prefix: str) -> str:
    fit = result.usl
    users = np.array([w.users for w in result.windows])
    reach = max(float(users.max()) * 1.5, fit.peak_load or 0.0)
    grid = np.linspace(1.0, reach, 200)
    low, high = usl_band(fit, grid)
    with _figure(5.6, 2.6) as (figure, (ax,)):
        ax.fill_between(grid, np.maximum(low, 0), high, color="#ddf4ff", linewidth=0, label="95 % band")
        ax.plot(
            grid,
            usl_throughput(grid, fit.alpha, fit.beta, fit.gamma),
            color=COLOURS["pass"],
            linewidth=1.6,
            label="USL fit",
        )
        ax.plot(grid, fit.gamma * grid, color=MUTED, linestyle=":", linewidth=0.8, label="linear scaling")
        ax.plot(
            users, [w.throughput_rps for w in result.windows], "o", color=MUTED, markersize=3, label="windows"
        )
        if fit.peak_load is not None:
            ax.axvline(
                fit.peak_load,
                color=COLOURS["warn"],
                linestyle="--",
                linewidth=1,
                label=f"N* = {fit.peak_load:.0f}",
            )
        ax.set_ylim(0, max(float(np.max(high)), fit.peak_throughput) * 1.15)
        ax.yaxis.set_major_formatter(_unit_formatter("per_s"))
        ax.set_xlabel("users (VUs)", color=MUTED)
        ax.legend(loc="lower right", fontsize=7, frameon=False, ncols=2)
        _title(ax, "Throughput: Universal Scalability Law fit")
        return _to_svg(figure, prefix)
