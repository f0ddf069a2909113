"""The compare report as one self-contained HTML page: verdict, table, base vs head distributions."""

from __future__ import annotations

import html
from collections.abc import Sequence

from perfgate.core.compare.gates import endpoint_names
from perfgate.core.render.charts import distributions_svg
from perfgate.core.render.compare import COLUMNS, HEADLINE, cells, metric_label
from perfgate.core.render.formatting import one_line
from perfgate.core.render.html_style import CSP, CSS
from perfgate.models.compare import CompareResult, PairSamples

_BANNER = {"regression": "regression", "improvement": "improvement", "same": "pass", "unsure": "noise"}
_SYMBOL = {"regression": "✗", "improvement": "↑", "same": "✓", "unsure": "?"}
Row = tuple[str, Sequence[float], Sequence[float]]


def _e(text: str) -> str:
    return html.escape(one_line(text), quote=True)


def _latencies(pairs: Sequence[PairSamples], arm: str, endpoint: str | None) -> list[float]:
    return [
        value
        for pair in pairs
        for name, samples in (pair.base if arm == "base" else pair.head).endpoints.items()
        if endpoint is None or name == endpoint
        for value in samples.latency_ms
    ]


def _table(result: CompareResult) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
    rows = []
    for metric in result.metrics:
        tds = "".join(
            f'<td class="{"num" if 0 < i < 6 else ""}">{_e(c)}</td>' for i, c in enumerate(cells(metric))
        )
        rows.append(f'<tr class="c-{_BANNER[metric.verdict]}">{tds}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _chart(pairs: Sequence[PairSamples]) -> str:
    rows: list[Row] = []
    for name in endpoint_names(pairs):
        label = metric_label(f"http_req_duration{{name:{name}}}")
        rows.append((label, _latencies(pairs, "base", name), _latencies(pairs, "head", name)))
    rows.append(("all requests", _latencies(pairs, "base", None), _latencies(pairs, "head", None)))
    svg = distributions_svg(rows, title="Per-request latency, every pair pooled: base vs head", prefix="dist")
    if svg is None:
        return ""
    caption = "Violins: the distribution of each request's latency (log scale); the line marks the median."
    return f"<h2>Distributions</h2><figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def render_compare_html(result: CompareResult, pairs: Sequence[PairSamples]) -> str:
    kind = result.verdict
    banner = (
        f'<header class="banner v-{_BANNER[kind]}"><div class="inner">'
        f'<h1><span class="symbol">{_SYMBOL[kind]}</span>{HEADLINE[kind]}</h1>'
        f'<p class="reason">{_e(result.reason)}</p><p class="context">{result.pairs} pair(s), ABBA order, '
        f"false-alarm rate {result.alpha:g}</p></div></header>"
    )
    body = [banner, "<main>", "<h2>Base vs head</h2>", _table(result), _chart(pairs)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e('perfgate compare: ' + HEADLINE[kind])}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n<footer>perfgate compare</footer></main>\n</body></html>\n"
    )
