"""The capacity study as one self-contained HTML page (same stylesheet and CSP as core.render.html).

No script and nothing loaded from outside; every chart an inline SVG, every free text escaped.
"""

from __future__ import annotations

import html

from perfgate.core.render.capacity import capacity_markdown
from perfgate.core.render.capacity_charts import anomalies_svg, failure_svg, predicted_svg, usl_svg
from perfgate.core.render.formatting import one_line
from perfgate.core.render.html_style import CSP, CSS
from perfgate.models.capacity import CapacityResult


def _e(text: str) -> str:
    return html.escape(one_line(text), quote=True)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _banner(result: CapacityResult) -> str:
    safe = result.max_safe_users
    kind = "pass"
    if result.regression is not None:
        kind = result.regression.verdict.verdict
    users = "unknown" if safe.users is None else f"{safe.users:g}"
    interval = "" if safe.interval is None else f" (interval {safe.interval[0]:g}–{safe.interval[1]:g})"
    return (
        f'<header class="banner v-{kind}"><div class="inner"><h1>Max safe users: {_e(users)}{_e(interval)}</h1>'
        f'<p class="reason">{_e(safe.note)}</p>'
        f'<p class="context">{_e("SLO " + ", ".join(result.inputs.slo) + " · " + result.inputs.source)}</p></div></header>'
    )


def _summary(result: CapacityResult) -> str:
    lines = [line[2:] for line in capacity_markdown(result).splitlines() if line.startswith("- ")]
    return (
        "<section><h2>Summary</h2><ul>"
        + "".join(f"<li>{_e(line)}</li>" for line in lines)
        + "</ul></section>"
    )


def _models(result: CapacityResult) -> str:
    rows = []
    for name, score in sorted(result.models.items(), key=lambda item: item[1].mae_ms):
        chosen = " (chosen)" if name == result.chosen_model else ""
        rows.append(
            f"<tr><td>{_e(name + chosen)}</td><td class='num'>{score.mae_ms:.1f} ms</td>"
            f"<td class='num'>{score.r2:.3f}</td><td class='num'>{score.holdout_mape * 100:.1f} %</td></tr>"
        )
    head = "<tr><th>model (p95)</th><th class='num'>hold-out MAE</th><th class='num'>R²</th><th class='num'>MAPE</th></tr>"
    return f"<section><h2>Digital twin</h2><table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></section>"


def render_capacity_html(result: CapacityResult) -> str:
    figures = [
        _figure(
            predicted_svg(result, prefix="cp"),
            "p95 per window: measured (held-out steps in amber) and predicted",
        ),
        _figure(failure_svg(result, prefix="cf"), "logistic fit of per-window SLO violations"),
        _figure(anomalies_svg(result, prefix="ca"), "circled: windows left out as anomalies (not capacity)"),
        _figure(usl_svg(result, prefix="cu"), result.usl.reading),
    ]
    body = [
        _banner(result),
        "<main>",
        _summary(result),
        f'<section><h2>Figures</h2><div class="grid">{"".join(figures)}</div></section>',
        _models(result),
        "<footer>perfgate capacity report</footer>",
        "</main>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e('perfgate capacity · ' + result.inputs.source)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
