"""Healing: propose new k6 thresholds and stages from the history, each with its evidence.

Pure: k6 options (a mapping) and `RunRecord`s in, a `HealPlan` out. No files, environment,
clock or subprocesses. See `bounds` for the statistics, `thresholds` for the ratchet and
`stages` for the stage rules.
"""

from perfgate.core.expressions import format_number, nice_limit, parse_expression
from perfgate.core.heal.bounds import LimitModel, MetricSpace, fit_limit
from perfgate.core.heal.plan import propose_heal

__all__ = [
    "LimitModel",
    "MetricSpace",
    "fit_limit",
    "format_number",
    "nice_limit",
    "parse_expression",
    "propose_heal",
]
