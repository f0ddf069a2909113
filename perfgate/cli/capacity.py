"""`perfgate capacity usl FILE.csv` and `perfgate capacity RUN --slo EXPR`: capacity and failure prediction."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from perfgate.cli.options import Handler
from perfgate.cli.output import emit
from perfgate.errors import UsageError
from perfgate.paths import CAPACITY_PROFILE, NOTES_SCRIPT
from perfgate.settings import Settings

FORMATS = ("text", "markdown", "json", "html")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    parser = sub.add_parser(
        "capacity",
        help="capacity study of a ramp run (USL, digital twin, failure probability, max safe users)",
        description="`perfgate capacity usl FILE.csv` fits the Universal Scalability Law to (load, throughput) "
        "rows. `perfgate capacity RUN --slo EXPR` studies a ramp run (a run directory or its raw NDJSON/CSV "
        "points, e.g. from the capacity profile): USL with 95 % intervals, a digital twin of p95 latency scored "
        "on held-out high loads, failure probability by users, anomalous windows, and the max safe users.",
    )
    parser.add_argument(
        "subject", nargs="?", metavar="RUN|usl",
        help="run directory or raw file; `usl` to fit a CSV; leave out with --script/--start-notes-api",
    )  # fmt: skip
    parser.add_argument(
        "csv", nargs="?", type=Path, metavar="FILE.csv", help="with usl: load,throughput rows"
    )
    parser.add_argument(
        "--slo", action="append", default=[], metavar="EXPR",
        help="SLO per window, repeatable: 'p(95)<300' (ms; avg, med, p(50), p(95)) and/or 'rate<0.01' (errors); "
        "default: the policy file's ceilings",
    )  # fmt: skip
    _study_args(parser)
    _ramp_args(parser.add_argument_group("run the ramp first (instead of RUN)"))
    return {"capacity": cmd_capacity}


def _study_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, metavar="FILE", help="policy file (SLO ceilings, min runs)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="also write the output to FILE")
    parser.add_argument(
        "--report-dir", type=Path, metavar="DIR",
        help="write capacity.json, capacity.md, capacity.html (and verdict.json with --baselines) to DIR",
    )  # fmt: skip
    parser.add_argument("--window", type=float, default=2.0, metavar="S", help="window length in seconds (2)")
    parser.add_argument(
        "--holdout",
        type=float,
        default=0.25,
        metavar="F",
        help="fraction of the highest load steps held out (0.25)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed of the models (0)")
    parser.add_argument("--baselines", type=Path, metavar="DIR", help="judge capacity against this history")
    parser.add_argument("--scenario", metavar="NAME", help="history key (default: from the run)")
    parser.add_argument(
        "--record", action="store_true", help="with --baselines: store the run and its capacity"
    )


def _ramp_args(ramp: argparse._ArgumentGroup) -> None:
    ramp.add_argument("--script", type=Path, metavar="FILE", help="your k6 script (with --base-url)")
    ramp.add_argument("--base-url", metavar="URL", help="target already running at URL")
    ramp.add_argument("--start-notes-api", action="store_true", help="start the demo notes API for the run")
    ramp.add_argument(
        "--profile", type=Path, default=CAPACITY_PROFILE, metavar="FILE", help="ramp profile (capacity.yaml)"
    )
    ramp.add_argument(
        "--runs-dir", type=Path, default=Path(".perfgate/runs"), metavar="DIR", help="where run dirs go"
    )
    ramp.add_argument(
        "--timeout", type=float, default=900.0, metavar="S", help="stop k6 after S seconds (900)"
    )


def _run_ramp(args: argparse.Namespace, settings: Settings) -> Path:
    """Run the ramp profile with the user's script (or the demo app) and return its run directory."""
    from datetime import UTC, datetime

    from perfgate.pipeline import run as pipeline_run

    if args.subject is not None:
        raise UsageError("give RUN or run a ramp (--script/--base-url/--start-notes-api), not both")
    if args.start_notes_api == (args.base_url is not None):
        raise UsageError("to run a ramp give exactly one of --base-url URL or --start-notes-api")
    request = pipeline_run.RunRequest(
        profile=args.profile,
        run_dir=pipeline_run.default_run_dir(args.runs_dir, args.profile, datetime.now(UTC)),
        script=args.script or NOTES_SCRIPT,
        base_url=args.base_url,
        start_notes_api=args.start_notes_api,
        k6=settings.k6,
        timeout_s=args.timeout,
        progress=sys.stderr.isatty(),
        scenario=args.scenario,
    )
    meta = pipeline_run.run_profile(request, lambda message: print(f"perfgate: {message}", file=sys.stderr))
    print(f"perfgate: k6 finished (exit {meta.k6_exit_code}); studying {request.run_dir}", file=sys.stderr)
    return request.run_dir


def cmd_capacity(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    if args.subject == "usl":
        return _cmd_usl(args, stdout)
    if args.csv is not None:
        raise UsageError(f"unexpected argument {str(args.csv)!r}: only `capacity usl` takes a CSV file")
    if args.script or args.base_url or args.start_notes_api:
        args.subject = str(_run_ramp(args, settings))
    if args.subject is None:
        raise UsageError(
            "give RUN (a ramp run directory or raw file), `usl FILE.csv`, or --script/--start-notes-api"
        )
    if args.record and args.baselines is None:
        raise UsageError("--record needs --baselines DIR")
    from perfgate.models.capacity import CapacityRequest
    from perfgate.pipeline import capacity as pipeline
    from perfgate.pipeline.capacity_report import render_capacity, write_capacity_reports

    request = CapacityRequest(
        run=Path(args.subject),
        slo=tuple(args.slo),
        policy=args.policy or settings.policy,
        window_s=_positive(args.window, "--window"),
        holdout_fraction=_fraction(args.holdout),
        seed=args.seed,
        baselines=args.baselines,
        scenario=args.scenario,
        record=args.record,
    )
    result = pipeline.study(request)
    if args.report_dir is not None:
        written = write_capacity_reports(result, args.report_dir)
        print(f"perfgate: capacity report: {written}", file=sys.stderr)
    emit(render_capacity(result, args.format), args.output, stdout)
    regression = result.regression
    return regression.verdict.exit_code if regression is not None else 0


def _cmd_usl(args: argparse.Namespace, stdout: TextIO) -> int:
    from perfgate.core.render.capacity import usl_json, usl_markdown, usl_text
    from perfgate.models.capacity import UslRequest
    from perfgate.pipeline import capacity as pipeline

    if args.csv is None:
        raise UsageError("capacity usl needs a CSV file: perfgate capacity usl FILE.csv")
    if args.format == "html":
        raise UsageError("capacity usl prints text, markdown or json")
    fit = pipeline.fit_usl_csv(UslRequest(csv=args.csv))
    render = {"json": usl_json, "markdown": usl_markdown}.get(args.format, usl_text)
    emit(render(fit), args.output, stdout)
    return 0


def _positive(value: float, option: str) -> float:
    if not value > 0:
        raise UsageError(f"{option} must be > 0, got {value:g}")
    return value


def _fraction(value: float) -> float:
    if not 0 < value < 1:
        raise UsageError(f"--holdout must be between 0 and 1, got {value:g}")
    return value
