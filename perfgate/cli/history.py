"""`perfgate history list|show|prune`: look after the recorded runs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from perfgate.errors import UsageError
from perfgate.models import StoredRun
from perfgate.settings import Settings

Handler = Callable[[argparse.Namespace, Settings, TextIO], int]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    history = sub.add_parser(
        "history",
        help="list, show and prune recorded runs",
        description="Look after the history under baselines/<scenario>/runs/.",
    )
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    for name, text in (("list", "list the runs of a scenario"), ("show", "print one stored run as JSON")):
        parser = actions.add_parser(name, help=text, description=text)
        parser.add_argument("--baselines", type=Path, metavar="DIR", help="history root (default: baselines)")
        parser.add_argument("--scenario", metavar="NAME", help="scenario (default: the only one)")
        if name == "show":
            parser.add_argument("run_id", metavar="RUN_ID")
    prune = actions.add_parser(
        "prune",
        help="delete the oldest runs beyond --keep, compact older ones",
        description="Bound the history.",
    )
    prune.add_argument("--baselines", type=Path, metavar="DIR", help="history root (default: baselines)")
    prune.add_argument("--scenario", metavar="NAME", help="scenario (default: every scenario)")
    prune.add_argument("--keep", type=int, metavar="N", help="newest runs to keep (default: policy, 300)")
    prune.add_argument("--compact-after", type=int, metavar="M", help="compact runs older than the newest M")
    prune.add_argument("--policy", type=Path, metavar="FILE", help="policy file (perfgate.yml)")
    prune.add_argument("--dry-run", action="store_true", help="report what would change; touch nothing")
    trend = sub.add_parser(
        "trend",
        help="scan the whole history for change points",
        description="Scan a scenario's history (valid runs of its newest load model) for change points and "
        "name, per gated metric, the run where each change starts.",
    )
    trend.add_argument("--baselines", type=Path, metavar="DIR", help="history root (default: baselines)")
    trend.add_argument("--scenario", metavar="NAME", help="scenario (default: the only one)")
    trend.add_argument("--policy", type=Path, metavar="FILE", help="policy file (perfgate.yml)")
    trend.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (default: text; markdown: a step-summary section)",
    )
    return {"history": cmd_history, "trend": cmd_trend}


def cmd_trend(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline import analyze as pipeline

    scenario, report = pipeline.trend(_root(args, settings), args.scenario, args.policy or settings.policy)
    if args.format == "json":
        payload = {"scenario": scenario, **report.model_dump(mode="json")}
        stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    if args.format == "markdown":
        from perfgate.core.render import render_trend_markdown

        stdout.write(render_trend_markdown(scenario, report))
        return 0
    changes = [(m, cp) for m in report.metrics for cp in m.change_points]
    stdout.write(
        f"{scenario}: {report.runs} runs scanned, {len(changes)} change point(s) ({report.penalty_rule})\n"
    )
    for metric, point in changes:
        ratio = f"×{point.change_ratio:.2f}" if point.change_ratio is not None else "from 0"
        stdout.write(
            f"  {metric.metric} {metric.stat}: {point.classification} {ratio} starting at run {point.run_id} "
            f"({point.mean_before:.4g} → {point.mean_after:.4g})\n"
        )
    for notice in report.notices:
        stdout.write(f"note: {notice}\n")
    return 0


def _root(args: argparse.Namespace, settings: Settings) -> Path:
    root: Path = args.baselines or settings.baselines or Path("baselines")
    if not root.is_dir():
        raise UsageError(f"--baselines: {root} is not a directory")
    return root


def _scenario(store_scenarios: list[str], wanted: str | None) -> str:
    if wanted:
        return wanted
    if len(store_scenarios) == 1:
        return store_scenarios[0]
    known = ", ".join(store_scenarios) or "none"
    raise UsageError(f"--scenario is required (scenarios: {known})")


def _row(run: StoredRun) -> str:
    p95 = run.record.value("http_req_duration", "p(95)")
    rps = run.record.context.http_reqs_per_s
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
    from perfgate.adapters.baselines import BaselineStore
    from perfgate.adapters.policy_file import load_policy

    store = BaselineStore(_root(args, settings))
    if args.history_command == "prune":
        policy = load_policy(args.policy or settings.policy)
        keep = args.keep if args.keep is not None else policy.history.keep_runs
        compact = args.compact_after if args.compact_after is not None else policy.history.compact_after
        for scenario in [args.scenario] if args.scenario else store.scenarios():
            report = store.prune(
                scenario, keep=keep, compact_after=compact, dry_run=args.dry_run, rules=policy.rules
            )
            verb = "would delete" if args.dry_run else "deleted"
            stdout.write(
                f"{scenario}: {verb} {len(report.deleted)}, compacted {len(report.compacted)}, kept {report.kept}; "
                f"{report.bytes_before:,} → {report.bytes_after:,} bytes\n"
            )
        return 0
    scenario = _scenario(store.scenarios(), args.scenario)
    if args.history_command == "show":
        stdout.write(store.get(scenario, args.run_id).model_dump_json(indent=2) + "\n")
        return 0
    runs = store.runs(scenario)
    stdout.write(f"{scenario}: {len(runs)} runs\n")
    for run in runs:
        stdout.write(_row(run) + "\n")
    return 0
