"""Load-test files perfgate heals: YAML/JSON profiles and k6 scripts with inline options.

    file = load_loadtest_file(path)            # text + the k6 options it holds
    rewrite = rewrite_loadtest_file(file, plan)  # new text + unified diff; nothing written
    save_loadtest_file(path, rewrite.text)     # atomic

Every rewriter changes values only (see `yaml_profile`, `json_profile`, `js_script`). Any
problem is an `InputDataError` naming the file (exit 3), raised before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from perfgate.adapters.loadtest_files.common import unified_diff, write_text_atomic
from perfgate.adapters.loadtest_files.js_options import parse_script_options
from perfgate.adapters.loadtest_files.js_script import rewrite_script
from perfgate.adapters.loadtest_files.json_profile import rewrite_json
from perfgate.adapters.loadtest_files.yaml_profile import rewrite_yaml
from perfgate.adapters.profiles import parse_profile_text
from perfgate.errors import InputDataError
from perfgate.models import HealPlan

FileKind = Literal["yaml", "json", "js"]
KINDS: dict[str, FileKind] = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".js": "js", ".mjs": "js"}


@dataclass(frozen=True)
class LoadtestFile:
    path: Path
    kind: FileKind
    text: str
    options: dict[str, Any]
    left_alone: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rewrite:
    text: str
    diff: str

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def file_kind(path: Path) -> FileKind:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise InputDataError(
            path, f"not a profile (.yaml, .yml, .json) or k6 script (.js, .mjs): {path.suffix!r}"
        )
    return kind


def load_loadtest_file(path: Path) -> LoadtestFile:
    """Read a profile or script and the k6 options it holds."""
    kind = file_kind(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(path, f"cannot read: {exc}") from exc
    if kind == "js":
        found = parse_script_options(path, text)
        return LoadtestFile(path, kind, text, found.options, left_alone=tuple(found.left_alone))
    options = parse_profile_text(text, source=path, json_format=kind == "json")
    return LoadtestFile(path=path, kind=kind, text=text, options=options)


def rewrite_loadtest_file(file: LoadtestFile, plan: HealPlan) -> Rewrite:
    """The file's text with the plan applied, and its diff (empty when the plan changes nothing)."""
    if not plan.changed:
        return Rewrite(text=file.text, diff="")
    rewriters = {"yaml": rewrite_yaml, "json": rewrite_json, "js": rewrite_script}
    text = rewriters[file.kind](file.path, file.text, plan)
    return Rewrite(text=text, diff=unified_diff(file.text, text, file.path.name))


def save_loadtest_file(path: Path, text: str) -> None:
    write_text_atomic(path, text)


__all__ = [
    "FileKind",
    "LoadtestFile",
    "Rewrite",
    "file_kind",
    "load_loadtest_file",
    "rewrite_loadtest_file",
    "save_loadtest_file",
    "unified_diff",
]
