"""Capacity results as text, Markdown or JSON (strings only; the CLI prints them)."""

from __future__ import annotations

import json
from collections.abc import Callable

from perfgate.core.render.formatting import fmt_ms, one_line
from perfgate.models.capacity import CapacityResult, Interval, MaxSafe, UslCoefficients, UslFit

RENDERED_FORMATS = ("text", "markdown", "json", "html")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _interval(interval: Interval | None) -> str:
    return "–" if interval is None else f"[{interval[0]:.4g}, {interval[1]:.4g}]"


def usl_json(fit: UslFit) -> str:
    return json.dumps(fit.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def _usl_rows(fit: UslFit) -> list[tuple[str, str, str, str]]:
    def row(
        name: str, value: float, se: float, pick: Callable[[UslCoefficients], Interval]
    ) -> tuple[str, str, str, str]:
        return name, f"{value:.6g} ± {se:.3g}", _interval(pick(fit.ci)), _interval(pick(fit.ci_textbook))

    return [
        row("alpha (contention)", fit.alpha, fit.std_errors.alpha, lambda c: c.alpha),
        row("beta (coherency)", fit.beta, fit.std_errors.beta, lambda c: c.beta),
        row("gamma (X at N=1)", fit.gamma, fit.std_errors.gamma, lambda c: c.gamma),
    ]


def _peak(fit: UslFit) -> str:
    if fit.peak_load is None:
        return f"no peak (β = 0): throughput approaches {fit.peak_throughput:.4g}"
    return f"peak {fit.peak_throughput:.4g} at N* = {fit.peak_load:.4g} users"


def usl_text(fit: UslFit) -> str:
    lines = [f"USL fit of {fit.n} points: R² = {fit.r_squared:.4f}, residual s.e. {fit.residual_se:.4g}"]
    lines += [
        f"  {name:<20} {value:<26} R-style CI {r_ci:<24} 95 % t-CI {t_ci}"
        for name, value, r_ci, t_ci in _usl_rows(fit)
    ]
    lines += [f"  {_peak(fit)}", f"  {one_line(fit.reading)}"]
    return "\n".join(lines) + "\n"


def usl_markdown(fit: UslFit) -> str:
    lines = [
        f"USL fit of {fit.n} points: R² = {fit.r_squared:.4f}; {_peak(fit)}.",
        "",
        "| coefficient | estimate ± s.e. | R usl `confint()` | two-sided 95 % t |",
        "|---|--:|--:|--:|",
    ]
    lines += [f"| {name} | {value} | {r_ci} | {t_ci} |" for name, value, r_ci, t_ci in _usl_rows(fit)]
    return "\n".join([*lines, "", one_line(fit.reading)]) + "\n"


def _safe(safe: MaxSafe) -> str:
    if safe.users is None:
        return f"max safe users: none; {one_line(safe.note)}"
    limited = f", limited by {safe.limited_by}" if safe.limited_by else ""
    return f"max safe users: {safe.users:g} (interval {_interval(safe.interval)}{limited}); {one_line(safe.note)}"


def _beyond(result: CapacityResult) -> str:
    highest = result.inputs.highest_measured_users
    peak = result.usl.peak_load
    if peak is None or peak <= highest:
        return ""
    return f" (beyond the highest measured load, {highest:g} users: extrapolated by the USL)"


def _summary_lines(result: CapacityResult) -> list[str]:
    inputs, crossings = result.inputs, result.failure_crossings
    slo = ", ".join(inputs.slo)
    lines = [
        f"Capacity of {one_line(inputs.source)} against {one_line(slo)}",
        _safe(result.max_safe_users),
        f"USL: {_peak(result.usl)}{_beyond(result)}; α={result.usl.alpha:.3g}, β={result.usl.beta:.3g}, γ={result.usl.gamma:.4g}, R²={result.usl.r_squared:.3f}",
        one_line(result.usl.reading),
        f"failure probability: 5 % at {_num(crossings.p05_users)} users {_interval(crossings.p05_interval)}, "
        f"50 % at {_num(crossings.p50_users)} users {_interval(crossings.p50_interval)}; "
        f"{crossings.violations} of {inputs.windows_fitted} windows broke the SLO"
        + (f" ({crossings.note})" if crossings.note else ""),
        f"windows: {inputs.windows} of {inputs.window_s:g} s, {len(result.anomalies)} anomalous left out; "
        f"think time {inputs.think_time_s:.3g} s; hold-out steps {', '.join(f'{s:g}' for s in inputs.holdout_steps)} users",
    ]
    crossing = result.latency_crossing
    if crossing is not None:
        low, high = crossing.interval
        where = "not within the studied range" if crossing.users is None else f"at {crossing.users:g} users"
        bounds = f"[{_num(low)}, {_num(high) if high is not None else 'beyond'}]"
        lines.insert(
            2, f"predicted p95 reaches the SLO {where} {bounds} ({result.chosen_model} ± hold-out error)"
        )
    if result.regression is not None:
        verdict = result.regression.verdict
        lines.append(f"capacity vs history: {verdict.verdict} ({one_line(verdict.reason)})")
        lines += [f"  {f.metric}: {f.classification}: {one_line(f.reason)}" for f in verdict.findings]
    return lines


def _model_rows(result: CapacityResult) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, model in sorted(result.models.items(), key=lambda item: item[1].mae_ms):
        mark = f"{name} (chosen)" if name == result.chosen_model else name
        rows.append((mark, fmt_ms(model.mae_ms), f"{model.r2:.3f}", f"{model.holdout_mape * 100:.1f} %"))
    return rows


def capacity_text(result: CapacityResult) -> str:
    lines = _summary_lines(result)
    lines.append("digital twin (p95), scored on the held-out highest steps:")
    lines += [
        f"  {name:<26} MAE {mae:>9}  R² {r2:>7}  MAPE {mape:>7}"
        for name, mae, r2, mape in _model_rows(result)
    ]
    lines += [
        f"  anomaly at {a.start_s:g} s ({a.users:g} users): {one_line(a.reason)}" for a in result.anomalies
    ]
    return "\n".join(lines) + "\n"


def capacity_markdown(result: CapacityResult) -> str:
    head, *rest = _summary_lines(result)
    lines = [
        f"### {head}",
        "",
        *(f"- {line}" for line in rest),
        "",
        "| model (p95) | hold-out MAE | R² | MAPE |",
        "|---|--:|--:|--:|",
    ]
    lines += [f"| {name} | {mae} | {r2} | {mape} |" for name, mae, r2, mape in _model_rows(result)]
    if result.anomalies:
        lines += ["", "| anomalous window | users | why |", "|--:|--:|---|"]
        lines += [f"| {a.start_s:g} s | {a.users:g} | {one_line(a.reason)} |" for a in result.anomalies]
    return "\n".join(lines) + "\n"


def capacity_json(result: CapacityResult) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
