"""Paired base/head comparison: per-pair effects and the sequential decision (its reports are
rendered in perfgate.core.render.compare and compare_html)."""

from perfgate.core.compare.sequential import Judgement, Plan, judge

__all__ = ["Judgement", "Plan", "judge"]
