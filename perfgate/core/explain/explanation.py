"""An `Explanation` for the report, from a guarded model reply or from perfgate's own text."""

from __future__ import annotations

from perfgate.core.explain.names import clean_text
from perfgate.models.explain import Explanation, GuardedExplanation


def explanation_fallback(text: str, notice: str | None) -> Explanation:
    return Explanation(text=text, source="deterministic", notice=notice)


def explanation_from_model(guarded: GuardedExplanation, model: str) -> Explanation:
    return Explanation(
        text=guarded.reason or "(the model gave no explanation)",
        source="model",
        model=clean_text(model, 120),
        model_regression_opinion=guarded.model_regression,
        agrees_with_verdict=guarded.agrees_with_verdict,
        model_confidence=guarded.confidence,
        guarded_thresholds=guarded.thresholds,
        stage_suggestions=guarded.stage_adjustments,
        remove_suggestions=guarded.remove,
        dropped=guarded.dropped,
    )
