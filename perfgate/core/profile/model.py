"""From closed sessions to a `TrafficProfile`, in two passes over the sessions.

Pass 1 (`Collector.take`, streaming): totals, bots, the arrival counts, and a seeded reservoir of
non-bot feature rows to fit the clusters on. Between passes: endpoints, `fit_clusters`, names.
Pass 2 (`PersonaBuilder.add`, streaming): every session labelled and tallied into its persona.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import numpy as np

from perfgate.core.profile.arrival import ArrivalCounter, compute_arrival
from perfgate.core.profile.cluster import ClusterFit
from perfgate.core.profile.features import FEATURES, bot_reason, scale_ready, session_features
from perfgate.core.profile.personas import PersonaBuilder, Reservoir, describe_centroid, unique_names
from perfgate.core.profile.sessions import Session
from perfgate.models.profile import (
    Clustering,
    Endpoint,
    FileReport,
    Filtered,
    Persona,
    TrafficProfile,
)

BOT = "bot"
SAMPLE_SIZE = 20_000


class Collector:
    """Pass 1 over closed sessions (see the module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.sessions = self.requests = self.errors = 0
        self.gap_sum, self.gap_count = 0.0, 0
        self.first, self.last = float("inf"), float("-inf")
        self.first_start, self.last_start = float("inf"), float("-inf")
        self.bots: Counter[str] = Counter()
        self.bot_requests = 0
        self.arrivals = ArrivalCounter()
        self._sample: Reservoir[list[float]] = Reservoir(self.rng, SAMPLE_SIZE)

    def take(self, session: Session) -> tuple[str | None, list[float] | None]:
        """Count one session; returns its bot reason (None for a person) and, for a person, its features."""
        self.sessions += 1
        self.requests += session.requests
        self.errors += session.errors
        self.gap_sum += sum(session.gaps_s)
        self.gap_count += len(session.gaps_s)
        self.first, self.last = min(self.first, session.start), max(self.last, session.end)
        self.first_start = min(self.first_start, session.start)
        self.last_start = max(self.last_start, session.start)
        self.arrivals.add(session.start, "all")
        reason = bot_reason(session)
        if reason is not None:
            self.bots[reason] += 1
            self.bot_requests += session.requests
            return reason, None
        features = session_features(session)
        self._sample.add(features)
        return None, features

    @property
    def sample(self) -> list[list[float]]:
        """A uniform sample of the people's feature rows (at most SAMPLE_SIZE)."""
        return self._sample.values


def cluster_names(fit: ClusterFit, sample: Sequence[Sequence[float]]) -> dict[int, tuple[str, str]]:
    """Label → (name, description), from the raw feature means of the sampled members.

    Labels are ranked by size (then by label), so names are stable and suffixes go to the smaller.
    """
    raw = np.asarray(sample, dtype=float).reshape(-1, len(FEATURES))
    labels = fit.predict(scale_ready(sample)) if len(raw) else np.zeros(0, dtype=np.int64)
    order = sorted(range(max(fit.k, 1)), key=lambda label: (-int((labels == label).sum()), label))
    described = []
    for label in order:
        members = raw[labels == label]
        means = members.mean(axis=0) if len(members) else np.zeros(len(FEATURES))
        described.append(describe_centroid(dict(zip(FEATURES, map(float, means), strict=True))))
    names = unique_names([name for name, _ in described])
    return {label: (names[i], described[i][1]) for i, label in enumerate(order)}


def clustering_report(fit: ClusterFit, sampled: int) -> Clustering:
    return Clustering(
        method="dbscan" if fit.method == "dbscan" else "kmeans",
        k=fit.k,
        features=list(FEATURES),
        scores={key: round(value, 4) for key, value in fit.scores.items()},
        chosen_by=fit.chosen_by,
        sampled_sessions=sampled,
    )


def assemble_profile(
    *,
    collector: Collector,
    builder: PersonaBuilder,
    names: dict[int, tuple[str, str]],
    fit: ClusterFit,
    endpoints: list[Endpoint],
    files: list[FileReport],
    session_gap_s: float,
) -> TrafficProfile:
    arrival = compute_arrival(collector.arrivals, collector.first_start, collector.last_start)
    personas: list[Persona] = []
    for label, (name, description) in names.items():
        if str(label) in builder.tallies:
            persona = builder.build(str(label), collector.sessions, name, arrival.observed_s)
            personas.append(persona.model_copy(update={"description": description}))
    personas.sort(key=lambda persona: (-persona.share, persona.name))
    bot = None
    if BOT in builder.tallies:
        bot = builder.build(BOT, collector.sessions, BOT, arrival.observed_s)
        bot = bot.model_copy(update={"description": "crawlers and bots (user agent or behaviour)"})
    bot_sessions = sum(collector.bots.values())
    return TrafficProfile(
        files=files,
        requests=collector.requests,
        sessions=collector.sessions,
        session_gap_s=session_gap_s,
        endpoints=endpoints,
        personas=personas,
        bot=bot,
        filtered=Filtered(
            bot_sessions=bot_sessions,
            bot_requests=collector.bot_requests,
            bot_share=bot_sessions / max(collector.sessions, 1),
            by_reason=dict(sorted(collector.bots.items())),
        ),
        clustering=clustering_report(fit, len(collector.sample)),
        arrival=arrival,
        request_rate_per_s=collector.requests / max(collector.last - collector.first, 1.0),
        session_rate_per_s=collector.sessions / max(sum(arrival.observed_s), 1.0),
        error_rate=collector.errors / max(collector.requests, 1),
        think_time_mean_s=collector.gap_sum / max(collector.gap_count, 1),
        session_length_mean=collector.requests / max(collector.sessions, 1),
    )
