"""`perfgate explain RESULT --baselines DIR`: the verdict, then an explanation in plain words.

Off unless asked for. With an API key (PERFGATE_LLM_API_KEY or OPENAI_API_KEY) a model explains
the evidence; without one, or when the service fails, perfgate explains it itself. The verdict
and the exit code are the analyzer's either way.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from perfgate.cli.options import WORDS_FORMATS, Handler, add_history_options, add_output_options
from perfgate.settings import Settings

FORMATS = WORDS_FORMATS


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    explain = sub.add_parser(
        "explain",
        help="analyse a k6 result and explain the verdict in plain words",
        description="Analyse RESULT against the history and explain the evidence. With an API key "
        "(PERFGATE_LLM_API_KEY or OPENAI_API_KEY; PERFGATE_LLM_BASE_URL or OPENAI_BASE_URL for "
        "another OpenAI-compatible server) a model writes the words; it never changes the verdict.",
    )
    explain.add_argument("result", type=Path, metavar="RESULT", help="k6 result file or run directory")
    add_history_options(explain)
    add_output_options(explain, FORMATS)
    return {"explain": cmd_explain}


def cmd_explain(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from perfgate.pipeline.analyze import AnalyzeRequest, analyze
    from perfgate.pipeline.explain import explain_analysis
    from perfgate.pipeline.reports import render_report

    request = AnalyzeRequest(
        result=args.result,
        baselines=args.baselines or settings.baselines,
        scenario=args.scenario,
        policy=args.policy or settings.policy,
    )
    today = datetime.now(UTC).date()
    analysis = analyze(request, today=today)
    explanation = explain_analysis(analysis, settings)
    color = args.format == "text" and args.output is None and not settings.no_color and stdout.isatty()
    text = render_report(analysis, args.format, today=today, color=color, explanation=explanation)
    stdout.write(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return analysis.verdict.exit_code
