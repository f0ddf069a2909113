"""`perfgate explain RESULT --baselines DIR`: the verdict, then an explanation in plain words.

Off unless asked for. With an API key (PERFGATE_LLM_API_KEY or OPENAI_API_KEY) a model explains
the evidence; without one, or when the service fails, perfgate explains it itself. The verdict
and the exit code are the analyzer's either way.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from perfgate.core.explain import Explanation, render_explanation_markdown, render_explanation_text
from perfgate.core.render import render_markdown, render_text
from perfgate.core.render.sections import ACK_DAYS
from perfgate.models import Verdict
from perfgate.settings import Settings

Handler = Callable[[argparse.Namespace, Settings, TextIO], int]
FORMATS = ("text", "markdown", "json")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    explain = sub.add_parser(
        "explain",
        help="analyse a k6 result and explain the verdict in plain words",
        description="Analyse RESULT against the history and explain the evidence. With an API key "
        "(PERFGATE_LLM_API_KEY or OPENAI_API_KEY; PERFGATE_LLM_BASE_URL or OPENAI_BASE_URL for "
        "another OpenAI-compatible server) a model writes the words; it never changes the verdict.",
    )
    explain.add_argument("result", type=Path, metavar="RESULT", help="k6 result file or run directory")
    explain.add_argument("--baselines", type=Path, metavar="DIR", help="history root or one scenario's dir")
    explain.add_argument("--scenario", metavar="NAME", help="history key (default: from the run)")
    explain.add_argument("--policy", type=Path, metavar="FILE", help="policy file (perfgate.yml)")
    explain.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    explain.add_argument("--output", type=Path, metavar="FILE", help="also write the report to FILE")
    return {"explain": cmd_explain}


def render_with_explanation(
    verdict: Verdict, explanation: Explanation, fmt: str, *, today: date, color: bool = False
) -> str:
    """The verdict's report with the explanation under it; JSON gains an `explanation` object."""
    if fmt == "json":
        data = verdict.model_dump(mode="json")
        data["explanation"] = explanation.model_dump(mode="json")
        return json.dumps(data, indent=2) + "\n"
    ack = today + timedelta(days=ACK_DAYS)
    if fmt == "markdown":
        return render_markdown(verdict, ack_until=ack, explanation=render_explanation_markdown(explanation))
    return render_text(verdict, color=color, ack_until=ack, explanation=render_explanation_text(explanation))


def cmd_explain(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline import analyze as pipeline
    from perfgate.pipeline import explain as pipeline_explain

    options = pipeline.AnalyzeOptions(
        result=args.result,
        baselines=args.baselines or settings.baselines,
        scenario=args.scenario,
        policy=args.policy or settings.policy,
    )
    today = datetime.now(UTC).date()
    verdict, explanation = pipeline_explain.analyze_and_explain(options, settings, today=today)
    color = args.format == "text" and args.output is None and not settings.no_color and stdout.isatty()
    text = render_with_explanation(verdict, explanation, args.format, today=today, color=color)
    stdout.write(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return verdict.exit_code
