"""`perfgate profile LOG... --out DIR` and `perfgate profile validate DIR --base-url URL`.

argparse cannot mix a positional LOG... with a `validate` subcommand, so the `profile` parser
hands argument lists that start with `validate` to its own validate parser.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from perfgate.cli.options import Handler
from perfgate.errors import UsageError
from perfgate.settings import Settings

_GAP = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
LOG_FORMATS = ("auto", "combined", "common", "jsonl", "csv")


class _ProfileParser(argparse.ArgumentParser):
    validate_parser: argparse.ArgumentParser

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        items = list(sys.argv[1:] if args is None else args)
        if items[:1] == ["validate"]:
            parsed, extra = self.validate_parser.parse_known_args(items[1:], namespace)
            parsed.validate = True
            return parsed, extra
        return super().parse_known_args(items, namespace)


def parse_gap(text: str) -> float:
    match = _GAP.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 30m, 90s or 1h, got {text!r}")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def _personas(text: str) -> int | None:
    if text == "auto":
        return None
    if not text.isdigit() or not 1 <= int(text) <= 20:
        raise argparse.ArgumentTypeError(f"expected auto or a number 1-20, got {text!r}")
    return int(text)


def _validate_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{prog} validate",
        description="Run DIR/loadtest.js, scaled down to fit this machine, against a target on 127.0.0.1 "
        "and compare the run with the log: request rate, endpoint mix per template, error rate, session "
        "length and think time, each within the tolerance.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="directory written by `perfgate profile`")
    parser.add_argument("--base-url", required=True, metavar="URL", help="target, http://127.0.0.1:PORT only")
    parser.add_argument("--duration", type=float, default=20.0, metavar="S", help="k6 run length (20 s)")
    parser.add_argument(
        "--max-rate", type=float, default=20.0, metavar="N", help="cap on the peak sessions/s (20)"
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.15, metavar="R", help="allowed difference (0.15)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output (default: text)")
    return parser


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    sub._parser_class = _ProfileParser
    try:
        parser = sub.add_parser(
            "profile",
            help="learn personas and arrivals from access logs and write a k6 script (also: profile validate)",
            description="Read access logs (combined, common, JSON lines or CSV; plain or .gz), sessionize, "
            "filter bots, cluster sessions into personas and write DIR/profile.json, loadtest.js, profile.yaml, "
            "assignments.csv and profile.html. `perfgate profile validate DIR --base-url URL` checks the script "
            "against a target (see its --help).",
        )
    finally:
        sub._parser_class = argparse.ArgumentParser
    assert isinstance(parser, _ProfileParser)
    parser.validate_parser = _validate_parser(parser.prog)
    parser.add_argument("logs", type=Path, nargs="+", metavar="LOG", help="access log files (.gz too)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory to write")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output (default: text)")
    parser.add_argument(
        "--personas", type=_personas, default=None, metavar="auto|N", help="number of personas"
    )
    parser.add_argument(
        "--method", choices=("kmeans", "dbscan"), default="kmeans", help="clustering (kmeans)"
    )
    parser.add_argument(
        "--session-gap", type=parse_gap, default=1800.0, metavar="30m", help="inactivity gap (default 30m)"
    )
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="auto", help="log format (auto)")
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=KEY",
        help="JSON/CSV field mapping, e.g. path=req.url (repeatable)",
    )
    parser.set_defaults(validate=False)
    return {"profile": cmd_profile}


def _fields(items: Sequence[str]) -> dict[str, str]:
    fields = {}
    for item in items:
        name, sep, key = item.partition("=")
        if not sep or not name or not key:
            raise UsageError(f"--field: expected NAME=KEY, got {item!r}")
        fields[name.strip()] = key.strip()
    return fields


def _say(message: str) -> None:
    print(f"perfgate: {message}", file=sys.stderr, flush=True)


def cmd_profile(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    if args.validate:
        return _cmd_validate(args, settings, stdout)
    from perfgate.core.render.profile_text import render_profile_text
    from perfgate.models.profile import ProfileRequest
    from perfgate.pipeline.profile import build_profile

    request = ProfileRequest(
        logs=args.logs,
        out=args.out,
        format=args.log_format,
        fields=_fields(args.field),
        personas=args.personas,
        method=args.method,
        session_gap_s=args.session_gap,
    )
    result = build_profile(request, _say)
    if args.format == "json":
        payload: dict[str, Any] = result.profile.model_dump(mode="json")
        payload["written"] = [str(path) for path in result.written]
        import json

        stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    else:
        stdout.write(render_profile_text(result.profile))
        stdout.write("".join(f"wrote {path}\n" for path in result.written))
    return 0


def _cmd_validate(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.core.render.profile_text import render_validation_text
    from perfgate.models.profile import ValidateRequest
    from perfgate.pipeline.profile_validate import validate_profile

    request = ValidateRequest(
        profile_dir=args.dir,
        base_url=args.base_url,
        duration_s=args.duration,
        max_rate_per_s=args.max_rate,
        tolerance=args.tolerance,
        k6=settings.k6,
    )
    result = validate_profile(request, _say)
    if args.format == "json":
        stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        stdout.write(render_validation_text(result))
    return 0 if result.passed else 1
