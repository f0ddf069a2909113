"""The face: argparse, one shared option set, exit codes, printing. Nothing else.

`perfgate.cli.app` builds the parser and runs a command; one module per command group beside it.
"""

from perfgate.cli.app import build_parser, main, main_entry

__all__ = ["build_parser", "main", "main_entry"]
