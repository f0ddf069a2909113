"""Layering rules from DESIGN.md, checked on the source: core is pure, adapters never import core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "perfgate"
IMPURE_MODULES = {
    "os",
    "subprocess",
    "socket",
    "httpx",
    "requests",
    "urllib",
    "git",
    "openai",
    "shutil",
    "tempfile",
}
IMPURE_CALLS = {"open", "print", "input", "exit"}
CLOCK_ATTRS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad_imports = {name for name in _imports(tree) if name.split(".")[0] in IMPURE_MODULES}
    assert not bad_imports, f"{path.name} imports {bad_imports}"
    assert not any(name.startswith("perfgate.adapters") for name in _imports(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in IMPURE_CALLS, f"{path.name}:{node.lineno} calls {node.func.id}()"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in CLOCK_ATTRS, f"{path.name}:{node.lineno} reads the clock"


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_adapters_never_import_core(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not any(name.startswith("perfgate.core") for name in _imports(tree)), path.name


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "settings.py" and (
            "os.environ[" in text or "os.getenv(" in text or "environ.get(" in text
        ):
            offenders.append(path.relative_to(PACKAGE))
    assert not offenders, f"environment read outside settings.py: {offenders}"


def test_no_print_or_exit_below_the_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "cli" or path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", f"{path}:{node.lineno} prints"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) != ("sys", "exit"), f"{path}:{node.lineno} exits"
