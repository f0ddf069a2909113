"""The plain `perfgate analyze` path must not pay for libraries it does not use.

Importing openai, scikit-learn, pandas, matplotlib or scipy costs a fresh process 0.15-1 s of
start-up (bench/analyze_speed.py); they are imported where a model is fitted, a chart drawn or an
LLM asked, never at module level on the gate's path (the gate's p-values come from
core/detect/tails.py). Sub-parsers are built only for the command asked for (cli/app.py). Checked in a fresh interpreter against a real history.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfgate.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "bench" / "corpus" / "sample-run"
HEAVY = ("openai", "sklearn", "pandas", "matplotlib", "scipy")

PROBE = """
import io, json, sys
from perfgate.cli.app import main
code = main(sys.argv[1:], io.StringIO())
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read())))
cli = sorted(m for m in sys.modules if m.startswith("perfgate.cli."))
print(json.dumps({"exit": code, "heavy": heavy, "cli": cli}))
"""
# what `perfgate analyze` may load of the face: the parser's own options, nothing of other commands
ANALYZE_CLI = [
    "perfgate.cli.app",
    "perfgate.cli.load_model_args",
    "perfgate.cli.options",
    "perfgate.cli.output",
]


def probe(args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.endswith("API_KEY")},
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("import-cost") / "baselines"
    for _ in range(6):
        assert main(["record", str(SAMPLE), "--baselines", str(folder)], io.StringIO()) == 0
    return folder


def test_analyze_against_a_history_imports_no_heavy_library(history: Path) -> None:
    result = probe(["analyze", str(SAMPLE), "--baselines", str(history), "--format", "json"])
    assert result["exit"] in (0, 1)
    assert result["heavy"] == []


def test_analyze_builds_no_other_command(history: Path) -> None:
    """Sub-parsers are built for the command asked for: no other command module is imported."""
    result = probe(["analyze", str(SAMPLE), "--baselines", str(history), "--format", "json"])
    assert result["cli"] == ANALYZE_CLI


def test_the_probe_sees_another_command_built_when_help_lists_them(history: Path) -> None:
    result = probe(["--help"])
    assert result["exit"] == 0
    assert "perfgate.cli.run" in result["cli"] and "perfgate.cli.merge" in result["cli"]


def test_the_probe_sees_a_heavy_import_when_one_happens(history: Path) -> None:
    """The check can fail: --explain needs the LLM client, and the probe sees it loaded."""
    result = probe(["analyze", str(SAMPLE), "--baselines", str(history), "--format", "json", "--explain"])
    assert result["exit"] in (0, 1)
    assert "openai" in result["heavy"]
