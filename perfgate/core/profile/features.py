"""Per-session features for clustering, and bot detection by user agent and behaviour."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from perfgate.core.profile.sessions import Session

FEATURES = (
    "requests",
    "unique_endpoints",
    "mean_response_ms",
    "duration_s",
    "error_rate",
    "write_ratio",
    "think_median_s",
    "think_mean_s",
    "depth",
    "static_ratio",
)
# Counts and times are heavy-tailed: clustered on log1p so one crawler does not set the scale.
LOG_SCALED = frozenset({"requests", "unique_endpoints", "mean_response_ms", "duration_s", "think_median_s",
                        "think_mean_s", "depth"})  # fmt: skip
BOT_AGENT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrap|archiver|headless|phantomjs|facebookexternalhit|"
    r"bingpreview|yandex|baidu|semrush|ahrefs|mj12|dotbot|petalbot|pingdom|uptime|monitor|nagios|"
    r"zabbix|check_http|statuscake|site24x7|preview|validator|lighthouse",
    re.IGNORECASE,
)
_CRAWL_MIN_PAGES = 20
_FLOOD_MIN_REQUESTS = 30


def session_features(session: Session) -> list[float]:
    """The raw (unscaled) feature values of one session, in `FEATURES` order."""
    n = session.requests
    gaps = np.asarray(session.gaps_s, dtype=float)
    unique = len(set(session.endpoints))
    pages = n - session.statics
    mean_rt = session.response_ms_sum / session.response_ms_count if session.response_ms_count else 0.0
    return [
        float(n),
        float(unique),
        mean_rt,
        session.end - session.start,
        session.errors / n,
        session.writes / n,
        float(np.median(gaps)) if gaps.size else 0.0,
        float(gaps.mean()) if gaps.size else 0.0,
        float(pages),
        session.statics / n,
    ]


def scale_ready(rows: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    """Raw feature rows → matrix with the heavy-tailed columns log1p'd (scaling comes after)."""
    matrix = np.asarray(rows, dtype=float).reshape(-1, len(FEATURES))
    for column, name in enumerate(FEATURES):
        if name in LOG_SCALED:
            matrix[:, column] = np.log1p(np.maximum(matrix[:, column], 0.0))
    return matrix


def bot_reason(session: Session) -> str | None:
    """Why a session is a bot (`agent`, `robots.txt`, `no-think`, `crawl`), or None for a person.

    Behaviour: asking for robots.txt; a flood of requests with no think time and no page assets;
    a long sequential crawl where nearly every page is new and no asset is loaded.
    """
    if BOT_AGENT.search(session.agent):
        return "agent"
    if session.robots:
        return "robots.txt"
    pages = session.requests - session.statics
    if session.statics == 0 and session.requests >= _FLOOD_MIN_REQUESTS:
        gaps = np.asarray(session.gaps_s, dtype=float)
        if gaps.size and float(np.median(gaps)) < 0.5:
            return "no-think"
    if session.statics == 0 and pages >= _CRAWL_MIN_PAGES:
        unique = len(set(session.endpoints))
        if unique >= 0.9 * min(pages, len(session.endpoints)):
            return "crawl"
    return None
