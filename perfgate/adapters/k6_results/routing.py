"""Which metric keys one raw point feeds (its *signature*).

Every point feeds its metric's own key. Besides, as k6 sub-metrics would select them:
- `http_req_duration`, `http_req_failed`, `http_reqs`: `{name:X}` and `{stage:S}`;
- `http_req_duration{expected_response:true}` (k6 always reports it);
- `checks{check:X}`;
- every sub-metric k6 declared in the NDJSON `Metric` line (`submetrics`, e.g. the
  `{method:POST,status:201}` of a threshold), matched on all its tags.
Two internal cells are fed too: a stage cell per (scenario, stage) for `StageStats`
and a check cell per (group, check) for `CheckResult`.

Untagged requests: k6's default `name` tag is the request's URL. When `name` equals `url`, the
name used is the URL's path with ids templated (`http://host/notes/4711?x=1` → `/notes/{id}`:
numbers, UUIDs and long hex or mixed-digit tokens become `{id}`; the query is left out), so an
untagged script still gets per-endpoint evidence, stable from run to run.

Keys are only made when they survive `MetricKey.parse` unchanged (a `,` inside a tag
value cannot be written as a k6 selector), and at most `max_names` distinct `name`
values are split out, so an untagged dynamic URL cannot make thousands of keys: the
requests of later names are folded into one `{name:(other)}` key (and the run says so).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from perfgate.models.run import MetricKey, templated_path

OTHER_NAME = "(other)"
SPLIT_BY_NAME_AND_STAGE = frozenset({"http_req_duration", "http_req_failed", "http_reqs"})
STAGE_CELL_METRICS = SPLIT_BY_NAME_AND_STAGE


def endpoint_name(tags: Mapping[str, str]) -> str | None:
    """The request's `name`; k6's default (the URL itself) as a templated path (module docstring)."""
    name = tags.get("name")
    if name is None or name != tags.get("url"):
        return name
    return _templated(name)


@functools.lru_cache(maxsize=64)  # a request's points come one after another, each asking
def _templated(url: str) -> str:
    return templated_path(url)


@dataclass(frozen=True, order=True)
class StageCell:
    scenario: str
    stage: int


@dataclass(frozen=True, order=True)
class CheckCell:
    group: str
    name: str


Target = str | StageCell | CheckCell
Signature = tuple[Target, ...]


def selector(name: str, tags: Mapping[str, str] | None = None) -> str | None:
    """`name{k:v,...}` with tags sorted, or None when k6's selector syntax cannot hold it."""
    key = MetricKey(name, tuple(sorted((tags or {}).items())))
    text = str(key)
    try:
        return text if MetricKey.parse(text) == key else None
    except ValueError:
        return None


@dataclass
class Router:
    """Computes signatures; remembers declared sub-metrics and the `name` values seen."""

    max_names: int = 200
    declared: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=dict)
    names: dict[str, None] = field(default_factory=dict)  # in the order first seen
    refused: int = 0  # tag sets whose name came after `max_names` others
    url_tags_declared: bool = False  # a declared sub-metric selects on `name` or `url` itself
    _read: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def declare(self, metric: str, submetrics: Mapping[str, Mapping[str, str]]) -> None:
        """Sub-metrics (selector text → its tags), from an NDJSON `Metric` line or a script's
        thresholds; added to those already declared for the metric."""
        found = self.declared.setdefault(metric, [])
        for tags in submetrics.values():
            key = selector(metric, tags)
            if key is not None and all(key != known for known, _ in found):
                found.append((key, dict(tags)))
                self.url_tags_declared |= bool({"name", "url"} & set(tags))
        self._read.pop(metric, None)

    def projection(self, metric: str, tags: Mapping[str, str]) -> tuple[str | None, ...]:
        """What `signature` reads of `tags`: points with equal projections share a signature,
        however many other tags differ (a raw URL per request is one endpoint name)."""
        read = self._read.get(metric)
        if read is None:
            read = self._read[metric] = self._tags_read(metric)
        endpoint = endpoint_name(tags) if metric in SPLIT_BY_NAME_AND_STAGE else None
        return (endpoint, *[tags.get(tag) for tag in read])

    def _tags_read(self, metric: str) -> tuple[str, ...]:
        read = {tag for _, wanted in self.declared.get(metric, ()) for tag in wanted}
        if metric in SPLIT_BY_NAME_AND_STAGE:
            read |= {"stage", "scenario"}
        if metric == "http_req_duration":
            read.add("expected_response")
        if metric == "checks":
            read |= {"check", "group"}
        return tuple(sorted(read))

    def signature(self, metric: str, tags: Mapping[str, str]) -> Signature:
        base = selector(metric)
        targets: set[Target] = {base} if base is not None else set()
        if metric in SPLIT_BY_NAME_AND_STAGE:
            targets.update(self._name_and_stage(metric, tags))
        if metric == "http_req_duration" and tags.get("expected_response") == "true":
            targets.add(f"{metric}{{expected_response:true}}")
        if metric == "checks" and "check" in tags:
            targets.add(CheckCell(tags.get("group", ""), tags["check"]))
            targets.update(_some(selector(metric, {"check": tags["check"]})))
        for key, wanted in self.declared.get(metric, ()):
            if all(tags.get(tag) == value for tag, value in wanted.items()):
                targets.add(key)
        return tuple(sorted(targets, key=_order))

    def _name_and_stage(self, metric: str, tags: Mapping[str, str]) -> list[Target]:
        found: list[Target] = []
        name = endpoint_name(tags)
        if name is not None:
            if name in self.names or len(self.names) < self.max_names:
                self.names[name] = None
            else:
                self.refused += 1
                name = OTHER_NAME
            found.extend(_some(selector(metric, {"name": name})))
        stage = tags.get("stage")
        if stage is not None:
            found.extend(_some(selector(metric, {"stage": stage})))
            scenario = tags.get("scenario")
            if scenario is not None and stage.isdigit() and metric in STAGE_CELL_METRICS:
                found.append(StageCell(scenario, int(stage)))
        return found


def _some(key: str | None) -> list[Target]:
    return [] if key is None else [key]


def _order(target: Target) -> tuple[int, str]:
    return (0, target) if isinstance(target, str) else (1, repr(target))
