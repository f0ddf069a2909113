"""A starting point for a script that has no thresholds: heal tunes the thresholds a script has
and never adds any, so it says which ones the history supports, with limits fitted the same way."""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.core.expressions import nice_limit, with_limit
from perfgate.core.heal.bounds import fit_limit
from perfgate.core.heal.targets import Target, classify, history_values
from perfgate.models import Policy, RunRecord

STARTERS = (("http_req_duration", "p(95)<1"), ("http_req_duration", "p(99)<1"))


def _suggested(target: Target, values: Sequence[float], policy: Policy) -> str:
    headroom = policy.healing.headroom
    model = fit_limit(values, target.space, headroom=headroom, min_change_abs=target.min_change_abs)
    return with_limit(target.expression, nice_limit(max(model.limit, max(values))))


def starter_thresholds(runs: Sequence[RunRecord], policy: Policy, profile_name: str) -> str | None:
    """The notice for a profile without thresholds: the k6 `thresholds` literal that the history's
    runs support (overall latency p95/p99, fitted as heal fits a limit), or None without data."""
    suggested: dict[str, list[str]] = {}
    for metric, text in STARTERS:
        target = classify(metric, text, policy, runs)
        if isinstance(target, str):
            continue
        values, _ = history_values(runs, target)
        if len(values) >= policy.history.min_runs:
            suggested.setdefault(metric, []).append(_suggested(target, values, policy))
    if not suggested:
        return None
    literal = ", ".join(
        f"{metric}: [{', '.join(repr(e) for e in exprs)}]" for metric, exprs in suggested.items()
    )
    return (
        f"{profile_name} has no thresholds: heal keeps a script's own k6 thresholds tuned and never adds "
        f"any (perfgate's gate judges every run against the history either way). From {len(runs)} runs, "
        f"a starting point for its options: thresholds: {{ {literal} }}"
    )
