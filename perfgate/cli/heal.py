"""`perfgate heal`: rewrite a profile's thresholds and stages from the evidence, print the diff.

Exit codes: 0 whenever the command did its job, including a plan that was refused (the
candidate is a regression, or `--verify` rejected the plan): `heal` is not the gate, and the
refusal is printed (text) or carried in `refused` (JSON). 2 usage, 3 bad input (profile,
result, baselines, policy; nothing is written), 4 k6/git/GitHub failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from perfgate.cli.load_model_args import add_load_model_args, load_model_source
from perfgate.cli.options import Handler, add_history_options, add_output_options
from perfgate.errors import UsageError
from perfgate.settings import Settings

if TYPE_CHECKING:
    from perfgate.models import Explanation
    from perfgate.pipeline.heal import HealOutcome


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    heal = sub.add_parser(
        "heal",
        help="rewrite a profile's thresholds/stages from the history and print the diff",
        description="Propose new k6 thresholds and stages from the history (each with its evidence), "
        "write them into the --profile FILE (YAML/JSON), or without a profile into the --script's inline "
        "options, and print the unified diff. Never heals while the --result run is a regression.",
    )
    add_load_model_args(heal)
    add_history_options(
        heal,
        scenario_help="scenario (default: the result's own, else the one named after FILE, else the only one)",
    )
    heal.add_argument(
        "--result", type=Path, metavar="RESULT", help="candidate run: healing is refused on a regression"
    )
    heal.add_argument("--dry-run", action="store_true", help="print the diff; write nothing")
    heal.add_argument(
        "--verify", action="store_true", help="re-run k6 with the healed profile; keep it only if it passes"
    )
    heal.add_argument(
        "--publish", choices=("commit", "pr"), help="commit the healed file, or open/update one PR"
    )
    add_output_options(
        heal, ("text", "json"), format_help="text (the diff) or the HealPlan JSON", output=False
    )
    heal.add_argument(
        "--timeout", type=float, default=900.0, metavar="S", help="--verify: stop k6 after S seconds"
    )
    heal.add_argument(
        "--explain",
        action="store_true",
        help="with --result: explain the verdict and the plan in words (never changes either)",
    )
    return {"heal": cmd_heal}


def _say(message: str) -> None:
    sys.stderr.write(f"perfgate: {message}\n")
    sys.stderr.flush()


def cmd_heal(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.core.render.explanation import render_explanation_text
    from perfgate.core.render.heal import render_heal_text, render_publish_line
    from perfgate.pipeline.heal import HealRequest, heal, require_baselines

    if args.publish and args.dry_run:
        raise UsageError("--publish and --dry-run exclude each other")
    if args.explain and args.result is None:
        raise UsageError("--explain needs --result RESULT (the run whose verdict is explained)")
    request = HealRequest(
        profile=args.profile,
        baselines=require_baselines(args.baselines or settings.baselines),
        scenario=args.scenario,
        result=args.result,
        policy=args.policy or settings.policy,
        script=args.script,
        env=load_model_source(args, settings).env,
        dry_run=args.dry_run,
        verify=args.verify,
        k6=settings.k6,
        timeout_s=args.timeout,
    )
    outcome = heal(request, today=datetime.now(UTC).date(), say=_say)
    if args.publish and outcome.written:
        from perfgate.pipeline.publish import publish_heal  # deferred, as the LLM client below

        healed = request.healed_file
        _say(
            render_publish_line(
                publish_heal(healed, outcome.plan, args.publish, settings, original=outcome.original)
            )
        )
    explanation = _explain(outcome, settings) if args.explain else None
    if args.format == "json":
        data = outcome.plan.model_dump(mode="json")
        if explanation is not None:
            data["explanation"] = explanation.model_dump(mode="json")
        stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        plan, diff = outcome.plan, outcome.rewrite.diff
        stdout.write(render_heal_text(plan, diff, written=outcome.written, verified=outcome.verified))
        if explanation is not None:
            stdout.write("\n" + render_explanation_text(explanation))
    return 0


def _explain(outcome: HealOutcome, settings: Settings) -> Explanation | None:
    from perfgate.pipeline.explain import explain_heal  # deferred: the LLM client costs ~1 s of start-up

    return explain_heal(outcome, settings)
