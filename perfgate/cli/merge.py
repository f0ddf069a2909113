"""`perfgate merge PART... --out DIR`: one run from the parts of a split load test."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from perfgate.cli.options import Handler
from perfgate.settings import Settings


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    merge = sub.add_parser(
        "merge",
        help="merge the parts of a split load test (execution segments, k6-operator) into one run",
        description="Combine the raw points of several k6 processes that ran one test (perfgate run "
        "--segments, or a k6-operator TestRun's runners) into one run directory: counters summed, rates "
        "by counts, gauges by time, trend percentiles exact over the union of all points; the thresholds "
        "are evaluated once on the whole test. analyze, record and heal then read DIR like any run.",
    )
    merge.add_argument(
        "parts", nargs="+", type=Path, metavar="PART", help="a run directory or a raw NDJSON/CSV file (gz ok)"
    )
    merge.add_argument("--out", type=Path, required=True, metavar="DIR", help="new run directory to write")
    merge.add_argument(
        "--script",
        type=Path,
        metavar="FILE.js",
        help="the k6 script: every threshold, sub-metrics included, comes from its options (k6 inspect); "
        "without it only the thresholds k6 wrote into the NDJSON are evaluated",
    )
    merge.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a variable the script reads from __ENV",
    )
    merge.add_argument(
        "--exact-points",
        type=int,
        default=10_000_000,
        metavar="N",
        help="a trend metric keeps up to N points for exact percentiles (default 10,000,000, 8 bytes "
        "each); past N its med and p(N) come from an HDR histogram, within 0.1 %%, and the notes say so",
    )
    merge.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    return {"merge": cmd_merge}


def cmd_merge(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.core.render.merge import render_merge_text
    from perfgate.models.merge import MergeRequest
    from perfgate.pipeline.load_model import parse_env
    from perfgate.pipeline.merge import merge

    request = MergeRequest(
        parts=tuple(args.parts),
        out=args.out,
        script=args.script,
        env=parse_env(args.env),
        exact_points=args.exact_points,
    )
    result = merge(request)
    stdout.write(
        result.model_dump_json(indent=2) + "\n" if args.format == "json" else render_merge_text(result)
    )
    return 1 if result.crossed or result.broken else 0
