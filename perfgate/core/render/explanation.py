"""The explanation under the verdict, as terminal text or Markdown, marked as model-written.

Model text is text: control characters are removed for the terminal; in Markdown everything is
escaped with `escape_md` (which escapes HTML's `<` and `>` too) and `@` and `://` are broken with
a word joiner, so it never becomes markup, a link or a mention.
"""

from __future__ import annotations

from perfgate.core.explain import Explanation, clean_text
from perfgate.core.render.markdown import escape_md

_WORD_JOINER = "\u2060"


def _md(text: str) -> str:
    """`escape_md`, and no @mentions or bare-URL autolinks in a PR comment either."""
    escaped = (
        escape_md(clean_text(text, 4000))
        .replace("@", "@" + _WORD_JOINER)
        .replace("://", ":" + _WORD_JOINER + "//")
    )
    return escaped.replace("www\\.", "www" + _WORD_JOINER + "\\.")


def _opinion(explanation: Explanation) -> str | None:
    if explanation.model_regression_opinion is None:
        return None
    opinion = "a regression" if explanation.model_regression_opinion else "not a regression"
    agreement = "agrees with" if explanation.agrees_with_verdict else "disagrees with"
    confidence = (
        f", confidence {explanation.model_confidence:.2f}" if explanation.model_confidence is not None else ""
    )
    return f"The model thinks this is {opinion}{confidence}; it {agreement} perfgate's verdict, which stands."


def _heading(explanation: Explanation) -> str:
    if explanation.source == "model":
        return f"Explanation (model-written by {clean_text(explanation.model or 'unknown model', 120)}; advisory)"
    return "Explanation (written by perfgate from its own numbers)"


def _suggestions(explanation: Explanation) -> list[str]:
    lines = [f"suggested threshold: {t.metric} {t.expression}" for t in explanation.guarded_thresholds]
    lines += [
        f"suggested stage change ({s.type}): {s.change} ({s.reason})" for s in explanation.stage_suggestions
    ]
    lines += [f"suggested stage removal: {name}" for name in explanation.remove_suggestions]
    lines += [f"guardrail: {note}" for note in explanation.dropped]
    return lines


def render_explanation_text(explanation: Explanation) -> str:
    lines = [_heading(explanation), *explanation.text.splitlines()]
    opinion = _opinion(explanation)
    if opinion:
        lines.append(opinion)
    lines += _suggestions(explanation)
    if explanation.notice:
        lines.append(f"note: {explanation.notice}")
    return "\n".join(clean_text(line, 4000) for line in lines) + "\n"


def render_explanation_markdown(explanation: Explanation) -> str:
    quote = "> " if explanation.source == "model" else ""
    text = [f"{quote}{_md(line)}" for line in explanation.text.splitlines() if line.strip()]
    opinion = _opinion(explanation)
    blocks = [
        [f"### {_md(_heading(explanation))}"],
        text,
        [_md(opinion)] if opinion else [],
        [f"- {_md(line)}" for line in _suggestions(explanation)],
        [f"> {_md('note: ' + explanation.notice)}"] if explanation.notice else [],
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
