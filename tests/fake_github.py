"""A tiny in-memory GitHub REST API for tests: only the endpoints perfgate uses, and strict.

    fake = FakeGitHub()
    with fake.client() as http:                       # httpx.MockTransport, no socket
        GitHubClient(http, fake.repository, sleep=fake.sleeps.append).upsert_comment(...)

    with serve(fake) as base_url:                     # the same fake over a real socket (werkzeug)
        httpx.Client(base_url=base_url, headers=fake.auth_headers())

Strict: a request without GitHub's `Accept` / `X-GitHub-Api-Version` headers, or one to an endpoint
not implemented here, is recorded in `fake.errors` and fails the test (MockTransport raises; over a
socket the answer is 418 and `fake.errors` is checked by `fake.assert_clean()`). A wrong token gets
GitHub's own 401. `fail_next(...)` queues canned failures (5xx, rate limits) served before the real
answer. Issues and PRs share one number space, and the issues list includes PRs, as on GitHub.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from flask import Flask, Response, request
from werkzeug.serving import make_server

BASE_URL = "https://api.github.test"
HEADERS = {"accept": "application/vnd.github+json", "x-github-api-version": "2022-11-28"}
Answer = tuple[int, dict[str, str], Any]


@dataclass
class _Canned:
    status: int
    headers: dict[str, str]
    message: str


@dataclass
class FakeGitHub:
    repository: str = "acme/notes"
    token: str = "test-token"
    max_page_size: int = 100
    branch_exists: Callable[[str], bool] = field(default=lambda _branch: True)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    _canned: list[_Canned] = field(default_factory=list)
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- test API ---------------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        message: str = "Server Error",
    ) -> None:
        self._canned += [_Canned(status, dict(headers or {}), message) for _ in range(times)]

    def client(self, *, token: str | None = None) -> httpx.Client:
        """A real httpx.Client whose transport is this fake (the caller closes it)."""
        return httpx.Client(
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {token or self.token}"},
            transport=httpx.MockTransport(self._mock_handler),
        )

    def assert_clean(self) -> None:
        assert not self.errors, f"unexpected requests to the fake GitHub: {self.errors}"

    def add_comment(self, issue_number: int, body: str) -> int:
        cid = self._next()
        self.comments[cid] = {"id": cid, "issue_number": issue_number, "body": body}
        return cid

    def add_issue(self, title: str, body: str, labels: list[str], *, pull_request: bool = False) -> int:
        number = self._next()
        issue = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "labels": [{"name": name} for name in labels],
            "html_url": self._url("issues", number),
        }
        if pull_request:
            issue["pull_request"] = {"url": self._url("pull", number)}
        self.issues[number] = issue
        return number

    # ---- transport adapters -----------------------------------------------------------------------

    def _mock_handler(self, req: httpx.Request) -> httpx.Response:
        query = {k: v for k, v in req.url.params.items()}
        status, headers, payload = self.handle(
            req.method, req.url.path, query, _lower(req.headers.items()), req.content, BASE_URL
        )
        if status == 418:
            raise AssertionError(self.errors[-1])
        return httpx.Response(status, headers=headers, json=payload)

    def flask_app(self) -> Flask:
        app = Flask("fake_github")
        methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]

        @app.route("/", defaults={"path": ""}, methods=methods)
        @app.route("/<path:path>", methods=methods)
        def any_route(path: str) -> Response:
            base = request.host_url.rstrip("/")
            status, headers, payload = self.handle(
                request.method,
                "/" + path,
                dict(request.args),
                _lower(request.headers.items()),
                request.get_data(),
                base,
            )
            return Response(
                json.dumps(payload), status=status, headers=headers, content_type="application/json"
            )

        return app

    # ---- the API ------------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
        base: str,
    ) -> Answer:
        with self._lock:
            self.requests.append((method, path))
            for name, value in HEADERS.items():
                if headers.get(name) != value:
                    return self._unexpected(f"{method} {path}: header {name}={headers.get(name)!r}")
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, {}, {"message": "Bad credentials", "documentation_url": "https://docs.github.com"}
            if self._canned:
                canned = self._canned.pop(0)
                return canned.status, canned.headers, {"message": canned.message}
            data = json.loads(body) if body else {}
            return self._route(method, path, query, data, base)

    def _route(
        self, method: str, path: str, query: dict[str, str], data: dict[str, Any], base: str
    ) -> Answer:
        prefix = f"/repos/{self.repository}"
        routes: list[tuple[str, str, Callable[..., Answer]]] = [
            ("GET", r"/pulls", lambda: self._list_pulls(query)),
            ("POST", r"/pulls", lambda: self._create_pull(data)),
            (
                "PATCH",
                r"/pulls/(\d+)",
                lambda n: self._patch(self.pulls, int(n), data, ("title", "body", "base")),
            ),
            ("GET", r"/issues/(\d+)/comments", lambda n: self._list_comments(int(n), query, base, path)),
            ("POST", r"/issues/(\d+)/comments", lambda n: self._create_comment(int(n), data)),
            (
                "PATCH",
                r"/issues/comments/(\d+)",
                lambda c: self._patch(self.comments, int(c), data, ("body",)),
            ),
            ("GET", r"/issues", lambda: self._list_issues(query, base, path)),
            ("POST", r"/issues", lambda: self._create_issue(data)),
            ("PATCH", r"/issues/(\d+)", lambda n: self._patch(self.issues, int(n), data, ("title", "body"))),
        ]
        if path.startswith(prefix + "/"):
            for verb, pattern, action in routes:
                match = re.fullmatch(pattern, path[len(prefix) :])
                if verb == method and match:
                    return action(*match.groups())
        return self._unexpected(f"{method} {path} is not an endpoint this fake implements")

    def _unexpected(self, what: str) -> Answer:
        self.errors.append(what)
        return 418, {}, {"message": f"fake GitHub: unexpected request: {what}"}

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _url(self, kind: str, number: int) -> str:
        return f"https://github.test/{self.repository}/{kind}/{number}"

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], base: str, path: str) -> Answer:
        size = min(int(query.get("per_page", 30)), self.max_page_size)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            nxt = {**query, "page": str(page + 1)}
            headers["link"] = f'<{base}{path}?{urlencode(nxt)}>; rel="next"'
        return 200, headers, chunk

    def _list_pulls(self, query: dict[str, str]) -> Answer:
        if query.get("state") != "open" or ":" not in query.get("head", ""):
            return self._unexpected(f"GET pulls with query {query}")
        owner, branch = query["head"].split(":", 1)
        found = [
            p
            for p in self.pulls.values()
            if p["state"] == "open" and p["head"]["ref"] == branch and owner == self.repository.split("/")[0]
        ]
        return 200, {}, found

    def _create_pull(self, data: dict[str, Any]) -> Answer:
        if set(data) != {"title", "head", "base", "body"}:
            return self._unexpected(f"POST pulls with fields {sorted(data)}")
        if not self.branch_exists(data["head"]):
            return (
                422,
                {},
                {"message": "Validation Failed", "errors": [{"message": f"head {data['head']} missing"}]},
            )
        number = self._next()
        self.pulls[number] = {
            "number": number,
            "state": "open",
            "title": data["title"],
            "body": data["body"],
            "head": {"ref": data["head"]},
            "base": {"ref": data["base"]},
            "html_url": self._url("pull", number),
        }
        return 201, {}, self.pulls[number]

    def _patch(
        self, store: dict[int, dict[str, Any]], key: int, data: dict[str, Any], allowed: tuple[str, ...]
    ) -> Answer:
        if key not in store or not data or not set(data) <= set(allowed):
            return self._unexpected(f"PATCH {key} with fields {sorted(data)}")
        for name, value in data.items():
            if name == "base":
                store[key]["base"] = {"ref": value}
            else:
                store[key][name] = value
        return 200, {}, store[key]

    def _list_comments(self, number: int, query: dict[str, str], base: str, path: str) -> Answer:
        items = [c for c in self.comments.values() if c["issue_number"] == number]
        return self._page(items, query, base, path)

    def _create_comment(self, number: int, data: dict[str, Any]) -> Answer:
        if set(data) != {"body"}:
            return self._unexpected(f"POST comment with fields {sorted(data)}")
        return 201, {}, self.comments[self.add_comment(number, data["body"])]

    def _list_issues(self, query: dict[str, str], base: str, path: str) -> Answer:
        label = query.get("labels")
        if query.get("state") != "open" or not label:
            return self._unexpected(f"GET issues with query {query}")
        items = [
            i
            for i in self.issues.values()
            if i["state"] == "open" and label in {lab["name"] for lab in i["labels"]}
        ]
        return self._page(items, query, base, path)

    def _create_issue(self, data: dict[str, Any]) -> Answer:
        if set(data) != {"title", "body", "labels"}:
            return self._unexpected(f"POST issues with fields {sorted(data)}")
        return 201, {}, self.issues[self.add_issue(data["title"], data["body"], data["labels"])]


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {key.lower(): value for key, value in items}


@contextlib.contextmanager
def serve(fake: FakeGitHub) -> Iterator[str]:
    """Serve the fake on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, fake.flask_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-github", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
