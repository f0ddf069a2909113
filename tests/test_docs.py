"""Docs that stay true (sqlite-utils' test_docs): every command and option is in the README."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from perfgate.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


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
    assert f"perfgate {command}" in README or command.startswith("action "), (
        f"README lacks `perfgate {command}`"
    )
    if command.startswith("action "):
        return  # the action's internal steps: documented through action.yml's inputs (below)
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in README, f"README does not document {option} of `perfgate {command}`"


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    lines = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert lines == ["make demo", "make test"]


def test_every_action_input_and_output_is_documented() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert "perfgate action" in README
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in README, f"README does not document the action's `{name}`"


def test_the_readme_policy_example_is_a_valid_policy() -> None:
    from perfgate.adapters.policy_file import parse_policy

    block = README.split("## The policy file")[1].split("```yaml")[1].split("```")[0]
    policy = parse_policy(block, source="README.md")
    assert policy.rules[0].ceiling == 800
    assert policy.acknowledgements[0].metric == "http_req_duration{name:search_notes}"
    assert policy.healing.mode == "off"
