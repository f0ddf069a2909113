"""Which metrics a paired comparison gates, their per-pair effects and the policy's minimum effect.

Gated: the latency of every endpoint (k6 `name` tag) seen in every half with at least
`MIN_REQUESTS` requests, the latency of all requests together, and the overall error rate
(`http_req_failed`). Per-endpoint error rates are left to `perfgate analyze`: with the few
hundred requests of a short half no interval can show them within the default 0.5-point floor.
A metric no policy rule matches is not gated (the overall latency falls back to the rule of
`http_req_duration{name:*}`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfgate.core.compare.estimate import (
    PairEffect,
    agresti_caffo_se,
    error_pair_effect,
    latency_pair_effect,
    mean_sampling_se,
)
from perfgate.models.compare import HalfSamples, PairSamples
from perfgate.models.policy import MetricRule, Policy

LATENCY = "http_req_duration"
ERRORS = "http_req_failed"
MIN_REQUESTS = 5


@dataclass(frozen=True)
class PairData:
    """One pair of one metric: its effect, and the values behind it."""

    effect: PairEffect
    base: tuple[float, ...]  # latency: each request's ms; errors: (failed, requests)
    head: tuple[float, ...]


@dataclass(frozen=True)
class MetricData:
    """One gated metric over the pairs measured so far."""

    name: str
    unit: Literal["ms", "ratio"]
    rule: MetricRule
    pairs: tuple[PairData, ...]

    def base_level(self, pairs: int) -> float:
        """Median latency (ms) or pooled error rate of base over the first `pairs` pairs."""
        return _level([pair.base for pair in self.pairs[:pairs]], self.unit)

    def head_level(self, pairs: int) -> float:
        return _level([pair.head for pair in self.pairs[:pairs]], self.unit)

    def sampling_se(self, pairs: int) -> float:
        """Standard error of the mean effect over the first `pairs` pairs, from the requests alone."""
        used = self.pairs[:pairs]
        if self.unit == "ms":
            return mean_sampling_se([pair.effect for pair in used])
        failed_b, total_b = (round(sum(pair.base[i] for pair in used)) for i in (0, 1))
        failed_h, total_h = (round(sum(pair.head[i] for pair in used)) for i in (0, 1))
        return agresti_caffo_se(failed_b, total_b, failed_h, total_h)

    def margin(self, pairs: int) -> float:
        """The policy's smallest change that counts: a log ratio (latency) or a rate difference (errors)."""
        rule, base_level = self.rule, self.base_level(pairs)
        if self.unit == "ms":
            return math.log(max(rule.min_change_ratio, 1.0 + rule.min_change_abs / max(base_level, 1e-9)))
        return max(rule.min_change_abs, (rule.min_change_ratio - 1.0) * base_level, 1e-6)

    def requests(self, arm: Literal["base", "head"]) -> int:
        values = [pair.base if arm == "base" else pair.head for pair in self.pairs]
        return sum(len(v) for v in values) if self.unit == "ms" else round(sum(v[1] for v in values))


def _level(values: Sequence[tuple[float, ...]], unit: str) -> float:
    if unit == "ms":
        return float(np.median(np.concatenate([np.asarray(v, dtype=np.float64) for v in values])))
    return sum(v[0] for v in values) / max(sum(v[1] for v in values), 1)


def endpoint_names(pairs: Sequence[PairSamples]) -> list[str]:
    """Endpoints with enough requests in every half of every pair, sorted."""
    halves = [half for pair in pairs for half in (pair.base, pair.head)]
    names = set.intersection(*(set(half.endpoints) for half in halves)) if halves else set()
    return sorted(
        name for name in names if all(half.endpoints[name].requests >= MIN_REQUESTS for half in halves)
    )


def _latencies(half: HalfSamples, name: str | None) -> list[float]:
    if name is not None:
        return list(half.endpoints[name].latency_ms)
    return [value for samples in half.endpoints.values() for value in samples.latency_ms]


def _rule(policy: Policy, metric: str, fallback: str) -> MetricRule | None:
    return policy.rule_for(metric) or policy.rule_for(fallback)


def latency_data(pairs: Sequence[PairSamples], policy: Policy, endpoint: str | None) -> MetricData | None:
    name = f"{LATENCY}{{name:{endpoint}}}" if endpoint is not None else LATENCY
    rule = _rule(policy, name, f"{LATENCY}{{name:*}}")
    if rule is None:
        return None
    data = []
    for pair in pairs:
        base, head = _latencies(pair.base, endpoint), _latencies(pair.head, endpoint)
        data.append(PairData(latency_pair_effect(base, head), tuple(base), tuple(head)))
    return MetricData(name, "ms", rule, tuple(data))


def _failures(half: HalfSamples) -> tuple[float, float]:
    failed = sum(s.failed for s in half.endpoints.values())
    return float(failed), float(sum(s.requests for s in half.endpoints.values()))


def error_data(pairs: Sequence[PairSamples], policy: Policy) -> MetricData | None:
    rule = _rule(policy, ERRORS, f"{ERRORS}{{name:*}}")
    if rule is None:
        return None
    data = []
    for pair in pairs:
        base, head = _failures(pair.base), _failures(pair.head)
        effect = error_pair_effect(round(base[0]), round(base[1]), round(head[0]), round(head[1]))
        data.append(PairData(effect, base, head))
    return MetricData(ERRORS, "ratio", rule, tuple(data))


def gated_metrics(pairs: Sequence[PairSamples], policy: Policy) -> list[MetricData]:
    """Every gated metric (endpoints, then all requests, then the error rate)."""
    found = [latency_data(pairs, policy, name) for name in endpoint_names(pairs)]
    found += [latency_data(pairs, policy, None), error_data(pairs, policy)]
    return [metric for metric in found if metric is not None]
