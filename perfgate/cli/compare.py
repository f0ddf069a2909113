"""`perfgate compare`: base and head measured in turn on this runner (paired mode)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from pydantic import ValidationError

from perfgate.cli.options import WORDS_FORMATS, Handler, add_output_options, add_policy_option
from perfgate.errors import UsageError
from perfgate.models.compare import CompareRequest
from perfgate.settings import Settings

FORMATS = WORDS_FORMATS


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    parser = sub.add_parser(
        "compare",
        help="run k6 against base and head in turn (ABBA) until the change is decided",
        description="Paired mode: run the same k6 load against BASE and HEAD alternately (ABBA), keep each "
        "half's raw points, and after every pair test each gated metric (per-endpoint and overall latency, "
        "error rate). Stops once every metric is decided or at --max-pairs; `unsure` is an honest verdict. "
        "Writes compare.json, report.md and report.html into --out-dir.",
    )
    parser.add_argument(
        "--base-url", required=True, metavar="URL", help="the base build, e.g. http://127.0.0.1:8001"
    )
    parser.add_argument(
        "--head-url", required=True, metavar="URL", help="the head build (the change under test)"
    )
    parser.add_argument(
        "--script", type=Path, required=True, metavar="FILE", help="k6 script (reads __ENV.BASE_URL)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="load model of each half (default: 4 VUs for 5 s)"
    )
    parser.add_argument("--min-pairs", type=int, default=2, metavar="N", help="pairs before any decision (2)")
    parser.add_argument(
        "--max-pairs", type=int, default=10, metavar="N", help="stop here, unsure if need be (10)"
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        metavar="P",
        help="false-alarm rate over all metrics and pairs (0.05)",
    )
    add_policy_option(parser)
    add_output_options(parser, FORMATS, output=False)
    parser.add_argument("--out-dir", type=Path, metavar="DIR", help="default: .perfgate/compare/<timestamp>")
    parser.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="stop one half's k6 after S s"
    )
    return {"compare": cmd_compare}


def _check_url(option: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option}: expected an http(s) URL such as http://127.0.0.1:8000, got {url!r}")
    return url


def _request(args: argparse.Namespace, settings: Settings) -> CompareRequest:
    if not args.script.is_file():
        raise UsageError(f"--script: no such file: {args.script}")
    out_dir = args.out_dir or Path(".perfgate/compare") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        return CompareRequest(
            base_url=_check_url("--base-url", args.base_url),
            head_url=_check_url("--head-url", args.head_url),
            script=args.script,
            profile=args.profile,
            policy=args.policy or settings.policy,
            min_pairs=args.min_pairs,
            max_pairs=args.max_pairs,
            alpha=args.alpha,
            out_dir=out_dir,
            k6=settings.k6,
            timeout_s=args.timeout,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = (
            "--" + "-".join(str(part) for part in error["loc"]).replace("_", "-")
            if error["loc"]
            else "options"
        )
        raise UsageError(f"{field}: {error['msg']}") from None


def _say(message: str) -> None:
    print(f"perfgate: {message}", file=sys.stderr, flush=True)


def cmd_compare(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.core.render.compare import render_compare_json, render_compare_markdown, render_compare_text
    from perfgate.pipeline.compare import run_compare

    request = _request(args, settings)
    result = run_compare(request, _say)
    render = {"json": render_compare_json, "markdown": render_compare_markdown}.get(
        args.format, render_compare_text
    )
    stdout.write(render(result))
    _say(f"report: {request.out_dir / 'report.html'} (also report.md, compare.json); {result.wall_s:.0f} s")
    return result.exit_code
