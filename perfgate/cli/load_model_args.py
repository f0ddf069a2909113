"""`--script`, `--profile` and `-e/--env`: the same three flags, with the same meaning, on run,
record, analyze and heal (see perfgate.pipeline.load_model)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from perfgate.settings import Settings

if TYPE_CHECKING:
    from perfgate.pipeline.load_model import LoadModelSource

SCRIPT_HELP = "k6 script that produced (or runs) the result: its options are the load model (k6 inspect)"
PROFILE_HELP = "k6 options as YAML/JSON, passed to k6 with --config (scenarios, stages, thresholds)"
ENV_HELP = "variable for the script's __ENV, as k6 -e (repeatable); also given to k6 inspect"


def add_load_model_args(
    parser: argparse.ArgumentParser, *, profile: bool = True, script: bool = True
) -> None:
    if script:
        parser.add_argument("--script", type=Path, metavar="FILE.js", help=SCRIPT_HELP)
    if profile:
        parser.add_argument("--profile", type=Path, metavar="FILE", help=PROFILE_HELP)
    parser.add_argument(
        "-e", "--env", action="append", default=[], metavar="KEY=VALUE", dest="env", help=ENV_HELP
    )


def load_model_source(args: argparse.Namespace, settings: Settings) -> LoadModelSource:
    """The `LoadModelSource` the flags describe."""
    from perfgate.pipeline.load_model import LoadModelSource, check_flags, parse_env

    check_flags(getattr(args, "script", None), getattr(args, "profile", None))
    return LoadModelSource(
        script=getattr(args, "script", None),
        profile=getattr(args, "profile", None),
        env=parse_env(list(args.env)),
        k6=settings.k6,
    )
