"""The GitHub Actions expression language, as far as perfgate's action and workflows use it.

`evaluate("inputs.mode == 'nightly'", contexts)`, `interpolate("${{ inputs.x }}-y", contexts)`,
`condition(step_if, contexts, failed)`: `==`, `!=`, `&&`, `||`, `!`, parentheses,
string/number/boolean/null literals, `always()`, `success()`, `failure()`, `cancelled()`,
`contains()`, `startsWith()`; string comparison ignores case, like the runner's; an `if:` without
a status function means `success() && (...)`. Used by `action_harness.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*))"
)
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_STATUS = re.compile(r"\b(always|success|failure|cancelled)\s*\(")


def _lookup(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if str(k).lower() == key.lower():
                return v
    return None


def to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_num(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _equal(a: Any, b: Any) -> bool:
    """The runner's loose equality: strings ignore case; mixed types compare as numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b):
        return bool(a == b)
    return _to_num(a) == _to_num(b)


class Expression:
    """Recursive descent over the runner's expression subset; `status` answers success()/failure()."""

    def __init__(self, text: str, contexts: Mapping[str, Any], failed: bool) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.contexts = contexts
        self.failed = failed

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise ValueError(f"cannot parse expression at {text[pos:]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def evaluate(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos][1]!r} in expression")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if value not in (None, False, "", 0) else right
        return value

    def _and(self) -> Any:
        value = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            value = right if value not in (None, False, "", 0) else value
        return value

    def _not(self) -> Any:
        if self._peek() == "!":
            self._take()
            return self._not() in (None, False, "", 0)
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            same = _equal(left, self._primary())
            return same if op == "==" else not same
        return left

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            return self._call(text)
        value: Any = self.contexts
        for part in text.split("."):
            value = _lookup(value, part)
        return value

    def _call(self, name: str) -> Any:
        self._take("(")
        args = []
        while self._peek() != ")":
            args.append(self._or())
            if self._peek() == ",":
                self._take()
        self._take(")")
        functions: dict[str, Callable[..., Any]] = {
            "always": lambda: True,
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "cancelled": lambda: False,
            "contains": lambda a, b: to_str(b).casefold() in to_str(a).casefold(),
            "startsWith": lambda a, b: to_str(a).casefold().startswith(to_str(b).casefold()),
        }
        return functions[name](*args)


def evaluate(text: str, contexts: Mapping[str, Any], failed: bool = False) -> Any:
    return Expression(text, contexts, failed).evaluate()


def interpolate(text: str, contexts: Mapping[str, Any], failed: bool = False) -> str:
    return _TEMPLATE.sub(lambda m: to_str(evaluate(m.group(1), contexts, failed)), str(text))


def condition(text: str | None, contexts: Mapping[str, Any], failed: bool) -> bool:
    expr = str(text).strip() if text not in (None, "") else "success()"
    match = _TEMPLATE.fullmatch(expr)
    expr = match.group(1).strip() if match else expr
    if not _STATUS.search(expr):
        expr = f"success() && ({expr})"
    return evaluate(expr, contexts, failed) not in (None, False, "", 0)
