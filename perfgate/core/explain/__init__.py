"""Optional explanation of a verdict: words for humans, never a decision (pure).

build_prompt(verdict, plan, policy, stages)      → chat messages: perfgate's numbers only
ExplainerReply                                   → the reply shape a model must send
apply_guardrails(reply, verdict, plan, policy)   → GuardedExplanation: checked, clamped, listed
deterministic_explanation(verdict, plan)         → perfgate's own sentences (the fallback)
explanation_from_model / explanation_fallback    → Explanation for reports
(the explanation rendered: perfgate.core.render.explanation)
"""

from perfgate.core.explain.deterministic import deterministic_explanation
from perfgate.core.explain.explanation import explanation_fallback, explanation_from_model
from perfgate.core.explain.guardrails import MAX_OVER_HISTORY_BOUND, apply_guardrails
from perfgate.core.explain.names import clean_text, safe_name
from perfgate.core.explain.prompt import SYSTEM_PROMPT, build_evidence, build_prompt
from perfgate.models.explain import (
    ExplainerReply,
    Explanation,
    GuardedExplanation,
    GuardedThreshold,
    StageAdjustment,
)

__all__ = [
    "MAX_OVER_HISTORY_BOUND",
    "SYSTEM_PROMPT",
    "ExplainerReply",
    "Explanation",
    "GuardedExplanation",
    "GuardedThreshold",
    "StageAdjustment",
    "apply_guardrails",
    "build_evidence",
    "build_prompt",
    "clean_text",
    "deterministic_explanation",
    "explanation_fallback",
    "explanation_from_model",
    "safe_name",
]
