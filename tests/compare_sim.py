"""Simulated paired comparisons for the stopping-rule tests: seeded numpy, no k6.

A half's requests are log-normal around each endpoint's median, times a half-wide factor (the
runner's contention in that half: every endpoint of the half moves together), plus a linear
drift over time. ABBA order as `perfgate compare` runs it. `heavy` draws the half factor from a
Student t with 2 degrees of freedom (rare, large contention spikes) instead of a normal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perfgate.core.compare.estimate import latency_pair_effect
from perfgate.core.compare.gates import LATENCY, MetricData, PairData
from perfgate.models.compare import EndpointSamples, HalfSamples, PairSamples
from perfgate.models.policy import MetricRule, Policy

ENDPOINTS = {"a": 3.0, "b": 8.0, "c": 25.0}
RULE = Policy().rule_for(f"{LATENCY}{{name:a}}")
assert RULE is not None


@dataclass(frozen=True)
class World:
    half_sigma: float = 0.05  # log-scale sd of a half's contention factor
    request_sigma: float = 0.5  # log-scale sd of one request's latency
    drift_per_half: float = 0.0  # log-scale drift from one half to the next
    heavy: bool = False
    requests: int = 60  # per endpoint per half
    slower: dict[str, float] = field(default_factory=dict)  # head's latency ratio per endpoint


def _half_factor(rng: np.random.Generator, world: World) -> float:
    if world.heavy:
        return float(world.half_sigma * rng.standard_t(2))
    return float(rng.normal(0.0, world.half_sigma))


def simulate(world: World, pairs: int, seed: int) -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per pair, per endpoint: (base latencies, head latencies) in ms."""
    rng = np.random.default_rng(seed)
    out = []
    for index in range(1, pairs + 1):
        order = ("base", "head") if index % 2 else ("head", "base")
        factors = {}
        for slot, arm in enumerate(order):
            factors[arm] = _half_factor(rng, world) + world.drift_per_half * (2 * (index - 1) + slot)
        pair = {}
        for name, median in ENDPOINTS.items():
            values = {}
            for arm in ("base", "head"):
                level = (
                    np.log(median)
                    + factors[arm]
                    + (np.log(world.slower.get(name, 1.0)) if arm == "head" else 0)
                )
                values[arm] = np.exp(level + rng.normal(0.0, world.request_sigma, world.requests))
            pair[name] = (values["base"], values["head"])
        out.append(pair)
    return out


def metric_data(
    pairs: list[dict[str, tuple[np.ndarray, np.ndarray]]], name: str, rule: MetricRule = RULE
) -> MetricData:
    """One endpoint's `MetricData`, as `gates.latency_data` builds it, without the pydantic round trip."""
    data = tuple(
        PairData(latency_pair_effect(base, head), tuple(base.tolist()), tuple(head.tolist()))
        for base, head in (pair[name] for pair in pairs)
    )
    return MetricData(f"{LATENCY}{{name:{name}}}", "ms", rule, data)


def pair_samples(pairs: list[dict[str, tuple[np.ndarray, np.ndarray]]]) -> list[PairSamples]:
    """The same pairs as the models `perfgate compare` builds from k6's raw points."""

    def half(arm: str, pair: dict[str, tuple[np.ndarray, np.ndarray]]) -> HalfSamples:
        slot = 0 if arm == "base" else 1
        endpoints = {
            n: EndpointSamples(latency_ms=tuple(v[slot].tolist()), failed=0) for n, v in pair.items()
        }
        return HalfSamples(arm=arm, endpoints=endpoints)  # type: ignore[arg-type]

    return [PairSamples(index=i, base=half("base", p), head=half("head", p)) for i, p in enumerate(pairs, 1)]
