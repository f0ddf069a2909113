"""The optional explanation: perfgate's numbers → prompt → model → guardrails → `Explanation`.

Any failure (no key, no network, a timeout, an HTTP error, an invalid reply) gives perfgate's
deterministic text and a notice. The verdict is never passed back: it and the exit code are the
same with or without an explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

from perfgate.adapters.explainer import Explainer, make_explainer
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
from perfgate.pipeline.analyze import Analysis
from perfgate.settings import Settings

if TYPE_CHECKING:
    from perfgate.pipeline.heal import HealOutcome

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


def explain_analysis(
    analysis: Analysis, settings: Settings, *, http_client: httpx.Client | None = None
) -> Explanation:
    """`analyze --explain`, `perfgate explain` and the action: words for an analysis, never changing it."""
    stages = analysis.loaded.record.stages
    return explain_with_settings(analysis.verdict, None, analysis.policy, stages, settings, http_client)


def explain_heal(outcome: HealOutcome, settings: Settings) -> Explanation | None:
    """`heal --explain`: the --result run's verdict and the plan in words (None without a result)."""
    judged = outcome.judged
    if judged is None:
        return None
    return explain_with_settings(judged.verdict, outcome.plan, judged.policy, judged.stages, settings)
