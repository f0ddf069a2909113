"""Docs that stay true (sqlite-utils' test_docs): every command and option is in the README."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from perfgate.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    commands = []
    for name, sub in _subparsers(build_parser()).items():
        nested = _subparsers(sub)
        if nested:
            commands += [(f"{name} {child}", parser) for child, parser in nested.items()]
        else:
            commands.append((name, sub))
    return commands


COMMANDS = _commands()


@pytest.mark.parametrize(("command", "parser"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_every_command_and_option_is_documented(command: str, parser: argparse.ArgumentParser) -> None:
    assert f"perfgate {command}" in README, f"README does not mention `perfgate {command}`"
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in README, f"README does not document {option} of `perfgate {command}`"


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    lines = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert lines == ["make demo", "make test"]
