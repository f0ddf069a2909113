"""The sequential decision: after every pair, is every gated metric decided?

A metric is decided at the first look whose interval lies entirely beyond the policy's minimum
effect (regression or improvement) or entirely within it (same); the decision then stands, as
in a group-sequential trial. Looks are the pairs `min_pairs..max_pairs`.

False alarms: look k of K tests each metric at `alpha·(2k − 1) / (K² · metrics)` per side (an
alpha-spending function, quadratic: Bonferroni over metrics, a growing share of the budget for
later looks, where the t interval has the degrees of freedom to use it). The shares sum to
`alpha`, so by the union bound the chance that any metric is ever called a regression (or an
improvement) when it moved less than its minimum effect is at most `alpha`, whatever the
correlation between looks and metrics. tests/test_compare_sequential.py
measures it on simulated A/A comparisons with runner noise and drift.

The comparison stops as soon as one metric is a regression (nothing later can change the
verdict), when every metric is decided, or at `max_pairs`; what is still open then is `unsure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.core.compare.estimate import Interval, pooled_interval
from perfgate.core.compare.gates import MetricData, gated_metrics
from perfgate.models.compare import (
    CompareVerdictKind,
    MetricComparison,
    MetricVerdictKind,
    PairSamples,
)
from perfgate.models.policy import Policy


@dataclass(frozen=True)
class Plan:
    min_pairs: int = 2
    max_pairs: int = 10
    alpha: float = 0.05

    @property
    def looks(self) -> int:
        return self.max_pairs - self.min_pairs + 1

    def look_alpha(self, metrics: int, pairs: int | None = None) -> float:
        """One-sided level of one metric at the look after `pairs` pairs (default: the last look).

        Quadratic spending: look k of K gets alpha·(2k − 1)/K² of the budget (alpha·(k/K)² spent by
        look k). Early looks, where a t interval on two or three pairs is wide anyway, spend little.
        """
        look = self.looks if pairs is None else min(max(pairs - self.min_pairs + 1, 1), self.looks)
        return self.alpha * (2 * look - 1) / (self.looks**2 * max(metrics, 1))


@dataclass(frozen=True)
class Judgement:
    verdict: CompareVerdictKind
    reason: str
    metrics: list[MetricComparison]
    done: bool


def decide(interval: Interval, margin: float) -> MetricVerdictKind | None:
    """Regression / improvement beyond ±margin, same within it, None while the interval straddles it."""
    if interval.low > margin:
        return "regression"
    if interval.high < -margin:
        return "improvement"
    if -margin < interval.low and interval.high < margin:
        return "same"
    return None


def _pct(metric: MetricData, value: float) -> float:
    if metric.unit == "ms":
        return round((math.exp(value) - 1.0) * 100.0, 2) if value < 700 else math.inf
    return round(value * 100.0, 3)


def _comparison(
    metric: MetricData, pairs: int, interval: Interval, margin: float, verdict: MetricVerdictKind
) -> MetricComparison:
    low = -math.inf if math.isinf(interval.low) else interval.low
    return MetricComparison(
        name=metric.name,
        unit=metric.unit,
        base=round(metric.base_level(len(metric.pairs)), 6),
        head=round(metric.head_level(len(metric.pairs)), 6),
        change_pct=_pct(metric, interval.estimate),
        ci_low_pct=max(_pct(metric, low), -100.0) if math.isfinite(low) else -100.0,
        ci_high_pct=min(_pct(metric, interval.high), 1e6) if math.isfinite(interval.high) else 1e6,
        min_effect_pct=_pct(metric, margin),
        verdict=verdict,
        decided_at_pair=pairs if verdict != "unsure" else None,
        requests_base=metric.requests("base"),
        requests_head=metric.requests("head"),
    )


def judge_metric(metric: MetricData, plan: Plan, metrics: int) -> MetricComparison:
    """Replay the looks over the pairs measured so far; the first decisive look stands."""
    measured = len(metric.pairs)
    for pairs in range(min(plan.min_pairs, measured), measured + 1):
        effects = [pair.effect for pair in metric.pairs[:pairs]]
        alpha = plan.look_alpha(metrics, pairs)
        interval = pooled_interval(effects, metric.sampling_se(pairs), alpha)
        margin = metric.margin(pairs)
        verdict = decide(interval, margin) if pairs >= plan.min_pairs else None
        if verdict is not None or pairs == measured:
            return _comparison(metric, pairs, interval, margin, verdict or "unsure")
    raise ValueError("judge_metric needs at least one pair")


def judge(pairs: Sequence[PairSamples], policy: Policy, plan: Plan) -> Judgement:
    """The verdict after the pairs measured so far, and whether to stop measuring."""
    metrics = gated_metrics(pairs, policy)
    if not metrics:
        return Judgement("unsure", "no gated metric had requests in every half", [], True)
    results = [judge_metric(metric, plan, len(metrics)) for metric in metrics]
    return _overall(results, len(pairs), plan)


def _overall(results: list[MetricComparison], pairs: int, plan: Plan) -> Judgement:
    regressions = [m for m in results if m.verdict == "regression"]
    undecided = [m for m in results if m.verdict == "unsure"]
    improvements = [m for m in results if m.verdict == "improvement"]
    if regressions:
        names = ", ".join(m.name for m in regressions)
        return Judgement("regression", f"slower beyond the minimum effect: {names}", results, True)
    if not undecided and pairs >= plan.min_pairs:
        if improvements:
            names = ", ".join(m.name for m in improvements)
            return Judgement("improvement", f"faster beyond the minimum effect: {names}", results, True)
        return Judgement("same", "every gated metric is within its minimum effect", results, True)
    done = pairs >= plan.max_pairs
    names = ", ".join(m.name for m in undecided)
    reason = f"not decided after {pairs} pairs: {names}" if undecided else "fewer pairs than --min-pairs"
    return Judgement("unsure", reason, results, done)
