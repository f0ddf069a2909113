"""Command line: the only place that prints results and turns errors into exit codes.

Exit codes (DESIGN.md): 0 every verdict but `regression`; 1 `regression`; 2 usage error;
3 bad input data; 4 an external tool or service failed; 70 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from perfgate import __version__
from perfgate.cli.load_model_args import add_load_model_args, load_model_source
from perfgate.cli.options import add_history_options, add_output_options
from perfgate.cli.output import emit as _emit
from perfgate.errors import PerfgateError, UsageError
from perfgate.settings import Settings, load_settings


def _add_analyze_args(parser: argparse.ArgumentParser) -> None:
    add_history_options(parser)
    add_output_options(parser)
    parser.add_argument(
        "--record", action="store_true", help="append this run to the history after analysing"
    )
    parser.add_argument("--run-id", metavar="ID", help="run id to record under (default: timestamp + suffix)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="add a plain-words explanation (a model's with PERFGATE_LLM_API_KEY/OPENAI_API_KEY, "
        "else perfgate's own); never changes the verdict or the exit code",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command`, only that command's group is built (and imported).

    A command of another module (`COMMAND_MODULES`) costs its module's imports, so `main` builds
    just the one asked for; `--help` and an unknown command build them all.
    """
    parser = argparse.ArgumentParser(
        prog="perfgate",
        description="A self-healing performance gate for k6: tells real regressions from noise.",
        epilog="Exit codes: 0 ok (any verdict but regression), 1 regression, 2 usage, 3 bad input, "
        "4 external tool failed, 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"perfgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    if command not in COMMAND_MODULES:
        _add_own_parsers(sub)
    for module in _command_modules(command):
        COMMANDS.update(module.add_parsers(sub))
    return parser


def _add_own_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyze = sub.add_parser(
        "analyze",
        help="analyse a k6 result against the history",
        description="Analyse a k6 result (summary export, handleSummary JSON, machine-readable summary, "
        "NDJSON or CSV raw output, or a perfgate run directory) against the history.",
    )
    analyze.add_argument("result", type=Path, metavar="RESULT", help="k6 result file or run directory")
    analyze.add_argument(
        "repeats",
        type=Path,
        nargs="*",
        metavar="REPEAT",
        help="more results of the same code and profile (k6 re-runs): pooled with RESULT, which divides "
        "the candidate's noise by √(runs) on a noisy runner; --record stores each run",
    )
    _add_analyze_args(analyze)
    add_load_model_args(analyze)

    record = sub.add_parser(
        "record", help="append one run to the history", description="Store RESULT as a run."
    )
    record.add_argument("result", type=Path, metavar="RESULT", help="k6 result file or run directory")
    add_history_options(
        record,
        scenario_help="scenario (default: the run's own, else the only one, else 'default')",
        required=True,
        policy=False,
    )
    record.add_argument("--run-id", metavar="ID", help="run id (default: timestamp + random suffix)")
    add_load_model_args(record)

    schemas = sub.add_parser("schemas", help="write the JSON Schemas of perfgate's files and outputs")
    schemas.add_argument(
        "--out", type=Path, metavar="DIR", help="directory to write (default: print an index)"
    )


OWN_COMMANDS = ("analyze", "record", "schemas")  # built here, importing no other cli module
# The command groups in modules of their own, by command name (tests/test_cli.py checks the table
# against what each module registers). Order: as `perfgate --help` lists them.
COMMAND_MODULES: dict[str, str] = {
    "run": "run",
    "demo": "run",
    "history": "history",
    "trend": "history",
    "explain": "explain",
    "heal": "heal",
    "action": "action",
    "compare": "compare",
    "capacity": "capacity",
    "profile": "profile",
    "init": "init",
    "merge": "merge",
}


def _command_modules(command: str | None = None) -> list[Any]:
    """The modules to build: the one holding `command`; all for None or an unknown command."""
    if command in OWN_COMMANDS:
        return []
    own = COMMAND_MODULES.get(command or "")
    names = [own] if own else list(COMMAND_MODULES.values())
    return [importlib.import_module(f"perfgate.cli.{name}") for name in dict.fromkeys(names)]


def requested_command(argv: Sequence[str]) -> str | None:
    """The command word of `argv` (top-level options take no value), or None when help is asked first."""
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):
            return word
    return None


def _use_color(stream: TextIO, settings: Settings) -> bool:
    return not settings.no_color and stream.isatty()


def cmd_analyze(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline.analyze import AnalyzeRequest, analyze, record_analysis
    from perfgate.pipeline.reports import render_report

    if args.explain and args.format in ("junit", "html"):
        raise UsageError("--explain works with --format text, markdown or json")
    if args.record and args.run_id and args.repeats:
        raise UsageError("--run-id names one run: leave it out when recording repeats")
    request = AnalyzeRequest(
        result=args.result,
        baselines=args.baselines or settings.baselines,
        scenario=args.scenario,
        policy=args.policy or settings.policy,
        repeats=tuple(args.repeats),
        load_model=load_model_source(args, settings),
    )
    now = datetime.now(UTC)
    analysis = analyze(request, today=now.date())
    explanation = None
    if args.explain:
        from perfgate.pipeline.explain import explain_analysis  # openai costs ~0.3 s of start-up

        explanation = explain_analysis(analysis, settings)
    color = _use_color(stdout, settings) and args.output is None
    text = render_report(analysis, args.format, today=now.date(), color=color, explanation=explanation)
    if args.record and analysis.verdict.verdict == "broken":
        print("perfgate: not recorded: a broken run is never a baseline", file=sys.stderr)
    elif args.record:
        for stored, folder in record_analysis(analysis, now=now, run_id=args.run_id):
            print(f"recorded run {stored.run_id} in {folder}", file=sys.stderr)
    _emit(text, args.output, stdout)
    return analysis.verdict.exit_code


def cmd_record(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline.analyze import record_result

    now = datetime.now(UTC)
    model = load_model_source(args, settings)
    stored, folder = record_result(
        args.result, args.baselines, args.scenario, now=now, run_id=args.run_id, model=model
    )
    state = "" if stored.valid else f" (invalid: {stored.invalid_reason}; not used as a baseline)"
    stdout.write(f"recorded run {stored.run_id} in {folder}{state}\n")
    return 0


def cmd_schemas(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.schemas import SCHEMAS, write_schemas

    if args.out is None:
        for name in sorted(SCHEMAS):
            stdout.write(f"{name}\n")
        return 0
    for path in write_schemas(args.out):
        stdout.write(f"wrote {path}\n")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, TextIO], int]] = {
    "analyze": cmd_analyze,
    "record": cmd_record,
    "schemas": cmd_schemas,
}


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    parser = build_parser(requested_command(sys.argv[1:] if argv is None else argv))
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and (getattr(args, "command", None) != "analyze" or any(e.startswith("-") for e in extra)):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if extra:  # `analyze RESULT --format json REPEAT`: repeats may follow the options too
            args.repeats = [*args.repeats, *map(Path, extra)]
    except SystemExit as exc:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args, load_settings(), out)
    except PerfgateError as exc:
        print(f"perfgate: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("perfgate: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: show it in full, but never let it look like a verdict
        traceback.print_exc()
        print(
            "perfgate: internal error (exit 70); this is a bug in perfgate, not a regression", file=sys.stderr
        )
        return 70


def _one_line(message: str, limit: int = 600) -> str:
    """The error on one bounded line: an excerpt of hostile input can never flood the log."""
    flat = " ".join(message.splitlines())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def main_entry() -> None:
    sys.exit(main())
