"""perfgate profile, the modelling: templates, sessions, bots, fits, arrivals, and personas
recovered from synthetic logs with known kinds (adjusted Rand index) and from the real Apache log."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import numpy as np
import pytest
from profile_synth import combined_lines, synth_requests
from sklearn.metrics import adjusted_rand_score

from perfgate.core.profile.arrival import ArrivalCounter, compute_arrival, observed_seconds
from perfgate.core.profile.features import bot_reason
from perfgate.core.profile.fitting import fit_lognormal, fitted_quantile
from perfgate.core.profile.html import likely_journeys
from perfgate.core.profile.sessions import Sessionizer
from perfgate.core.profile.templates import collapse_key, endpoint_key, tag_name, template_path
from perfgate.models.profile import ProfileRequest
from perfgate.pipeline.profile import build_profile

REAL_LOG = Path(__file__).parent / "fixtures" / "access-logs" / "apache_logs.gz"


@pytest.mark.parametrize(
    ("raw", "template"),
    [
        ("/notes/42", "/notes/{id}"),
        ("/notes/42?page=2&per_page=10", "/notes/{id}?page&per_page"),
        ("/notes?q=x&a=1&q=y", "/notes?a&q"),
        ("/u/3f2a7c1e-9b4d-4e8a-a1c2-000000000001/edit", "/u/{uuid}/edit"),
        ("/archive/2015-05-17/", "/archive/{date}/"),
        ("/archive/20150517", "/archive/{date}"),
        ("/commit/0123456789abcdef0123", "/commit/{hash}"),
        ("/t/aB3dE5fG7hJ9kL1mN3pQ5", "/t/{token}"),
        ("/blog/geekery/ssl-latency.html", "/blog/geekery/ssl-latency.html"),
        ("/img/kibana-search.PNG", "static:image"),
        ("/theme/site.css?v=3", "static:style"),
        ("/app.js", "static:script"),
        ("http://example.com/a/1", "/a/{id}"),
        ("", "/"),
    ],
)
def test_template_path(raw: str, template: str) -> None:
    assert template_path(raw) == template


def test_endpoint_keys_and_names() -> None:
    assert endpoint_key("get", "/notes/7") == "GET /notes/{id}"
    assert endpoint_key("GET", "/logo.png") == "static:image"
    assert collapse_key("GET /blog/x/y.html") == "GET /blog/*"
    assert collapse_key("GET /about?x") == "GET /about"
    assert tag_name("GET /notes/{id}") == "get_notes_id"


def test_sessionizer_splits_on_the_gap_and_tolerates_disorder() -> None:
    sessions = Sessionizer(gap_s=600)
    closed = []
    for ts, path in [(100, "/a"), (90, "/b"), (160, "/c"), (100 + 601 + 60, "/d")]:
        closed += sessions.add(ts, "1.1.1.1", "ua", "GET", path, 200)
    closed += sessions.flush()
    assert [s.requests for s in closed] == [3, 1]
    first = closed[0]
    assert first.start == 90 and first.end == 160
    assert first.gaps_s == (10.0, 60.0)
    assert first.client == '1.1.1.1 "ua"'


def test_sessionizer_keeps_the_log_session_id() -> None:
    sessions = Sessionizer(gap_s=10)
    sessions.add(0, "ip", "ua", "GET", "/a", 200, 5.0, "abc")
    sessions.add(100, "ip", "ua", "POST", "/a", 500, 7.0, "abc")
    (only,) = sessions.flush()
    assert (only.key, only.client, only.requests, only.errors, only.writes) == ("abc", "ip", 2, 1, 1)
    assert only.response_ms_sum == 12.0


def test_bots_by_agent_robots_and_behaviour() -> None:
    def session(agent: str, paths: list[str], gap: float):
        sessions = Sessionizer()
        for i, path in enumerate(paths):
            sessions.add(i * gap, "ip", agent, "GET", path, 200)
        return sessions.flush()[0]

    assert bot_reason(session("Googlebot/2.1", ["/"], 1)) == "agent"
    assert bot_reason(session("Mozilla", ["/robots.txt", "/"], 5)) == "robots.txt"
    assert bot_reason(session("curl/8", [f"/p/{i % 2}" for i in range(40)], 0.1)) == "no-think"
    assert bot_reason(session("Mozilla", [f"/page-{i}" for i in range(25)], 3)) == "crawl"
    assert bot_reason(session("Mozilla", ["/", "/a.css", "/b.png", "/about"], 5)) is None


def test_lognormal_fit_keeps_the_mean_and_bounds() -> None:
    rng = np.random.default_rng(3)
    sample = rng.lognormal(mean=1.0, sigma=0.5, size=5000)
    fit = fit_lognormal(sample.tolist())
    assert fit.kind == "lognormal"
    assert math.exp(fit.mu + fit.sigma**2 / 2) == pytest.approx(sample.mean(), rel=1e-9)
    assert fit.sigma == pytest.approx(0.5, abs=0.05)
    assert fit.low == sample.min() and fit.high == sample.max()
    assert (
        fit.low
        <= fitted_quantile(fit, 0.001)
        < fitted_quantile(fit, 0.5)
        < fitted_quantile(fit, 0.999)
        <= fit.high
    )
    assert fit_lognormal([]).kind == "none"
    assert fit_lognormal([2.0, 2.0]).kind == "constant"


def test_arrival_rates_use_the_covered_seconds_only() -> None:
    start = 1_772_409_600.0 + 10 * 3600 + 1800  # a Monday 10:30 UTC
    counter = ArrivalCounter()
    for i in range(90):
        counter.add(start + i * 20, "all")  # 90 sessions over 30 minutes
    curve = compute_arrival(counter, start, start + 1800)
    assert curve.per_hour[10] == pytest.approx(90 / 1800)
    assert curve.per_hour[9] is None and curve.per_hour[11] is None
    assert curve.per_weekday_hour[0][10] == pytest.approx(90 / 1800)
    assert curve.peak_per_s == curve.per_hour[10]
    assert sum(observed_seconds(start, start + 7200)) == pytest.approx(7200)


def _ari(out: Path, truth: dict[str, str]) -> float:
    with (out / "assignments.csv").open(encoding="utf-8") as handle:
        got = {row["client"].split(" ")[0]: row["persona"] for row in csv.DictReader(handle)}
    assert set(got) == set(truth), "every session, bots included, is assigned"
    ips = sorted(truth)
    return float(adjusted_rand_score([truth[ip] for ip in ips], [got[ip] for ip in ips]))


@pytest.mark.parametrize(("method", "seed"), [("kmeans", 1), ("kmeans", 7), ("dbscan", 1)])
def test_known_personas_are_recovered(tmp_path: Path, method: str, seed: int) -> None:
    rows, truth = synth_requests(sessions_per_kind=50, seed=seed)
    log = tmp_path / "access.log"
    log.write_text("\n".join(combined_lines(rows)) + "\n", encoding="utf-8")
    result = build_profile(ProfileRequest(logs=[log], out=tmp_path / "out", method=method, seed=seed))
    ari = _ari(tmp_path / "out", truth)
    print(f"ARI {method} seed {seed}: {ari:.3f}")
    assert ari >= 0.8
    profile = result.profile
    assert profile.filtered.bot_sessions == 20 and profile.bot is not None
    assert profile.bot.share == pytest.approx(20 / 220)
    names = {p.name for p in profile.personas}
    assert any("writer" in name for name in names) and any("api-client" in name for name in names)
    writer = next(p for p in profile.personas if "writer" in p.name)
    assert writer.transitions["POST /notes"] == {"GET /notes/{id}": 1.0}
    assert writer.entry == {"GET /notes?page": 1.0}
    assert likely_journeys(writer)[0][1][:3] == ["GET /notes?page", "POST /notes", "GET /notes/{id}"]
    assert writer.think_time.mean == pytest.approx(9, rel=0.25)


def test_fixed_number_of_personas(tmp_path: Path) -> None:
    rows, _ = synth_requests(sessions_per_kind=20, seed=2, bots=0)
    log = tmp_path / "access.log"
    log.write_text("\n".join(combined_lines(rows)) + "\n", encoding="utf-8")
    result = build_profile(ProfileRequest(logs=[log], out=tmp_path / "out", personas=2))
    assert result.profile.clustering.k == 2 and len(result.profile.personas) == 2
    assert result.profile.bot is None
    assert sum(p.share for p in result.profile.personas) == pytest.approx(1.0)


def test_the_real_apache_log(tmp_path: Path) -> None:
    result = build_profile(ProfileRequest(logs=[REAL_LOG], out=tmp_path))
    profile = result.profile
    (report,) = profile.files
    assert (report.format, report.lines, report.malformed, report.first_malformed_lines) == (
        "combined",
        10000,
        1,
        [8899],
    )
    assert profile.requests == 9999
    assert 0.1 < profile.filtered.bot_share < 0.5 and profile.filtered.by_reason["agent"] > 0
    assert 2 <= profile.clustering.k <= 8
    shares = [p.share for p in profile.personas] + [profile.bot.share if profile.bot else 0.0]
    assert sum(shares) == pytest.approx(1.0)
    assert all(len(p.arrival_per_hour) == 24 for p in profile.personas)
    assert all(rate is not None for rate in profile.arrival.per_hour), "four days cover every hour"
    assert any(e.key == "static:image" for e in profile.endpoints)
    for persona in profile.personas:
        for here, row in persona.transitions.items():
            assert sum(row.values()) == pytest.approx(1.0), (persona.name, here)
    with (tmp_path / "assignments.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == profile.sessions
    assert sum(row["persona"] == "bot" for row in rows) == profile.filtered.bot_sessions


def test_deterministic(tmp_path: Path) -> None:
    rows, _ = synth_requests(sessions_per_kind=15, seed=random.Random(5).randint(0, 99))
    log = tmp_path / "access.log"
    log.write_text("\n".join(combined_lines(rows)) + "\n", encoding="utf-8")
    first = build_profile(ProfileRequest(logs=[log], out=tmp_path / "a")).profile
    second = build_profile(ProfileRequest(logs=[log], out=tmp_path / "b")).profile
    assert first == second
    assert (tmp_path / "a" / "loadtest.js").read_text() == (tmp_path / "b" / "loadtest.js").read_text()
