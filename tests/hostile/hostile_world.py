"""Shared pieces of the hostile suite: real k6 samples, a case runner, a tree snapshot.

A case runs `perfgate.cli.main` in-process on files it wrote under `tmp_path` and returns the
exit code and stderr; `snapshot(root)` lists every file with its bytes so a case can assert
that nothing was written.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

from perfgate.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "k6"
EXPORT = json.loads((FIXTURES / "basic.summary-export.json").read_text())
HANDLE = json.loads((FIXTURES / "handle-summary.compact.json").read_text())
MACHINE = json.loads((FIXTURES / "machine-summary.v1.json").read_text())
NDJSON = (FIXTURES / "basic.excerpt.ndjson").read_text()
CSV = (FIXTURES / "basic.excerpt.csv").read_text()
MAX_ERROR_CHARS = 400  # an error quotes at most a short excerpt of the input


def run_cli(argv: Sequence[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), stdout=io.StringIO())
    return code, err.getvalue()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def assert_clean_error(code: int, stderr: str) -> None:
    """No traceback, and every line short: the input is quoted only as an excerpt."""
    assert "Traceback" not in stderr, stderr[-2000:]
    assert code != 70, stderr[-2000:]
    assert all(len(line) <= MAX_ERROR_CHARS for line in stderr.splitlines()), stderr[:2000]
