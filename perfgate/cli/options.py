"""The options the commands share, defined once with one meaning each.

    --baselines DIR   the folder that holds the scenario folders (`baselines/`); the folder of one
                      scenario (`baselines/notes-smoke`, the one with `runs/`) names that scenario
    --scenario NAME   which scenario folder (each command says its default)
    --policy FILE     the policy file (perfgate.yml); default: $PERFGATE_POLICY, else built-in rules
    --format FMT      what is printed
    --output FILE     also write what is printed to FILE

An absent --baselines/--policy falls back to $PERFGATE_BASELINES/$PERFGATE_POLICY (`Settings`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from perfgate.settings import FORMATS, Settings

# What every command module's `add_parsers` maps a command name to: (args, settings, stdout) -> exit code.
Handler = Callable[[argparse.Namespace, Settings, TextIO], int]
# The formats of the commands that print one report in words (compare, explain).
WORDS_FORMATS = ("text", "markdown", "json")

BASELINES_HELP = "folder holding the scenario folders (baselines/), or one scenario's folder"


def add_history_options(
    parser: argparse.ArgumentParser,
    *,
    scenario_help: str = "scenario (default: the run's own, else the only one)",
    baselines_default: str = "",
    required: bool = False,
    policy: bool = True,
) -> None:
    """--baselines, --scenario and (unless `policy` is False) --policy."""
    default = f" (default: {baselines_default})" if baselines_default else ""
    parser.add_argument(
        "--baselines", type=Path, metavar="DIR", required=required, help=BASELINES_HELP + default
    )
    parser.add_argument("--scenario", metavar="NAME", help=scenario_help)
    if policy:
        add_policy_option(parser)


def add_policy_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy file (perfgate.yml); default: built-in"
    )


def add_output_options(
    parser: argparse.ArgumentParser,
    formats: Sequence[str] = FORMATS,
    *,
    format_help: str = "output format (default: text)",
    output: bool = True,
) -> None:
    """--format (default text) and, unless `output` is False, --output."""
    parser.add_argument("--format", choices=formats, default="text", help=format_help)
    if output:
        parser.add_argument("--output", type=Path, metavar="FILE", help="also write the report to FILE")
