"""The HTML report without a browser: self-contained, escaped, bounded, deterministic."""

from __future__ import annotations

import gc
import re
from collections import Counter
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_render_cases import (
    ACK_UNTIL,
    KINDS,
    finding,
    make_history,
    make_plan,
    make_run,
    make_trend,
    make_verdict,
)

from perfgate.core.render import render_html
from perfgate.core.render.chart_data import marks_for, metric_history, ordered_runs
from perfgate.core.render.charts import clean_svg
from perfgate.core.render.html import MAX_HISTORY_CHARTS
from perfgate.models import VerdictKind

SVG_NS = "http://www.w3.org/2000/svg"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1


def _tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _report(kind: VerdictKind = "regression") -> str:
    history = make_history()
    return render_html(
        make_verdict(kind), history=history, run=make_run(), plan=make_plan(), ack_until=ACK_UNTIL
    )


def test_references_nothing_outside_the_page() -> None:
    page = _report()
    urls = re.findall(r"(?:https?:)?//[A-Za-z0-9.\-]+[^\s\"'<>)]*", page)
    assert set(urls) <= {SVG_NS}, urls
    tags = _tags(page).tags
    assert not {"script", "img", "link", "iframe", "object", "embed", "a", "base"} & set(tags)
    assert "@import" not in page and re.search(r"url\((?!#)", page) is None
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_banner_reason_and_tables_come_first() -> None:
    page = _report()
    assert page.index('class="banner v-regression"') < page.index("What changed") < page.index("History")
    assert "2 regression(s): search_notes p(95) ×1.45" in page


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_bounded_charts(kind: VerdictKind) -> None:
    tags = _tags(_report(kind))
    assert 1 <= tags.tags["svg"] <= 12
    assert all(count == 1 for count in tags.ids.values()), [i for i, c in tags.ids.items() if c > 1][:5]


def test_charts_are_capped_and_the_rest_counted() -> None:
    many = [finding(f"e{i:02d}", "p(95)", 10, 20, "regression") for i in range(30)]
    verdict = make_verdict("regression").model_copy(update={"findings": many})
    page = render_html(verdict, history=make_history(8))
    assert _tags(page).tags["figure"] <= MAX_HISTORY_CHARTS
    assert "other metrics are not charted" in page


def test_hostile_text_is_escaped() -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&$\\mathrm{x}$ 🚀 漢字"
    bad = finding(hostile, "p(95)", 10.0, 20.0, "regression", reason=hostile)
    verdict = make_verdict("regression").model_copy(
        update={"findings": [bad], "reason": hostile, "notices": [hostile], "scenario": hostile}
    )
    page = render_html(verdict, history=make_history(6), run=make_run())  # no warning for missing glyphs
    tags = _tags(page).tags
    assert "script" not in tags and "img" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_without_history_says_so_and_without_findings_skips_it() -> None:
    page = render_html(make_verdict("regression"))
    assert "No stored runs were given" in page and "<svg" not in page
    assert "History" not in render_html(make_verdict("no_baseline"), history=make_history(5))


def test_rendering_is_deterministic_and_leaves_no_figures() -> None:
    assert _report() == _report()
    assert plt.get_fignums() == []


def test_memory_stays_flat_over_many_reports() -> None:
    """No figure, artist or SVG string outlives its report (no pyplot, figures cleared)."""
    verdict = make_verdict("regression").model_copy(
        update={"findings": make_verdict("regression").findings[:2]}
    )
    history, run = make_history(8), make_run()
    render_html(verdict, history=history, run=run)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(4):
        render_html(verdict, history=history, run=run)
    gc.collect()
    assert len(gc.get_objects()) - before < 500
    assert plt.get_fignums() == []


def test_change_points_are_marked_from_a_trend_report_or_run_ids() -> None:
    history = ordered_runs(make_history(step_at=12))
    series = metric_history(history, "http_req_duration{name:search_notes}", "p(95)")
    assert series is not None
    trend = make_trend(history, 12)
    marks = marks_for(trend, series, "http_req_duration{name:search_notes}", "p(95)")
    assert [(m.index, m.classification) for m in marks] == [(12, "regression")]
    assert marks[0].label == "regression +24 %"
    assert marks_for(trend, series, "http_req_duration{name:get_note}", "p(95)") == []
    ids = marks_for([history[5].run_id, "unknown"], series, "any", "p(95)")
    assert [m.index for m in ids] == [5]
    assert [m.index for m in marks_for(history[3].run_id, series, "any", "p(95)")] == [3]
    plain = render_html(make_verdict("regression"), history=history)
    marked = render_html(make_verdict("regression"), history=history, change_points=trend)
    assert marked.count("stroke-dasharray") > plain.count("stroke-dasharray")
    assert "Change points" in marked and history[12].run_id in marked and "Change points" not in plain


def test_metric_history_reads_values_median_and_robust_spread() -> None:
    history = ordered_runs(make_history(10))
    series = metric_history(history, "http_req_duration{name:get_note}", "p(95)")
    assert series is not None and len(series.values) == 10
    assert series.median == pytest.approx(float(np.median(series.values)))
    low, high = series.band
    assert low < series.median < high
    assert metric_history(history, "nope", "p(95)") is None


def test_clean_svg_prefixes_ids_and_drops_prolog_and_metadata() -> None:
    raw = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/x.dtd">\n'
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" xmlns="http://www.w3.org/2000/svg"><metadata>m</metadata>'
        '<!-- t --><defs><path id="g1"/></defs><use xlink:href="#g1"/><g clip-path="url(#c1)" id="c1"/></svg>'
    )
    svg = clean_svg(raw, "h0")
    assert svg.startswith("<svg") and "metadata" not in svg and "<!--" not in svg and "xlink" not in svg
    assert 'id="h0-g1"' in svg and 'href="#h0-g1"' in svg and "url(#h0-c1)" in svg
