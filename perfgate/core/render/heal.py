"""A heal in words: the diff and one line per change (terminal, step summary), the publish line."""

from __future__ import annotations

from perfgate.models import HealPlan, PublishResult


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
