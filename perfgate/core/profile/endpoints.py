"""The endpoint list of a profile: the most requested templates kept, the long tail folded into
their first path segment (`GET /blog/*`), each with a k6 `name` tag and example paths."""

from __future__ import annotations

from collections import Counter

from perfgate.core.profile.sessions import Vocabulary
from perfgate.core.profile.templates import collapse_key, tag_name
from perfgate.models.profile import Endpoint

MAX_KEPT = 40
MIN_SHARE = 0.002
_EXAMPLES = 8


def final_keys(vocabulary: Vocabulary) -> list[str]:
    """For each vocabulary id, the endpoint key it is reported under."""
    total = max(sum(vocabulary.counts), 1)
    ranked = sorted(range(len(vocabulary.keys)), key=lambda i: (-vocabulary.counts[i], vocabulary.keys[i]))
    kept = {
        i for rank, i in enumerate(ranked) if rank < MAX_KEPT and vocabulary.counts[i] / total >= MIN_SHARE
    }
    return [key if i in kept else collapse_key(key) for i, key in enumerate(vocabulary.keys)]


def build_endpoints(vocabulary: Vocabulary, keys: list[str]) -> list[Endpoint]:
    counts: Counter[str] = Counter()
    examples: dict[str, Counter[str]] = {}
    for i, key in enumerate(keys):
        counts[key] += vocabulary.counts[i]
        examples.setdefault(key, Counter()).update(vocabulary.examples[i])
    names: set[str] = set()
    endpoints = []
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        name = tag_name(key)
        while name in names:
            name += "_"
        names.add(name)
        static = key.startswith("static:")
        method, _, template = ("GET", "", key) if static else key.partition(" ")
        endpoints.append(
            Endpoint(
                key=key,
                method=method,
                template=template,
                name=name,
                static=static,
                requests=counts[key],
                examples=[path for path, _ in examples[key].most_common(_EXAMPLES)],
            )
        )
    return endpoints
