"""k6 scripts with an inline `options` literal, rewritten byte for byte.

Only the number inside a changed threshold string (and, for stage changes, the changed stage
objects) is replaced; every other byte stays, quotes, spaces and escapes included. Each changed
threshold gets a short trailing comment on the line where its string ends,
`// perfgate: p(95) history 380 ms ± 12` (several changes on one line share one comment; a
comment perfgate wrote earlier on that line is replaced, not stacked). No comment is added where
the line ends inside a string (a `\\` line continuation), a template or a block comment.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tree_sitter import Node

from perfgate.adapters.loadtest_files.common import (
    Edit,
    missing,
    number_text,
    only_limit_changes,
    stage_note,
    threshold_note,
)
from perfgate.adapters.loadtest_files.js_options import ScriptOptions, parse_script_options, string_chars
from perfgate.errors import InputDataError
from perfgate.models import HealPlan, Stage, StageChange, ThresholdChange

MARKER = "// perfgate:"


def _quoted(source: bytes, token: Node, value: str) -> str:
    quote = source[token.start_byte : token.start_byte + 1].decode()
    return f"{quote}{value}{quote}"


def _pair_value(source: bytes, node: Node, key: str) -> Node | None:
    for pair in node.named_children:
        name = pair.child_by_field_name("key") if pair.type == "pair" else None
        if name is not None and source[name.start_byte : name.end_byte].decode().strip("'\"") == key:
            return pair.child_by_field_name("value")
    return None


def _stage_text(source: bytes, item: Node, stage: Stage) -> str:
    """The stage object `item` re-written for `stage`, keeping its spacing, quotes and other keys."""
    edits = []
    duration, target = _pair_value(source, item, "duration"), _pair_value(source, item, "target")
    if duration is not None:
        edits.append(Edit(duration.start_byte, duration.end_byte, _quoted(source, duration, stage.duration)))
    if target is not None:
        edits.append(Edit(target.start_byte, target.end_byte, number_text(stage.target)))
    return _apply_bytes(source, sorted(edits), item.start_byte, item.end_byte)


def _apply_bytes(source: bytes, edits: list[Edit], start: int = 0, end: int | None = None) -> str:
    """`source[start:end]` with byte-offset edits (sorted, non-overlapping) applied, as text."""
    out, cursor = bytearray(), start
    for edit in edits:
        out += source[cursor : edit.start] + edit.replacement.encode("utf-8")
        cursor = edit.end
    out += source[cursor : len(source) if end is None else end]
    return out.decode("utf-8")


def _stage_edits(found: ScriptOptions, path: Path, change: StageChange) -> tuple[list[Edit], int]:
    """Byte edits for one stage change and the row its comment goes on."""
    source, array = found.source, found.stages.get(change.scenario)
    if array is None or array.type != "array":
        raise missing(path, f"the stages of scenario {change.scenario!r}", sorted(found.stages))
    items = [child for child in array.named_children if child.type != "comment"]
    if change.stage >= len(items) or items[change.stage].type != "object":
        raise missing(path, f"stage {change.stage} of scenario {change.scenario!r}")
    item = items[change.stage]
    if change.kind == "remove_stage":
        end = items[change.stage + 1].start_byte if change.stage + 1 < len(items) else item.end_byte
        start = item.start_byte if change.stage + 1 < len(items) else items[change.stage - 1].end_byte
        return [Edit(start, end, "")], array.start_point[0]
    line_start = source.rfind(b"\n", 0, item.start_byte) + 1
    prefix = source[line_start : item.start_byte]
    separator = ",\n" + prefix.decode("utf-8") if prefix.strip() == b"" else ", "
    text = separator.join(_stage_text(source, item, stage) for stage in change.new)
    return [Edit(item.start_byte, item.end_byte, text)], item.end_point[0]


def _line_end(source: bytes, row: int) -> int:
    start = 0
    for _ in range(row):
        start = source.index(b"\n", start) + 1
    end = source.find(b"\n", start)
    end = len(source) if end < 0 else end
    return end - 1 if end > start and source[end - 1 : end] == b"\r" else end


_OPAQUE = ("string", "template_string", "comment", "regex")


def _inside_literal(found: ScriptOptions, offset: int) -> bool:
    """True when `offset` falls strictly inside a string, template, comment or regex."""
    node: Node | None = found.root.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type in _OPAQUE and node.start_byte < offset < node.end_byte:
            return not (node.type == "comment" and node.start_point[0] == node.end_point[0])
        node = node.parent
    return False


def _comment_edit(found: ScriptOptions, row: int, notes: list[str]) -> Edit | None:
    source = found.source
    end = _line_end(source, row)
    line_start = source.rfind(b"\n", 0, end) + 1
    if _inside_literal(found, end):
        return None
    line = source[line_start:end]
    marker = line.find(MARKER.encode())
    text = f"{MARKER} {'; '.join(dict.fromkeys(notes))}"
    if marker >= 0:
        return Edit(line_start + marker, end, text)
    return Edit(end, end, " " + text)


def _number_edit(found: ScriptOptions, path: Path, token: Node, change: ThresholdChange) -> Edit:
    """Replace only the limit's characters inside the string token (they must be written plainly)."""
    swap = only_limit_changes(change.old or "", change.new)
    if swap is None:
        raise missing(path, f"a threshold {change.old!r} whose limit alone changes to {change.new!r}")
    (start, end), number = swap
    chars = string_chars(found.source, token)[start:end]
    if not chars or not all(literal for *_, literal in chars):
        raise InputDataError(
            path, f"cannot rewrite threshold {change.old!r}: its number is written with escapes"
        )
    return Edit(chars[0][1], chars[-1][2], number)


def rewrite_script(path: Path, text: str, plan: HealPlan) -> str:
    found = parse_script_options(path, text)
    edits: list[Edit] = []
    notes: dict[int, list[str]] = defaultdict(list)
    for change in plan.thresholds:
        token = found.thresholds.get((change.metric, change.old or ""))
        if token is None:
            known = sorted({metric for metric, _ in found.thresholds})
            raise missing(path, f"threshold {change.old!r} of {change.metric!r}", known)
        edits.append(_number_edit(found, path, token, change))
        notes[token.end_point[0]].append(threshold_note(change))
    for stage in plan.stages:
        stage_edits, row = _stage_edits(found, path, stage)
        edits.extend(stage_edits)
        notes[row].append(stage_note(stage))
    comments = [_comment_edit(found, row, row_notes) for row, row_notes in notes.items()]
    edits += [c for c in comments if c is not None and not any(_overlap(c, e) for e in edits)]
    return _apply_bytes(found.source, sorted(edits))


def _overlap(comment: Edit, edit: Edit) -> bool:
    return comment.start < edit.end and edit.start < max(comment.end, comment.start + 1)
