"""The HTML report's only stylesheet and its Content-Security-Policy (nothing may load from outside)."""

from __future__ import annotations

# Inline styles only; no script, font, image or connection may load. A stray external reference
# becomes a console error in the browser instead of a silent request.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

VERDICT_SYMBOL = {
    "pass": "✓",
    "improvement": "↑",
    "noise": "≈",
    "warn": "!",
    "regression": "✗",
    "no_baseline": "+",
    "broken": "✗",
}

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --soft: #f6f8fa;
  --regression: #cf222e; --warn: #9a6700; --noise: #59636e; --improvement: #1a7f37;
  --pass: #1a7f37; --no_baseline: #8250df; --broken: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 0 20px 32px; }
.banner { padding: 22px 28px; color: #fff; }
.banner .inner { max-width: 1140px; margin: 0 auto; }
.banner h1 { margin: 0; font-size: 30px; letter-spacing: .02em; }
.banner .symbol { display: inline-block; width: 1.3em; }
.banner .reason { margin: 6px 0 4px; font-size: 17px; }
.banner .context { margin: 0; opacity: .85; font-size: 13px; }
.v-regression { background: var(--regression); } .v-warn { background: #bf8700; }
.v-noise { background: #6e7781; } .v-improvement, .v-pass { background: var(--pass); }
.v-no_baseline { background: var(--no_baseline); } .v-broken { background: var(--broken); }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: var(--soft); font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.group-start td { border-top: 2px solid var(--line); }
tr.c-regression td { background: #ffebe9; } tr.c-warn td { background: #fff8c5; }
tr.c-improvement td { background: #dafbe1; } tr.c-noise td { background: #f6f8fa; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; background: var(--muted); }
.pill.c-regression { background: var(--regression); } .pill.c-warn { background: #bf8700; }
.pill.c-improvement, .pill.c-pass { background: var(--pass); } .pill.c-no_baseline { background: var(--no_baseline); }
details { margin: 10px 0; } summary { cursor: pointer; color: var(--muted); }
.next { background: var(--soft); border-left: 4px solid var(--muted); padding: 10px 14px; margin: 14px 0; }
pre { background: var(--soft); padding: 10px 14px; overflow-x: auto; font-size: 13px; border-radius: 6px; }
pre .add { color: #1a7f37; } pre .del { color: #cf222e; } pre .hunk { color: #8250df; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; }
figure { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; }
figure svg { width: 100%; height: auto; display: block; }
.grid + table { margin-top: 14px; }
.legend { font-size: 13px; color: var(--muted); margin: 0 0 10px; }
figcaption { font-size: 13px; color: var(--muted); padding: 4px 4px 0; }
ul.notices { padding-left: 20px; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
"""
