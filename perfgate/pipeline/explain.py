"""The optional explanation: perfgate's numbers → prompt → model → guardrails → `Explanation`.

Any failure (no key, no network, a timeout, an HTTP error, an invalid reply) gives perfgate's
deterministic text and a notice. The verdict is never passed back: it and the exit code are the
same with or without an explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import httpx

from perfgate.adapters.explainer import Explainer, make_explainer
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.run_dir import LoadedRun
from perfgate.core.explain import (
    ExplainerReply,
    Explanation,
    apply_guardrails,
    build_prompt,
    deterministic_explanation,
    explanation_fallback,
    explanation_from_model,
)
from perfgate.models import HealPlan, Policy, StageStats, Verdict
from perfgate.pipeline import analyze as pipeline
from perfgate.settings import Settings

NO_KEY_NOTICE = (
    "no LLM explanation: no API key is set (PERFGATE_LLM_API_KEY or OPENAI_API_KEY); "
    "perfgate's own explanation is shown"
)


def explain_verdict(
    verdict: Verdict,
    plan: HealPlan | None,
    policy: Policy,
    stages: Sequence[StageStats],
    explainer: Explainer | None,
) -> Explanation:
    """Words for the report; the model's only when they survive validation and the guardrails."""
    fallback = deterministic_explanation(verdict, plan)
    if explainer is None:
        return explanation_fallback(fallback, NO_KEY_NOTICE)
    result = explainer.explain(build_prompt(verdict, plan, policy, stages), ExplainerReply)
    if result.reply is None:
        notice = f"no LLM explanation: {result.notice}; perfgate's own explanation is shown"
        return explanation_fallback(fallback, notice)
    guarded = apply_guardrails(result.reply, verdict, plan, policy, stages)
    return explanation_from_model(guarded, explainer.model)


def explain_with_settings(
    verdict: Verdict,
    plan: HealPlan | None,
    policy: Policy,
    stages: Sequence[StageStats],
    settings: Settings,
    http_client: httpx.Client | None = None,
) -> Explanation:
    """`explain_verdict` with an explainer made from settings and closed afterwards."""
    explainer = make_explainer(settings, http_client)
    if explainer is None:
        return explain_verdict(verdict, plan, policy, stages, None)
    with explainer:
        return explain_verdict(verdict, plan, policy, stages, explainer)


def explain_loaded(
    verdict: Verdict,
    loaded: LoadedRun,
    policy_path: Path | None,
    settings: Settings,
    *,
    plan: HealPlan | None = None,
    http_client: httpx.Client | None = None,
) -> Explanation:
    """For `analyze --explain` (and `heal --explain` with its plan): the run's stages, the policy file."""
    policy = load_policy(policy_path)
    return explain_with_settings(verdict, plan, policy, loaded.record.stages, settings, http_client)


def analyze_and_explain(
    options: pipeline.AnalyzeOptions,
    settings: Settings,
    *,
    today: date,
    plan: HealPlan | None = None,
    http_client: httpx.Client | None = None,
) -> tuple[Verdict, Explanation]:
    """`perfgate explain`: the analyzer's verdict, unchanged, and its explanation."""
    analysis = pipeline.analyze(options, today=today)
    explanation = explain_loaded(
        analysis.verdict, analysis.loaded, options.policy, settings, plan=plan, http_client=http_client
    )
    return analysis.verdict, explanation
