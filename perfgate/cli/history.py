"""`perfgate history list|show|prune`: look after the recorded runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from perfgate.cli.options import Handler, add_history_options, add_output_options
from perfgate.core.render import render_trend_text
from perfgate.models import HistoryRow
from perfgate.settings import Settings

if TYPE_CHECKING:
    from perfgate.pipeline.history import HistoryRequest

ONLY_ONE = "scenario (default: the only one)"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    history = sub.add_parser(
        "history",
        help="list, show and prune recorded runs",
        description="Look after the history under baselines/<scenario>/runs/.",
    )
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    for name, text in (("list", "list the runs of a scenario"), ("show", "print one stored run as JSON")):
        parser = actions.add_parser(name, help=text, description=text)
        add_history_options(parser, scenario_help=ONLY_ONE, baselines_default="baselines", policy=False)
        if name == "show":
            parser.add_argument("run_id", metavar="RUN_ID")
    prune = actions.add_parser(
        "prune",
        help="delete the oldest runs beyond --keep, compact older ones",
        description="Bound the history.",
    )
    add_history_options(
        prune, scenario_help="scenario (default: every scenario)", baselines_default="baselines"
    )
    prune.add_argument("--keep", type=int, metavar="N", help="newest runs to keep (default: policy, 300)")
    prune.add_argument("--compact-after", type=int, metavar="M", help="compact runs older than the newest M")
    prune.add_argument("--dry-run", action="store_true", help="report what would change; touch nothing")
    trend = sub.add_parser(
        "trend",
        help="scan the whole history for change points",
        description="Scan a scenario's history (valid runs of its newest load model) for change points and "
        "name, per gated metric, the run where each change starts.",
    )
    add_history_options(trend, scenario_help=ONLY_ONE, baselines_default="baselines")
    add_output_options(
        trend,
        ("text", "json", "markdown"),
        format_help="output format (default: text; markdown: a step-summary section)",
        output=False,
    )
    return {"history": cmd_history, "trend": cmd_trend}


def _request(args: argparse.Namespace, settings: Settings) -> HistoryRequest:
    from perfgate.pipeline.history import HistoryRequest

    baselines = args.baselines or settings.baselines or Path("baselines")
    return HistoryRequest(baselines=baselines, scenario=args.scenario)


def cmd_trend(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.core.render import render_trend_markdown
    from perfgate.pipeline.history import trend

    scenario, report = trend(_request(args, settings), args.policy or settings.policy)
    if args.format == "json":
        payload = {"scenario": scenario, **report.model_dump(mode="json")}
        stdout.write(json.dumps(payload, indent=2) + "\n")
    elif args.format == "markdown":
        stdout.write(render_trend_markdown(scenario, report))
    else:
        stdout.write(render_trend_text(scenario, report))
    return 0


def history_line(run: HistoryRow) -> str:
    """One line of `history list`."""
    p95, rps = run.p95_ms, run.http_reqs_per_s
    state = "ok" if run.valid else "invalid"
    cells = [
        run.run_id.ljust(24),
        run.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
        (run.verdict or "-").ljust(11),
        state.ljust(7),
        f"{p95:8.2f} ms" if p95 is not None else "       – ms",
        f"{rps:8.1f}/s" if rps is not None else "       –/s",
        run.fingerprint or "-",
    ]
    return "  ".join(cells)


def cmd_history(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline.history import PruneRequest, list_runs, prune, show_run

    request = _request(args, settings)
    if args.history_command == "prune":
        pruning = PruneRequest(
            **request.model_dump(),
            keep=args.keep,
            compact_after=args.compact_after,
            policy=args.policy or settings.policy,
            dry_run=args.dry_run,
        )
        verb = "would delete" if args.dry_run else "deleted"
        for report in prune(pruning):
            stdout.write(
                f"{report.scenario}: {verb} {len(report.deleted)}, compacted {len(report.compacted)}, "
                f"kept {report.kept}; {report.bytes_before:,} → {report.bytes_after:,} bytes\n"
            )
        return 0
    if args.history_command == "show":
        stdout.write(show_run(request, args.run_id).model_dump_json(indent=2) + "\n")
        return 0
    scenario, runs = list_runs(request)
    stdout.write(f"{scenario}: {len(runs)} runs\n")
    for run in runs:
        stdout.write(history_line(run) + "\n")
    return 0
