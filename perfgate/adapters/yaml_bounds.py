"""`check_yaml_bounds`: refuse YAML bombs before any loader builds (or later expands) them.

Anchors and aliases are legitimate (a thresholds list shared with `*fast`), so they are
allowed; what is bounded is what they cost. One pass over PyYAML's event stream (its parser
keeps an explicit state stack, so 5,000-deep nesting does not recurse) counts, for every
node, the nodes it stands for once aliases are expanded. A billion-laughs document (586
bytes, 9^9 nodes expanded) is refused as soon as the count passes `MAX_EXPANDED_NODES`,
nesting deeper than `MAX_DEPTH` and text longer than `MAX_BYTES` likewise: each within a few
milliseconds and with memory bounded by the text.
"""

from __future__ import annotations

import re

import yaml

from perfgate.errors import InputDataError

MAX_BYTES = 1 << 20  # a profile or policy file is a few KB
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 100_000
MAX_ALIASES = 10_000
_BRACKETS = re.compile(r"[\[\]{}]")


def check_yaml_bounds(text: str, source: object) -> None:
    """Raise `InputDataError(source, ...)` when the YAML is too big, too deep or expands too far."""
    if len(text) > MAX_BYTES:
        raise InputDataError(source, f"YAML of {len(text)} characters: more than {MAX_BYTES >> 10} KB")
    if _flow_depth(text) > MAX_DEPTH:  # PyYAML's scanner is quadratic on deep flow nesting
        raise InputDataError(source, f"YAML nested deeper than {MAX_DEPTH} levels")
    try:
        _walk(text, source)
    except yaml.YAMLError:
        return  # a syntax error: the loader reports it with its line


def _flow_depth(text: str) -> int:
    """The deepest `[`/`{` nesting, counting brackets anywhere (an over-estimate inside quotes)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _walk(text: str, source: object) -> None:
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    stack: list[tuple[str | None, int]] = [(None, 0)]  # (anchor, nodes so far) per open collection
    aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append((event.anchor, 1))
            if len(stack) - 1 > MAX_DEPTH:
                raise InputDataError(source, f"YAML nested deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, count = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, count = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise InputDataError(source, f"YAML with more than {MAX_ALIASES} aliases")
            anchor, count = None, sizes.get(str(event.anchor), 1)
        else:
            continue
        if anchor is not None:
            sizes[anchor] = count
        parent_anchor, total = stack[-1]
        total += count
        if total > MAX_EXPANDED_NODES:
            raise InputDataError(
                source, f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (a YAML bomb?)"
            )
        stack[-1] = (parent_anchor, total)
