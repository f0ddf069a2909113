"""A heal in words: the diff and one line per change (terminal, step summary), the publish line,
and the pull request's body with the evidence for every change (free text escaped)."""

from __future__ import annotations

from perfgate.core.render.markdown import escape_md
from perfgate.models import HealPlan, PublishResult, Stage, StageChange, ThresholdChange


def render_heal_text(plan: HealPlan, diff: str, *, written: bool, verified: bool | None) -> str:
    """The diff, then one line per change with its reason, then notices."""
    lines: list[str] = []
    if plan.refused:
        lines.append(f"heal refused: {plan.refused}")
    elif not plan.changed:
        lines.append(f"heal: nothing to change in {plan.profile} (scenario {plan.scenario}).")
    else:
        action = "changed" if written else "would change"
        lines.append(diff.rstrip("\n"))
        lines.append(
            f"heal: {action} {len(plan.thresholds)} threshold(s), {len(plan.stages)} stage(s) in {plan.profile}"
        )
        lines += [f"  {c.metric} {c.old} → {c.new} ({c.direction}): {c.reason}" for c in plan.thresholds]
        lines += [f"  stage {c.stage} of {c.scenario}: {c.kind}: {c.reason}" for c in plan.stages]
    if verified:
        lines.append("verify: the healed profile passed a k6 re-run.")
    lines += [f"note: {notice}" for notice in plan.notices]
    return "\n".join(lines) + "\n"


def render_publish_line(result: PublishResult) -> str:
    """`publish: <operation> <where> (<notice>)`: what `heal --publish` did, for the log."""
    where = result.pr_url or result.branch or result.commit or ""
    return f"publish: {result.operation} {where}".rstrip() + (f" ({result.notice})" if result.notice else "")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _code(text: str | None) -> str:
    return "–" if text is None else escape_md(text)


def _threshold_rows(changes: list[ThresholdChange]) -> list[str]:
    lines = [
        "| metric | old → new | change | history runs | median | spread | bound | anchor | ceiling | why |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for c in changes:
        ev = c.evidence
        cells = [
            _code(c.metric),
            f"{_code(c.old)} → {_code(c.new)}",
            f"{c.direction} {_num(c.old_limit)} → {_num(c.new_limit)}",
            str(ev.history_runs),
            _num(ev.median),
            _num(ev.spread),
            f"{_num(ev.upper_bound)} × {ev.headroom:.3g}",
            _num(ev.anchor),
            _num(ev.ceiling),
            escape_md(c.reason),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _stages(stages: list[Stage]) -> str:
    return ", ".join(escape_md(f"{s.duration} to {s.target:g}") for s in stages) or "–"


def _stage_section(change: StageChange) -> list[str]:
    lines = [
        f"#### {escape_md(change.kind)}: stage {change.stage} of {escape_md(change.scenario)}",
        "",
        escape_md(change.reason),
        "",
        f"Stages before: {_stages(change.old)}  ",
        f"Stages after: {_stages(change.new)}",
        "",
    ]
    if change.evidence:
        lines += ["| stage | requests | failed | p95 | p99 | error rate |", "|--:|--:|--:|--:|--:|--:|"]
        for s in change.evidence:
            cells = [str(s.stage), str(s.requests), str(s.failed), _num(s.p95_ms), _num(s.p99_ms)]
            lines.append("| " + " | ".join([*cells, f"{s.error_rate * 100:.2f} %"]) + " |")
        lines.append("")
    return lines


def render_heal_pr_body(plan: HealPlan, *, marker: str) -> str:
    """The PR body: what changes, and the evidence for every change. Free text is escaped."""
    lines = [
        marker,
        f"## perfgate: healed load test for {escape_md(plan.scenario)}",
        "",
        f"Profile {escape_md(plan.profile)}; verdict of the run: {escape_md(plan.verdict or 'none')}.",
        "Limits come from the history's robust upper bound times headroom, never above the ceiling.",
        "",
    ]
    if plan.thresholds:
        lines += ["### Thresholds", "", *_threshold_rows(plan.thresholds), ""]
    if plan.stages:
        lines += ["### Stages", ""]
        for change in plan.stages:
            lines += _stage_section(change)
    lines += [f"> {escape_md(notice)}" for notice in plan.notices]
    return "\n".join(lines).rstrip() + "\n"
