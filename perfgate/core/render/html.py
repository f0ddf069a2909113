"""A self-contained HTML report: verdict banner, evidence, charts as inline SVG, next steps.

No script and no external reference: the page carries a Content-Security-Policy that forbids
loading anything, and every chart is an inline SVG whose glyphs are paths. Every free-text value
goes through `html.escape`. At most `MAX_HISTORY_CHARTS` metric histories are drawn (the most
telling first), plus the run's per-stage chart and its resource chart.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from perfgate.core.render.chart_data import ChangeMarks, chart_order, marks_for, metric_history, ordered_runs
from perfgate.core.render.charts import history_svg, resources_svg, stages_svg
from perfgate.core.render.formatting import (
    VERDICT_HEADLINE,
    FindingGroup,
    fmt_arrow,
    fmt_change,
    fmt_int,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    group_findings,
    one_line,
    short_metric,
)
from perfgate.core.render.gate_facts import coverage_lines, k6_lines
from perfgate.core.render.html_style import CSP, CSS, VERDICT_SYMBOL
from perfgate.core.render.sections import (
    ack_snippet,
    acknowledgeable,
    context_line,
    next_step,
    plan_diff,
    plan_reasons,
    resources_text,
)
from perfgate.models import Finding, HealPlan, RunRecord, StoredRun, Verdict
from perfgate.models.detect import TrendReport

MAX_HISTORY_CHARTS = 8
LEGEND = (
    '<p class="legend">Grey line: the stored runs, oldest to newest · dashed: their median · '
    "shaded: noise band (median ± 2σ, robust) · big dot: this run, coloured by its verdict · "
    "dashed vertical line: a change point.</p>"
)


def _e(text: str) -> str:
    return html.escape(one_line(text), quote=True)


def _banner(verdict: Verdict) -> str:
    kind = verdict.verdict
    return (
        f'<header class="banner v-{kind}"><div class="inner">'
        f'<h1><span class="symbol">{VERDICT_SYMBOL[kind]}</span>{VERDICT_HEADLINE[kind]}</h1>'
        f'<p class="reason">{_e(verdict.reason)}</p>'
        f'<p class="context">{_e(context_line(verdict))}</p></div></header>'
    )


def _finding_row(finding: Finding, group: FindingGroup, first: bool) -> str:
    kind = finding.classification
    classes = f"c-{kind}" + (" group-start" if first else "")
    where = f"<strong>{_e(group.title)}</strong>" if first else ""
    return (
        f'<tr class="{classes}"><td>{where}</td>'
        f'<td title="{_e(finding.metric + " " + finding.stat)}">{_e(short_metric(finding))}</td>'
        f'<td class="num">{_e(fmt_arrow(finding))}</td><td class="num">{_e(fmt_change(finding))}</td>'
        f'<td class="num">{finding.confidence * 100:.0f} %</td>'
        f'<td><span class="pill c-{kind}">{kind}</span></td></tr>'
    )


def _findings_table(groups: Sequence[FindingGroup]) -> str:
    head = (
        "<tr><th>endpoint</th><th>metric</th><th class='num'>baseline → observed</th>"
        "<th class='num'>change</th><th class='num'>confidence</th><th>verdict</th></tr>"
    )
    rows = [_finding_row(f, g, i == 0) for g in groups for i, f in enumerate(g.findings)]
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _findings(verdict: Verdict) -> str:
    groups = group_findings(verdict.findings)
    if not groups:
        return ""
    moved = [g for g in groups if g.notable]
    quiet = [g for g in groups if not g.notable]
    parts = ["<h2>What changed</h2>"]
    if moved:
        parts.append(_findings_table(moved))
    if quiet:
        count = sum(len(g.findings) for g in quiet)
        open_attr = "" if moved else " open"
        parts.append(
            f"<details{open_attr}><summary>{count} metrics within noise</summary>{_findings_table(quiet)}</details>"
        )
    return "<section>" + "".join(parts) + "</section>"


def _next(verdict: Verdict, ack_until: date | None) -> str:
    step = next_step(verdict)
    if step is None:
        return ""
    parts = [f'<div class="next"><strong>Next step:</strong> {_e(step)}']
    regressed = acknowledgeable(verdict)
    if regressed:
        parts.append(f"<pre>{html.escape(ack_snippet(regressed, ack_until))}</pre>")
    return "".join(parts) + "</div>"


def _diff_line(line: str) -> str:
    css = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1])
    text = html.escape(line)
    return f'<span class="{css}">{text}</span>' if css else text


def _healing(plan: HealPlan | None) -> str:
    if plan is None:
        return ""
    parts = ["<section><h2>Proposed threshold and stage changes</h2>"]
    diff = plan_diff(plan)
    if diff is not None:
        parts.append("<pre>" + "\n".join(_diff_line(line) for line in diff.splitlines()) + "</pre>")
    parts.append("<ul>" + "".join(f"<li>{_e(reason)}</li>" for reason in plan_reasons(plan)) + "</ul>")
    return "".join(parts) + "</section>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _history_charts(
    verdict: Verdict, history: Sequence[StoredRun] | None, change_points: ChangeMarks | None
) -> str:
    if not verdict.findings:
        return ""
    if not history:
        return "<section><h2>History</h2><p>No stored runs were given: no history to chart.</p></section>"
    runs = ordered_runs(history)
    chosen = chart_order(verdict.findings, change_points, MAX_HISTORY_CHARTS)
    figures = []
    for i, finding in enumerate(chosen):
        series = metric_history(runs, finding.metric, finding.stat)
        if series is None:
            continue
        title = f"{finding.endpoint or 'whole run'} · {short_metric(finding)}"
        marks = marks_for(change_points, series, finding.metric, finding.stat)
        svg = history_svg(finding, series, marks, title=title, prefix=f"h{i}")
        caption = f"{fmt_arrow(finding)} ({fmt_change(finding)}): {finding.classification}"
        figures.append(_figure(svg, caption))
    left_out = len(verdict.findings) - len(figures)
    note = f"<p>{left_out} other metrics are not charted.</p>" if left_out > 0 else ""
    return f'<section><h2>History</h2>{LEGEND}<div class="grid">{"".join(figures)}</div>{note}</section>'


def _change_points(change_points: ChangeMarks | None) -> str:
    """The nightly scan's change points as a table (only for a `TrendReport`)."""
    if not isinstance(change_points, TrendReport):
        return ""
    rows = []
    for trend in change_points.metrics:
        for point in trend.change_points:
            change = "–" if point.change_ratio is None else f"{(point.change_ratio - 1) * 100:+.1f} %"
            rows.append(
                f"<tr class='c-{point.classification}'><td>{_e(trend.metric)} {_e(trend.stat)}</td>"
                f"<td>{_e(point.run_id)}</td><td class='num'>{point.mean_before:.4g} → {point.mean_after:.4g}</td>"
                f"<td class='num'>{change}</td><td><span class='pill c-{point.classification}'>"
                f"{point.classification}</span></td></tr>"
            )
    if not rows:
        return f"<section><h2>Change points</h2><p>None found in {change_points.runs} runs.</p></section>"
    head = "<tr><th>metric</th><th>from run</th><th class='num'>mean before → after</th><th class='num'>change</th><th></th></tr>"
    return f"<section><h2>Change points</h2><table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></section>"


