"""Per-session features for clustering, and bot detection by user agent and behaviour."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

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
    gaps = session.gaps_s
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
        _median(gaps),
        sum(gaps) / len(gaps) if gaps else 0.0,
        float(pages),
        session.statics / n,
    ]


def _median(values: Sequence[float]) -> float:
    """Plain Python: sessions are short, and numpy's call overhead would dominate."""
    if not values:
        return 0.0
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def scale_ready(rows: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    """Raw feature rows → matrix with the heavy-tailed columns log1p'd (scaling comes after)."""
    matrix = np.asarray(rows, dtype=float).reshape(-1, len(FEATURES))
    for column, name in enumerate(FEATURES):
        if name in LOG_SCALED:
            matrix[:, column] = np.log1p(np.maximum(matrix[:, column], 0.0))
    return matrix


@lru_cache(maxsize=65536)
def _is_bot_agent(agent: str) -> bool:
    return BOT_AGENT.search(agent) is not None


def bot_reason(session: Session) -> str | None:
    """Why a session is a bot (`agent`, `robots.txt`, `no-think`, `crawl`), or None for a person.

    Behaviour: asking for robots.txt; a flood of requests with no think time and no page assets;
    a long sequential crawl where nearly every page is new and no asset is loaded.
    """
    if _is_bot_agent(session.agent):
        return "agent"
    if session.robots:
        return "robots.txt"
    pages = session.requests - session.statics
    flood = session.statics == 0 and session.requests >= _FLOOD_MIN_REQUESTS
    if flood and session.gaps_s and _median(session.gaps_s) < 0.5:
        return "no-think"
    if session.statics == 0 and pages >= _CRAWL_MIN_PAGES:
        unique = len(set(session.endpoints))
        if unique >= 0.9 * min(pages, len(session.endpoints)):
            return "crawl"
    return None
