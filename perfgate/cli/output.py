"""Printing a command's output, and writing the same text to `--output FILE` when asked."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO


def emit(text: str, output: Path | None, stdout: TextIO) -> None:
    stdout.write(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
