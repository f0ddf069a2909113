"""GitHub REST API: one PR per heal branch, one PR comment, one issue per regression, all upserted.

The `httpx.Client` is injected (base URL, auth and timeout are the caller's); `make_github_client`
builds one from the settings. Every failure becomes an `ExternalError` naming the request, the
status and GitHub's own `message`. 5xx answers, 429 and secondary rate limits (403 with
`retry-after` or an exhausted `x-ratelimit-remaining`) are retried a bounded number of times.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from perfgate.errors import ExternalError, UsageError
from perfgate.models import PublishResult
from perfgate.settings import Settings

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
COMMENT_MARKER = "<!-- perfgate -->"
_REPOSITORY = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")
_MAX_WAIT_S = 60.0
_MAX_PAGES = 50

Upsert = Literal["created", "updated", "unchanged"]
JSON = dict[str, Any]


@dataclass(frozen=True)
class IssueResult:
    operation: Upsert
    number: int
    url: str


def issue_marker(key: str) -> str:
    """Hidden marker for one regression key; hashed so no text can end the HTML comment."""
    return f"<!-- perfgate-issue:{hashlib.sha256(key.encode()).hexdigest()[:16]} -->"


def _same(a: str | None, b: str) -> bool:
    return (a or "").replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def _with_marker(body: str, marker: str) -> str:
    return body if marker in body else f"{marker}\n{body}"


class GitHubClient:
    def __init__(
        self,
        http: httpx.Client,
        repository: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 3,
    ) -> None:
        if not _REPOSITORY.fullmatch(repository) or ".." in repository:
            raise UsageError(f"GitHub repository must be owner/name, got {repository!r}")
        self._http = http
        self.repository = repository
        self.owner = repository.split("/")[0]
        self._sleep = sleep
        self._max_retries = max_retries

    def close(self) -> None:
        """Close the underlying httpx client (for clients built by `make_github_client`)."""
        self._http.close()

    # ---- requests -----------------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self._max_retries + 1):
            try:
                response = self._http.request(method, url, headers=API_HEADERS, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self._max_retries:
                    raise ExternalError(f"GitHub API {method} {url}: {type(exc).__name__}: {exc}") from exc
                self._sleep(min(2.0**attempt, _MAX_WAIT_S))
                continue
            wait = _retry_wait(response, attempt)
            if wait is None or attempt == self._max_retries:
                return _checked(method, url, response)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._request(method, url, **kwargs).json()

    def _pages(self, url: str, params: dict[str, str | int]) -> Iterator[JSON]:
        """Every item of a paginated list, following `Link: rel="next"` on the same host only."""
        next_url: str | None = url
        request_params: dict[str, str | int] | None = {**params, "per_page": 100}
        for _ in range(_MAX_PAGES):
            if next_url is None:
                return
            response = self._request("GET", next_url, params=request_params)
            items = response.json()
            if not isinstance(items, list):
                raise ExternalError(f"GitHub API GET {httpx.URL(next_url).path}: expected a list")
            yield from items
            next_url = response.links.get("next", {}).get("url")
            if next_url is not None and httpx.URL(next_url).host != self._http.base_url.host:
                raise ExternalError(f"GitHub API pagination points at another host: {next_url}")
            request_params = None  # the next link carries its own query
        raise ExternalError(f"GitHub API {url}: more than {_MAX_PAGES} pages")

    @property
    def _repo_path(self) -> str:
        return f"/repos/{self.repository}"

    # ---- pull requests ------------------------------------------------------------------------------

    def upsert_pull_request(self, *, head: str, base: str, title: str, body: str) -> PublishResult:
        """Open the PR for `head`, or bring the open one up to date."""
        pulls = self._json(
            "GET", f"{self._repo_path}/pulls", params={"head": f"{self.owner}:{head}", "state": "open"}
        )
        if not pulls:
            pr = self._json(
                "POST",
                f"{self._repo_path}/pulls",
                json={"title": title, "head": head, "base": base, "body": body},
            )
            return _pr_result("created", head, pr)
        pr = pulls[0]
        changes: JSON = {}
        if pr.get("title") != title or not _same(pr.get("body"), body):
            changes = {"title": title, "body": body}
        if pr.get("base", {}).get("ref") not in (None, base):
            changes["base"] = base
        if not changes:
            return _pr_result("unchanged", head, pr)
        pr = self._json("PATCH", f"{self._repo_path}/pulls/{int(pr['number'])}", json=changes)
        return _pr_result("updated", head, pr)

    # ---- comments -----------------------------------------------------------------------------------

    def upsert_comment(self, *, issue_number: int, body: str, marker: str = COMMENT_MARKER) -> Upsert:
        """One perfgate comment per PR, found by its hidden marker."""
        body = _with_marker(body, marker)
        url = f"{self._repo_path}/issues/{int(issue_number)}/comments"
        existing = next((c for c in self._pages(url, {}) if marker in (c.get("body") or "")), None)
        if existing is None:
            self._request("POST", url, json={"body": body})
            return "created"
        if _same(existing.get("body"), body):
            return "unchanged"
        self._request(
            "PATCH", f"{self._repo_path}/issues/comments/{int(existing['id'])}", json={"body": body}
        )
        return "updated"

    # ---- issues -------------------------------------------------------------------------------------

    def upsert_issue(
        self, *, title: str, body: str, label: str = "perfgate-regression", key: str | None = None
    ) -> IssueResult:
        """One open issue per regression `key` (default: the title), kept up to date."""
        marker = issue_marker(key if key is not None else title)
        body = _with_marker(body, marker)
        issues = self._pages(f"{self._repo_path}/issues", {"labels": label, "state": "open"})
        found = next(
            (i for i in issues if "pull_request" not in i and marker in (i.get("body") or "")),
            None,
        )
        if found is None:
            issue = self._json(
                "POST", f"{self._repo_path}/issues", json={"title": title, "body": body, "labels": [label]}
            )
            return IssueResult("created", int(issue["number"]), str(issue["html_url"]))
        if found.get("title") == title and _same(found.get("body"), body):
            return IssueResult("unchanged", int(found["number"]), str(found["html_url"]))
        number = int(found["number"])
        issue = self._json("PATCH", f"{self._repo_path}/issues/{number}", json={"title": title, "body": body})
        return IssueResult("updated", number, str(issue["html_url"]))


def _retry_wait(response: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final."""
    status = response.status_code
    retry_after = response.headers.get("retry-after")
    limited = status == 429 or (
        status == 403 and (retry_after is not None or response.headers.get("x-ratelimit-remaining") == "0")
    )
    if not (limited or status >= 500):
        return None
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), _MAX_WAIT_S)
        except ValueError:
            pass
    reset = response.headers.get("x-ratelimit-reset")
    if limited and reset is not None and reset.isdigit():
        return min(max(float(reset) - time.time(), 1.0), _MAX_WAIT_S)
    return min(2.0**attempt, _MAX_WAIT_S)


def _checked(method: str, url: str, response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    message = response.reason_phrase
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        message = str(payload.get("message") or message)
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            message += f" ({first.get('message') or first})" if isinstance(first, dict) else f" ({first})"
    path = httpx.URL(url).path
    raise ExternalError(f"GitHub API {method} {path}: {response.status_code} {message}")


def _pr_result(operation: Upsert, head: str, pr: JSON) -> PublishResult:
    return PublishResult(
        operation=operation, branch=head, pr_url=str(pr["html_url"]), pr_number=int(pr["number"])
    )


def make_github_client(settings: Settings, *, timeout_s: float = 30.0) -> GitHubClient | None:
    """A client from the settings, or None when the token or the repository is missing."""
    if settings.github_token is None or not settings.github_repository:
        return None
    http = httpx.Client(
        base_url=settings.github_api_url,
        headers={
            **API_HEADERS,
            "Authorization": f"Bearer {settings.github_token.get_secret_value()}",
            "User-Agent": "perfgate",
        },
        timeout=timeout_s,
    )
    try:
        return GitHubClient(http, settings.github_repository)
    except UsageError:
        http.close()
        raise
