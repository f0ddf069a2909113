"""`perfgate run` (k6 with a profile, then analyse) and `perfgate demo` (the whole job on defaults)."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from perfgate.cli.load_model_args import add_load_model_args, load_model_source
from perfgate.cli.options import Handler, add_history_options, add_output_options
from perfgate.errors import UsageError
from perfgate.models import BROKEN_EXIT_CODES, K6_EXIT_MEANINGS
from perfgate.paths import BUNDLED_BASELINES, BUNDLED_PROFILE, NOTES_SCRIPT
from perfgate.settings import Settings

if TYPE_CHECKING:
    from perfgate.pipeline.analyze import Analysis
    from perfgate.pipeline.run import RunRequest

_FAULT_RE = re.compile(r"^[a-z_]+=[0-9]+(\.[0-9]+)?$")


def _fault_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fault-latency",
        action="append",
        default=[],
        metavar="ENDPOINT=MS",
        help="with --start-notes-api: extra latency on one endpoint, e.g. search_notes=25 (repeatable)",
    )
    parser.add_argument(
        "--fault-errors",
        action="append",
        default=[],
        metavar="ENDPOINT=RATE",
        help="with --start-notes-api: fraction of 500s on one endpoint, e.g. update_note=0.03 (repeatable)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    add_history_options(parser, scenario_help="scenario (default: <script>-<profile>)")
    add_output_options(parser, output=False)
    parser.add_argument("--record", action="store_true", help="append the run to the history afterwards")
    parser.add_argument(
        "--runs-dir", type=Path, default=Path(".perfgate/runs"), metavar="DIR", help="where run dirs go"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, metavar="S", help="stop k6 after S seconds (900)"
    )
    _fault_args(parser)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    run = sub.add_parser(
        "run",
        help="run a k6 script (its own options, or a profile's), then analyse the run",
        description="Run the real k6 with --script FILE.js (its own options, or a --profile's) against a "
        "target, write a run directory (summary, raw points, run-meta.json, resources) and analyse it.",
    )
    add_load_model_args(run)
    target = run.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--base-url", metavar="URL", help="your service, running at URL (the script gets BASE_URL)"
    )
    target.add_argument(
        "--start-notes-api", action="store_true", help="start target_app on 127.0.0.1 for the run"
    )
    run.add_argument(
        "--target-pid", type=int, metavar="PID", help="with --base-url: sample this process's CPU and memory"
    )
    run.add_argument(
        "--target-cmd",
        metavar="COMMAND",
        help="with --base-url: start this command (split like a shell, never run by one), wait until "
        "--health-url answers 200, sample it, stop it afterwards",
    )
    run.add_argument(
        "--health-url", metavar="URL", help="with --target-cmd: health URL (default: --base-url)"
    )
    run.add_argument(
        "--raw", choices=("ndjson.gz", "ndjson", "csv", "none"), default="ndjson.gz", help="raw output"
    )
    run.add_argument(
        "--segments",
        type=int,
        metavar="N",
        help="split the test into N equal parts (k6 execution segments), one runner each; combine the "
        "parts' run directories with `perfgate merge` (a part is not analysed on its own)",
    )
    run.add_argument("--segment", type=int, metavar="I", help="with --segments: run part I (1..N)")
    _common(run)
    demo = sub.add_parser(
        "demo",
        help="notes API + real k6 smoke run + analysis against baselines/ + report",
        description="The whole job on embedded defaults: start the notes API, run the smoke profile, analyse "
        "against baselines/, print the verdict and write the report.",
    )
    demo.add_argument(
        "--profile", type=Path, default=BUNDLED_PROFILE, metavar="FILE", help="profile (default: smoke)"
    )
    demo.set_defaults(env=[])
    _common(demo)
    demo.set_defaults(baselines=None)
    return {"run": cmd_run, "demo": cmd_demo}


def _faults(args: argparse.Namespace) -> dict[str, str]:
    faults = {}
    for option, values, env in (
        ("--fault-latency", args.fault_latency, "NOTES_FAULT_LATENCY_MS"),
        ("--fault-errors", args.fault_errors, "NOTES_FAULT_ERROR_RATE"),
    ):
        for value in values:
            if not _FAULT_RE.match(value):
                raise UsageError(f"{option}: expected ENDPOINT=NUMBER, got {value!r}")
        if values:
            faults[env] = ",".join(values)
    return faults


def _say(message: str) -> None:
    print(f"perfgate: {message}", file=sys.stderr, flush=True)


def _run_and_report(args: argparse.Namespace, settings: Settings, stdout: TextIO, *, start_api: bool) -> int:
    from perfgate.pipeline.analyze import AnalyzeRequest
    from perfgate.pipeline.reports import render_report
    from perfgate.pipeline.run import RunRequest, run_and_analyze

    now = datetime.now(UTC)
    faults = _faults(args)
    if faults and not start_api:
        raise UsageError("--fault-latency/--fault-errors need --start-notes-api")
    script = NOTES_SCRIPT if args.command == "demo" else args.script
    source = load_model_source(args, settings)
    segment = _segment(args)
    run_dir = _run_dir(args, script, now, segment)
    request = RunRequest(
        profile=args.profile,
        run_dir=run_dir,
        script=script,
        base_url=None if start_api else args.base_url,
        env=source.env,
        target_pid=getattr(args, "target_pid", None),
        target_cmd=tuple(shlex.split(args.target_cmd)) if getattr(args, "target_cmd", None) else (),
        health_url=getattr(args, "health_url", None),
        start_notes_api=start_api,
        faults=faults,
        k6=settings.k6,
        timeout_s=args.timeout,
        raw_output=getattr(args, "raw", "ndjson.gz"),
        progress=sys.stderr.isatty(),
        scenario=args.scenario,
        segment=segment,
    )
    if segment is not None:
        return _run_part(request, segment, stdout)
    history = AnalyzeRequest(
        result=run_dir,
        baselines=args.baselines or settings.baselines,
        scenario=args.scenario,
        policy=args.policy or settings.policy,
    )
    analysis = run_and_analyze(request, history, now=now, say=_say)
    color = stdout.isatty() and not settings.no_color
    stdout.write(render_report(analysis, args.format, today=now.date(), color=color))
    if args.record:
        _record(analysis, now)
    _say(f"report: {run_dir / 'report.html'} (also report.md, verdict.json, junit.xml beside it)")
    return analysis.verdict.exit_code


def _run_dir(
    args: argparse.Namespace, script: Path | None, now: datetime, segment: tuple[int, int] | None
) -> Path:
    from perfgate.pipeline.run import default_run_dir

    run_dir = default_run_dir(args.runs_dir, args.profile or script or Path("run"), now)
    if segment is None:
        return run_dir
    return run_dir.with_name(f"{run_dir.name}-part{segment[0] + 1}of{segment[1]}")


def _run_part(request: RunRequest, segment: tuple[int, int], stdout: TextIO) -> int:
    """One part of a split test: run, never analysed alone (`perfgate merge` joins the parts)."""
    from perfgate.pipeline.run import run_profile

    meta = run_profile(request, _say)
    _say(
        f"k6 finished part {segment[0] + 1} of {segment[1]} (exit {meta.k6_exit_code}) in {meta.wall_s:.1f} s"
    )
    stdout.write(f"{request.run_dir}\n")
    if meta.k6_exit_code in BROKEN_EXIT_CODES:
        _say(
            f"a broken part: k6 exited {meta.k6_exit_code} ({K6_EXIT_MEANINGS[meta.k6_exit_code]}); see k6.log"
        )
        return 1
    _say("a part is not analysed alone: merge every part with `perfgate merge PART... --out DIR`")
    return 0


def _record(analysis: Analysis, now: datetime) -> None:
    from perfgate.pipeline.analyze import record_analysis

    if analysis.verdict.verdict == "broken":
        _say("not recorded: a broken run is never a baseline")
        return
    for stored, folder in record_analysis(analysis, now=now):
        _say(f"recorded run {stored.run_id} in {folder}")


def _segment(args: argparse.Namespace) -> tuple[int, int] | None:
    count, index = getattr(args, "segments", None), getattr(args, "segment", None)
    if count is None and index is None:
        return None
    if count is None or index is None:
        raise UsageError("--segments N and --segment I go together (part I of N)")
    if args.record:
        raise UsageError("--record with --segments: record the merged run (perfgate merge, then record)")
    from perfgate.pipeline.run import check_segment

    return check_segment(index, count)


def cmd_run(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    return _run_and_report(args, settings, stdout, start_api=args.start_notes_api)


def cmd_demo(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    if args.baselines is None:
        args.baselines = BUNDLED_BASELINES
    return _run_and_report(args, settings, stdout, start_api=True)
