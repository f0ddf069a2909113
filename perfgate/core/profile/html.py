"""profile.html: one self-contained page with the personas, their likeliest journeys and the
arrival curve (inline SVG from matplotlib, no scripts, no outside references)."""

from __future__ import annotations

import heapq
import html

import numpy as np

from perfgate.core.render.charts import _figure, _title, _to_svg
from perfgate.models.profile import Persona, TrafficProfile

_PALETTE = ("#0969da", "#1a7f37", "#bf8700", "#8250df", "#cf222e", "#1b7c83", "#953800", "#57606a", "#6e7781")
_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1f2328}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border-bottom:1px solid #d0d7de;padding:.25em .6em;"
    "text-align:left}td.n{text-align:right}code{font-size:12px}h2{margin-top:1.6em}"
)


def likely_journeys(persona: Persona, *, top: int = 3, max_len: int = 8) -> list[tuple[float, list[str]]]:
    """The `top` most probable complete journeys (entry … end) of the persona's Markov chain."""
    beam: list[tuple[float, list[str]]] = [(-p, [key]) for key, p in persona.entry.items()]
    done: list[tuple[float, list[str]]] = []
    for _ in range(max_len):
        grown: list[tuple[float, list[str]]] = []
        for neg, path in heapq.nsmallest(40, beam):
            for nxt, p in persona.transitions.get(path[-1], {}).items():
                (done if nxt == "$end" else grown).append((neg * p, path if nxt == "$end" else [*path, nxt]))
        beam = grown
    return [(-neg, path) for neg, path in heapq.nsmallest(top, done)]


def arrival_svg(profile: TrafficProfile) -> str:
    hours = np.arange(24)
    personas = [*profile.personas, *([profile.bot] if profile.bot else [])]
    with _figure(6.4, 2.6) as (figure, (ax,)):
        bottom = np.zeros(24)
        for i, persona in enumerate(personas):
            rates = np.asarray(persona.arrival_per_hour, dtype=float) * 60
            ax.bar(
                hours, rates, bottom=bottom, color=_PALETTE[i % len(_PALETTE)], width=0.8, label=persona.name
            )
            bottom += rates
        ax.set_xticks(hours[::2])
        ax.set_xlabel("hour of day (UTC)", color="#57606a")
        ax.set_ylabel("sessions / minute", color="#57606a")
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=3)
        ax.margins(y=0.3)
        _title(ax, "Arrival curve: session starts per minute by hour of day")
        return _to_svg(figure, "arrival")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _persona_rows(profile: TrafficProfile) -> str:
    rows = []
    for persona in [*profile.personas, *([profile.bot] if profile.bot else [])]:
        think = persona.think_time
        rows.append(
            f"<tr><td><b>{_e(persona.name)}</b><br><small>{_e(persona.description)}</small></td>"
            f"<td class=n>{persona.share * 100:.1f} %</td><td class=n>{persona.sessions}</td>"
            f"<td class=n>{persona.requests_per_session:.1f}</td>"
            f"<td class=n>{think.mean:.1f} s (p50 {think.p50:.1f}, p90 {think.p90:.1f})</td></tr>"
        )
    head = (
        "<tr><th>persona</th><th>share</th><th>sessions</th><th>requests/session</th><th>think time</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _journeys(persona: Persona) -> str:
    mix = sorted(persona.endpoint_mix.items(), key=lambda item: -item[1])[:6]
    mix_text = ", ".join(f"<code>{_e(key)}</code> {share * 100:.0f} %" for key, share in mix)
    items = "".join(
        f"<li>{p * 100:.1f} %: " + " → ".join(f"<code>{_e(step)}</code>" for step in path) + "</li>"
        for p, path in likely_journeys(persona)
    )
    return f"<h3>{_e(persona.name)}</h3><p>Endpoint mix: {mix_text}</p><ol>{items}</ol>"


def render_profile_html(profile: TrafficProfile) -> str:
    personas = [*profile.personas, *([profile.bot] if profile.bot else [])]
    files = ", ".join(
        f"{_e(report.path)} ({report.parsed} of {report.lines} lines)" for report in profile.files
    )
    clustering = profile.clustering
    scores = ", ".join(f"{key} {value:.3g}" for key, value in clustering.scores.items())
    arrival = profile.arrival
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Traffic profile</title><style>{_STYLE}</style>"
        f"</head><body><h1>Traffic profile</h1><p>{files}: {profile.requests} requests, {profile.sessions} "
        f"sessions (gap {profile.session_gap_s:g} s), bots {profile.filtered.bot_share * 100:.1f} %.</p>"
        f"<p>Clustering: {_e(clustering.method)}, k = {clustering.k} ({_e(clustering.chosen_by)}; {_e(scores)}).</p>"
        f"<h2>Personas</h2>{_persona_rows(profile)}"
        f"<h2>Arrival</h2><p>peak {arrival.peak_per_s * 60:.2f} sessions/min, average "
        f"{arrival.average_per_s * 60:.2f} sessions/min</p><figure>{arrival_svg(profile)}</figure>"
        f"<h2>Journeys</h2>{''.join(_journeys(persona) for persona in personas)}</body></html>\n"
    )
