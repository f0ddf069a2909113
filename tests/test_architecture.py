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


# ---- the import graph: face → pipeline → adapters/core → models, no cycle ------------------------

FACE_MAY_IMPORT = ("cli", "pipeline", "models", "errors", "settings", "schemas", "paths", "core.render")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _perfgate_imports(path: Path) -> set[str]:
    """Every perfgate module `path` imports, at the top or inside a function; `from pkg import mod`
    counts as an import of `pkg.mod` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("perfgate"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("perfgate"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: _perfgate_imports(path) - {name} for name, path in MODULES.items()}


def _layer(module: str) -> str:
    return module.removeprefix("perfgate.").split(".")[0] if module != "perfgate" else ""


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) == "cli"))
def test_the_face_imports_only_the_pipeline_models_and_renderers(module: str) -> None:
    allowed = tuple(f"perfgate.{name}" for name in FACE_MAY_IMPORT)
    bad = {name for name in GRAPH[module] if name != "perfgate" and not name.startswith(allowed)}
    assert not bad, f"{module} reaches past the pipeline: {sorted(bad)}"


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    bad = {
        (module, name)
        for module, names in GRAPH.items()
        for name in names
        if _layer(name) == "cli" and _layer(module) != "cli" and module != "perfgate.__main__"
    }
    assert not bad, f"imports of perfgate.cli from below it: {sorted(bad)}"


def _find_cycle() -> list[str] | None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for name in sorted(GRAPH.get(module, ())):
            cycle = visit(name, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(GRAPH):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_no_import_cycle_in_perfgate() -> None:
    """Module-level and function-level imports alike; a package's `__init__` counts as a module."""
    assert _find_cycle() is None, " → ".join(_find_cycle() or [])


def test_the_graph_sees_function_level_imports() -> None:
    assert "perfgate.pipeline.analyze" in GRAPH["perfgate.cli.app"]  # imported inside cmd_analyze


LONG_MODULE_LINES = 300


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_long_module_says_why_at_its_top(path: Path) -> None:
    """Modules of about 300 lines or fewer; a longer one gives its reason in its docstring."""
    text = path.read_text(encoding="utf-8")
    if len(text.splitlines()) <= LONG_MODULE_LINES:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert f"over {LONG_MODULE_LINES} lines" in docstring, f"{path.name} is long: say why in its docstring"