def _summary_table(verdict: Verdict) -> str:
    if not verdict.summary:
        return ""
    head = "".join(
        f"<th{' class=num' if i else ''}>{name}</th>"
        for i, name in enumerate(["endpoint", "requests", "p50", "p95", "p99", "errors", "req/s"])
    )
    rows = []
    for row in verdict.summary:
        values = [fmt_int(row.requests), fmt_ms(row.p50_ms), fmt_ms(row.p95_ms), fmt_ms(row.p99_ms)]
        values += [fmt_ratio(row.error_rate), fmt_rps(row.rps)]
        cells = "".join(f'<td class="num">{_e(v)}</td>' for v in values)
        rows.append(f"<tr><td>{_e(row.endpoint)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _this_run(verdict: Verdict, run: RunRecord | None) -> str:
    figures = []
    if run is not None:
        stages = stages_svg(run, prefix="st")
        if stages is not None:
            figures.append(_figure(stages, "p95/p99 latency and error rate of each load stage"))
        resources = resources_svg(run, prefix="rs")
        if resources is not None:
            figures.append(_figure(resources, resources_text(verdict) or "target CPU and memory"))
    grid = f'<div class="grid">{"".join(figures)}</div>' if figures else ""
    table = _summary_table(verdict)
    if not (grid or table):
        return ""
    return f"<section><h2>This run</h2>{grid}{table}</section>"


def _gate_facts(verdict: Verdict) -> str:
    """k6's own verdict (exit code, crossed thresholds, its last log lines) and what was gated:
    the same lines as the text and Markdown reports."""
    k6, coverage = k6_lines(verdict), coverage_lines(verdict)
    if not (k6 or coverage):
        return ""
    open_attr = " open" if verdict.k6.fails_gate or verdict.k6.log_tail else ""
    text = html.escape("\n".join([*k6, *coverage]))
    return (
        f"<section><details{open_attr}><summary>k6's verdict and what was gated</summary>"
        f"<pre>{text}</pre></details></section>"
    )


def _notices(verdict: Verdict) -> str:
    if not verdict.notices:
        return ""
    items = "".join(f"<li>{_e(notice)}</li>" for notice in verdict.notices)
    return f'<section><h2>Notices</h2><ul class="notices">{items}</ul></section>'


def render_html(
    verdict: Verdict,
    *,
    history: Sequence[StoredRun] | None = None,
    run: RunRecord | None = None,
    plan: HealPlan | None = None,
    change_points: ChangeMarks | None = None,
    ack_until: date | None = None,
) -> str:
    """The whole report as one HTML document (no script, nothing loaded from outside).

    history: the comparable stored runs (any order); run: the candidate, for per-stage and
    resource charts; change_points: a `TrendReport` (nightly) or run ids where changes start.
    """
    title = f"perfgate: {VERDICT_HEADLINE[verdict.verdict]} · {verdict.scenario}"
    body = [
        _banner(verdict),
        "<main>",
        _findings(verdict),
        _next(verdict, ack_until),
        _history_charts(verdict, history, change_points),
        _change_points(change_points),
        _healing(plan),
        _this_run(verdict, run),
        _gate_facts(verdict),
        _notices(verdict),
        "<footer>perfgate report</footer>",
        "</main>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )
