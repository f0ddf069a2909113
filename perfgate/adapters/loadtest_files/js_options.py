"""The inline `export const options = {...}` literal of a k6 script, read with tree-sitter.

`parse_script_options` finds the literal, evaluates it to plain Python values (what k6 would
see) and remembers where the parts perfgate rewrites live (`ScriptOptions`): every threshold
expression string and every `stages` array. Those parts, and the scenarios around them, must
be literals: a spread (`...base`), a computed key (`[name]: ...`), an identifier, a member
expression, a function call or a template with substitutions there is refused with an
`InputDataError` naming the construct, its place in `options` and its line. Elsewhere (tags,
env, anything perfgate never rewrites) such values are read as unknown (None) and left alone.
One exception inside `thresholds`: an entry whose key or expressions are not literals (a key
built from `__ENV`, as in `[`http_req_duration{name:${BASE}/post}`]`) is left out of the
options perfgate heals, kept as written, and named in `ScriptOptions.left_alone`; the other
thresholds are healed as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

from perfgate.errors import InputDataError

REWRITTEN = ("thresholds", "stages", "scenarios")
TOLERATED_IN_SCENARIO = ("env", "tags", "exec", "options")
_LANGUAGE = Language(tree_sitter_javascript.language())
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_WHAT = {
    "spread_element": "a spread",
    "computed_property_name": "a computed key",
    "identifier": "an identifier",
    "member_expression": "a member expression",
    "subscript_expression": "a subscript expression",
    "call_expression": "a function call",
    "template_string": "a template with substitutions",
    "shorthand_property_identifier": "a shorthand property",
    "method_definition": "a method",
    "binary_expression": "an expression",
    "ternary_expression": "a conditional expression",
}


class Dynamic(Exception):
    """A value that is not a literal: `node` is where, `path` its place in `options`."""

    def __init__(self, node: Node, path: tuple[str, ...]) -> None:
        self.node = node
        self.path = path
        super().__init__(node.type)


@dataclass
class ScriptOptions:
    """The evaluated options and the nodes perfgate may rewrite."""

    source: bytes
    root: Node
    options: dict[str, Any]
    thresholds: dict[tuple[str, str], Node] = field(default_factory=dict)
    stages: dict[str, Node] = field(default_factory=dict)
    left_alone: list[str] = field(default_factory=list)


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8")


def _unescape(escape: str) -> str:
    """One JS escape sequence (backslash included) as the text it stands for."""
    body = escape[1:]
    if body in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
        return ""  # a line continuation
    try:
        if body[:1] == "x" and len(body) == 3:
            return chr(int(body[1:], 16))
        if body[:1] == "u":
            return chr(int(body[1:].strip("{}"), 16))
    except ValueError:
        return body
    return _ESCAPES.get(body, body)


def string_chars(source: bytes, node: Node, path: tuple[str, ...] = ()) -> list[tuple[str, int, int, bool]]:
    """The decoded characters of a string literal, one entry per character: (char, raw start byte,
    raw end byte, literal), `literal` False for what an escape sequence stands for (a line
    continuation stands for nothing and has no entry)."""
    chars: list[tuple[str, int, int, bool]] = []
    for child in node.named_children:
        if child.type == "string_fragment":
            offset = child.start_byte
            for char in _text(source, child):
                size = len(char.encode("utf-8"))
                chars.append((char, offset, offset + size, True))
                offset += size
        elif child.type == "escape_sequence":
            decoded = _unescape(_text(source, child))
            chars.extend((char, child.start_byte, child.end_byte, False) for char in decoded)
        elif child.type == "template_substitution":
            raise Dynamic(node, path)
    return chars


def _string(source: bytes, node: Node, path: tuple[str, ...]) -> str:
    return "".join(char for char, *_ in string_chars(source, node, path))


def _number(text: str) -> float | int:
    clean = text.replace("_", "")
    if re.fullmatch(r"0[xXoObB][0-9a-fA-F]+|\d+", clean):
        return int(clean, 0)
    return float(clean)


class _Evaluator:
    def __init__(self, source: bytes, tolerate: Callable[[tuple[str, ...]], bool]) -> None:
        self.source = source
        self.tolerate = tolerate
        self.left_alone: list[str] = []

    def value(self, node: Node, path: tuple[str, ...]) -> Any:
        try:
            return self._value(node, path)
        except Dynamic as error:
            if error.path == path and self.tolerate(path):
                return None
            raise

    def _value(self, node: Node, path: tuple[str, ...]) -> Any:
        kind = node.type
        if kind == "object":
            return self._object(node, path)
        if kind == "array":
            items = [c for c in node.named_children if c.type != "comment"]
            return [self.value(child, (*path, str(index))) for index, child in enumerate(items)]
        if kind in ("string", "template_string"):
            return _string(self.source, node, path)
        if kind == "number":
            return _number(_text(self.source, node))
        if kind in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[kind]
        if kind == "unary_expression" and _text(self.source, node)[:1] in "-+":
            operand = node.named_children[0]
            if operand.type == "number":
                number = _number(_text(self.source, operand))
                return -number if _text(self.source, node).startswith("-") else number
        if kind == "parenthesized_expression":
            return self.value(node.named_children[0], path)
        raise Dynamic(node, path)

    def _object(self, node: Node, path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in node.named_children:
            if child.type == "comment":
                continue
            if child.type != "pair":
                raise Dynamic(child, path)
            if path == ("thresholds",):
                self._threshold_entry(child, out)
                continue
            key = self.key(child, path)
            value = child.child_by_field_name("value")
            if value is not None:
                out[key] = self.value(value, (*path, key))
        return out

    def _threshold_entry(self, pair: Node, out: dict[str, Any]) -> None:
        """One `metric: [expressions]` of `thresholds`; a non-literal one is left alone."""
        try:
            key = self.key(pair, ("thresholds",))
            value = pair.child_by_field_name("value")
            if value is not None:
                out[key] = self.value(value, ("thresholds", key))
        except Dynamic as error:
            what = _what(error.node)
            snippet = _text(self.source, pair).splitlines()[0][:60]
            self.left_alone.append(
                f"threshold at line {pair.start_point[0] + 1} (`{snippet}`) left as written: "
                f"{what} is not a literal perfgate can rewrite"
            )

    def key(self, pair: Node, path: tuple[str, ...]) -> str:
        key = pair.child_by_field_name("key")
        if key is None or key.type == "computed_property_name":
            raise Dynamic(key or pair, path)
        if key.type == "string":
            return _string(self.source, key, path)
        return _text(self.source, key)


def _tolerated(path: tuple[str, ...]) -> bool:
    if not path:
        return False  # a spread at the top could bring thresholds or stages
    if path[0] not in REWRITTEN:
        return True
    return path[0] == "scenarios" and len(path) >= 3 and path[2] in TOLERATED_IN_SCENARIO


def _find_options(root: Node, source: bytes) -> Node | None:
    """The value node of `export const|let|var options = ...`, or None."""
    for statement in root.named_children:
        if statement.type != "export_statement":
            continue
        for declaration in statement.named_children:
            if declaration.type not in ("lexical_declaration", "variable_declaration"):
                continue
            for declarator in declaration.named_children:
                name = declarator.child_by_field_name("name")
                if name is not None and _text(source, name) == "options":
                    return declarator.child_by_field_name("value")
    return None


def _what(node: Node) -> str:
    """The construct `node` is, in words ("a computed key")."""
    return _WHAT.get(node.type, f"a {node.type.replace('_', ' ')}")


def _refusal(path: Path, source: bytes, error: Dynamic) -> InputDataError:
    where = "options" + "".join(
        f"[{part!r}]" if not part.isidentifier() else f".{part}" for part in error.path
    )
    snippet = _text(source, error.node).splitlines()[0][:60]
    what = _what(error.node)
    return InputDataError(
        path,
        f"cannot rewrite {where}: {what} at line {error.node.start_point[0] + 1} (`{snippet}`); "
        "perfgate only rewrites literal thresholds and stages — write them as literals or edit by hand",
    )


def parse_script_options(path: Path, text: str) -> ScriptOptions:
    source = text.encode("utf-8")
    root = Parser(_LANGUAGE).parse(source).root_node
    node = _find_options(root, source)
    if node is None:
        exported = re.search(r"export\s*\{[^}]*\boptions\b", text) or re.search(
            r"\bimport\b[^;]*\boptions\b", text
        )
        detail = "options are imported or re-exported, not" if exported else "no"
        raise InputDataError(path, f"{detail} inline `export const options = {{...}}` literal to rewrite")
    evaluator = _Evaluator(source, _tolerated)
    if node.type != "object":
        raise _refusal(path, source, Dynamic(node, ()))
    try:
        options = evaluator.value(node, ())
    except Dynamic as error:
        raise _refusal(path, source, error) from None
    found = ScriptOptions(source=source, root=root, options=options, left_alone=evaluator.left_alone)
    _index(found, node, evaluator)
    return found


def _pairs(node: Node | None, evaluator: _Evaluator) -> dict[str, Node]:
    if node is None or node.type != "object":
        return {}
    pairs = [
        child
        for child in node.named_children
        if child.type == "pair"
        and getattr(child.child_by_field_name("key"), "type", None) != "computed_property_name"
    ]
    return {evaluator.key(pair, ()): pair.child_by_field_name("value") for pair in pairs}  # type: ignore[misc]


def _index(found: ScriptOptions, node: Node, evaluator: _Evaluator) -> None:
    top = _pairs(node, evaluator)
    kept = found.options.get("thresholds") or {}
    for metric, items in _pairs(top.get("thresholds"), evaluator).items():
        if metric not in kept:
            continue  # left alone (ScriptOptions.left_alone)
        for item in items.named_children if items.type == "array" else []:
            token = _pairs(item, evaluator).get("threshold") if item.type == "object" else item
            if token is not None and token.type in ("string", "template_string"):
                found.thresholds[(metric, _string(found.source, token, ()))] = token
    if top.get("stages") is not None:
        found.stages["default"] = top["stages"]
    for name, scenario in _pairs(top.get("scenarios"), evaluator).items():
        stages = _pairs(scenario, evaluator).get("stages")
        if stages is not None:
            found.stages[name] = stages
