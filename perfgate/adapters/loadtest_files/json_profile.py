"""JSON profiles, rewritten in place: only the changed values' characters move.

A small scanner (`scan`) finds where every value of the document starts and ends; a changed
threshold replaces its string token, a changed stage its object (or the object's `duration` and
`target` tokens), so indentation, key order, spacing and one-line arrays stay as they were.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfgate.adapters.loadtest_files.common import (
    Edit,
    apply_edits,
    limit_span,
    missing,
    number_text,
    only_limit_changes,
)
from perfgate.errors import InputDataError
from perfgate.models import HealPlan, Stage, StageChange

_WS = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LITERALS = ("true", "false", "null")


@dataclass
class Node:
    """One JSON value: its span, its parsed value and, for containers, its children."""

    start: int
    end: int
    value: Any
    items: list[Node] = field(default_factory=list)
    keys: dict[str, Node] = field(default_factory=dict)


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def scan(text: str, pos: int = 0) -> Node:
    """The value starting at `pos` (after whitespace). Raises ValueError on bad JSON."""
    pos = _skip(text, pos)
    char = text[pos : pos + 1]
    if char in ("{", "["):
        return _container(text, pos)
    match = _STRING.match(text, pos) if char == '"' else _NUMBER.match(text, pos)
    if match is None:
        literal = next((word for word in _LITERALS if text.startswith(word, pos)), None)
        if literal is None:
            raise ValueError(f"unexpected {char!r} at offset {pos}")
        return Node(pos, pos + len(literal), json.loads(literal))
    return Node(pos, match.end(), json.loads(match.group()))


def _container(text: str, pos: int) -> Node:
    closing = "}" if text[pos] == "{" else "]"
    node = Node(pos, pos, {} if closing == "}" else [])
    pos = _skip(text, pos + 1)
    while text[pos : pos + 1] != closing:
        if closing == "}":
            key = scan(text, pos)
            pos = _skip(text, key.end)
            if text[pos : pos + 1] != ":":
                raise ValueError(f"expected ':' at offset {pos}")
            child = scan(text, pos + 1)
            node.keys[key.value] = child
            node.value[key.value] = child.value
        else:
            child = scan(text, pos)
            node.items.append(child)
            node.value.append(child.value)
        pos = _skip(text, child.end)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
        elif text[pos : pos + 1] != closing:
            raise ValueError(f"expected ',' or {closing!r} at offset {pos}")
    node.end = pos + 1
    return node


def rewrite_json(path: Path, text: str, plan: HealPlan) -> str:
    try:
        root = scan(text)
    except (ValueError, IndexError) as exc:
        raise InputDataError(path, f"JSON syntax error: {exc}") from exc
    edits = [
        _threshold_edit(path, text, root, change.metric, change.old or "", change.new)
        for change in plan.thresholds
    ]
    for change in plan.stages:
        edits.extend(_stage_edits(path, text, _stages(path, root, change.scenario), change))
    return apply_edits(text, edits)


def _limit_edit(text: str, token: Node, old: str, new: str) -> Edit:
    """Only the limit's digits when the token spells them plainly (escapes elsewhere in the string,
    such as k6 inspect's `\u003c`, stay as written); else the whole string re-encoded."""
    swap = only_limit_changes(old, new)
    raw = text[token.start + 1 : token.end - 1]
    at = limit_span(raw)
    if swap is not None and at is not None and raw[at[0] : at[1]] == old[swap[0][0] : swap[0][1]]:
        return Edit(token.start + 1 + at[0], token.start + 1 + at[1], swap[1])
    return Edit(token.start, token.end, json.dumps(new))


def _threshold_edit(path: Path, text: str, root: Node, metric: str, old: str, new: str) -> Edit:
    thresholds = root.keys.get("thresholds")
    items = thresholds.keys.get(metric) if thresholds is not None else None
    if items is None:
        raise missing(path, f"threshold metric {metric!r}", list(thresholds.keys) if thresholds else [])
    for item in items.items:
        token = item.keys.get("threshold") if isinstance(item.value, dict) else item
        if token is not None and token.value == old:
            return _limit_edit(text, token, old, new)
    raise missing(path, f"threshold {old!r}", [str(item.value) for item in items.items])


def _stages(path: Path, root: Node, scenario: str) -> Node:
    node = root.keys.get("stages") if scenario == "default" else None
    if node is None:
        scenarios = root.keys.get("scenarios")
        chosen = scenarios.keys.get(scenario) if scenarios is not None else None
        node = chosen.keys.get("stages") if chosen is not None else None
    if node is None or not isinstance(node.value, list):
        raise missing(path, f"the stages of scenario {scenario!r}")
    return node


def _stage_text(text: str, item: Node, stage: Stage) -> str:
    """The stage object `item` re-written for `stage`, keeping its spacing and other keys."""
    edits = []
    for key, value in (("duration", json.dumps(stage.duration)), ("target", number_text(stage.target))):
        token = item.keys.get(key)
        if token is not None:
            edits.append(Edit(token.start - item.start, token.end - item.start, value))
    return apply_edits(text[item.start : item.end], edits)


def _stage_edits(path: Path, text: str, stages: Node, change: StageChange) -> list[Edit]:
    if change.stage >= len(stages.items):
        raise missing(path, f"stage {change.stage} of scenario {change.scenario!r}")
    item = stages.items[change.stage]
    if change.kind == "remove_stage":
        following = stages.items[change.stage + 1] if change.stage + 1 < len(stages.items) else None
        if following is not None:
            return [Edit(item.start, following.start, "")]
        previous = stages.items[change.stage - 1]
        return [Edit(previous.end, item.end, "")]
    line_start = text.rfind("\n", 0, item.start) + 1
    prefix = text[line_start : item.start]
    separator = ",\n" + prefix if prefix.strip() == "" else ", "
    return [
        Edit(item.start, item.end, separator.join(_stage_text(text, item, stage) for stage in change.new))
    ]
