"""`PointConsumer`: what the streaming readers (`NdjsonReader`, `CsvReader`) feed. The summary
`Aggregator` is one; `series.PointSeries` (points kept as time series) is another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from perfgate.adapters.k6_results.stats import Sink
from perfgate.models.run import MetricType


class PointConsumer(Protocol):
    def declare(
        self,
        metric: str,
        kind: MetricType,
        contains: str | None,
        thresholds: Sequence[str],
        submetrics: Mapping[str, Mapping[str, str]],
    ) -> None: ...

    def note_time(self, text: bytes) -> None: ...

    def sink(self, metric: str, tags: Mapping[str, str]) -> Sink: ...

    def flush(self) -> None: ...

    def needs_time(self, metric: str) -> bool:
        """True when each point of `metric` must reach its sink right after `note_time` of its own
        timestamp (readers may otherwise batch values and note a block's times together)."""
        ...

    def reads_url_tags(self) -> bool:
        """True when a sink depends on the text of the `name` or `url` tag, not only on the
        `routing.endpoint_name` made of them (readers may otherwise treat every request to one
        templated endpoint, `/notes/4711` and `/notes/4712`, alike)."""
        ...
