"""GitHubClient through the real httpx.Client against the strict in-memory fake (httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fake_github import BASE_URL, FakeGitHub
from pydantic import SecretStr

from perfgate.adapters.github import GitHubClient, issue_marker, make_github_client
from perfgate.errors import ExternalError, UsageError
from perfgate.settings import Settings

HEAD = "perfgate/heal-notes-smoke"


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """No git world here: the fake answers that no branch exists."""
    fake = FakeGitHub()
    yield fake
    fake.assert_clean()


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    return fake_github


def _upsert_pr(github: GitHubClient, body: str = "evidence", title: str = "heal") -> str:
    return github.upsert_pull_request(head=HEAD, base="main", title=title, body=body).operation


def test_pull_request_created_then_unchanged_then_updated(fake: FakeGitHub, github: GitHubClient) -> None:
    created = github.upsert_pull_request(head=HEAD, base="main", title="heal", body="evidence")
    assert (created.operation, created.pr_number, created.branch) == ("created", 1, HEAD)
    assert created.pr_url == "https://github.test/acme/notes/pull/1"
    assert fake.pulls[1]["head"]["ref"] == HEAD and fake.pulls[1]["base"]["ref"] == "main"

    assert _upsert_pr(github) == "unchanged"
    assert _upsert_pr(github, body="new evidence") == "updated"
    assert fake.pulls[1]["body"] == "new evidence"
    assert _upsert_pr(github, body="new evidence", title="heal v2") == "updated"
    assert len(fake.pulls) == 1
    assert fake.requests[:2] == [("GET", "/repos/acme/notes/pulls"), ("POST", "/repos/acme/notes/pulls")]


def test_pull_request_body_with_crlf_from_the_web_editor_is_unchanged(
    fake: FakeGitHub, github: GitHubClient
) -> None:
    _upsert_pr(github, body="a\nb\n")
    fake.pulls[1]["body"] = "a\r\nb"
    assert _upsert_pr(github, body="a\nb\n") == "unchanged"


def test_pull_request_base_is_retargeted(fake: FakeGitHub, github: GitHubClient) -> None:
    _upsert_pr(github)
    result = github.upsert_pull_request(head=HEAD, base="release", title="heal", body="evidence")
    assert result.operation == "updated" and fake.pulls[1]["base"]["ref"] == "release"


def test_a_closed_pull_request_is_not_reused(fake: FakeGitHub, github: GitHubClient) -> None:
    _upsert_pr(github)
    fake.pulls[1]["state"] = "closed"
    assert _upsert_pr(github) == "created"
    assert sorted(fake.pulls) == [1, 2]


def test_comment_created_found_across_pages_updated_and_unchanged(
    fake: FakeGitHub, github: GitHubClient
) -> None:
    fake.max_page_size = 2
    for i in range(4):
        fake.add_comment(7, f"human comment {i}")
    assert github.upsert_comment(issue_number=7, body="verdict: pass") == "created"
    ours = max(fake.comments)
    assert fake.comments[ours]["body"] == "<!-- perfgate -->\nverdict: pass"
    fake.add_comment(7, "a later human comment")

    assert github.upsert_comment(issue_number=7, body="verdict: pass") == "unchanged"
    assert github.upsert_comment(issue_number=7, body="verdict: regression") == "updated"
    assert fake.comments[ours]["body"] == "<!-- perfgate -->\nverdict: regression"
    assert [c for c in fake.comments.values() if "perfgate" in c["body"]] == [fake.comments[ours]]
    pages = [r for r in fake.requests if r == ("GET", "/repos/acme/notes/issues/7/comments")]
    assert len(pages) == 2 + 3 + 3  # create: 2 full pages; later: ours is on page 3 of 3, listing stops there


def test_comment_with_a_custom_marker(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.add_comment(3, "<!-- perfgate -->\nthe PR check")
    assert (
        github.upsert_comment(issue_number=3, body="nightly", marker="<!-- perfgate-nightly -->") == "created"
    )
    assert len(fake.comments) == 2


def test_pagination_never_follows_a_link_to_another_host(fake: FakeGitHub) -> None:
    def evil(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"link": '<https://evil.test/steal?page=2>; rel="next"'})

    with (
        httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(evil)) as http,
        pytest.raises(ExternalError, match="another host"),
    ):
        GitHubClient(http, "acme/notes").upsert_comment(issue_number=1, body="x")


def test_issue_per_regression_key_kept_up_to_date(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.add_issue("some PR", f"{issue_marker('search p95')}", ["perfgate-regression"], pull_request=True)
    first = github.upsert_issue(title="search p95 regressed 30 %", body="details", key="search p95")
    assert first.operation == "created" and first.number == 2
    assert fake.issues[2]["body"].startswith(issue_marker("search p95"))
    assert [lab["name"] for lab in fake.issues[2]["labels"]] == ["perfgate-regression"]
    same = github.upsert_issue(title="search p95 regressed 30 %", body="details", key="search p95")
    assert same.operation == "unchanged"
    newer = github.upsert_issue(title="search p95 regressed 41 %", body="worse", key="search p95")
    assert (newer.operation, newer.number) == ("updated", 2)
    other = github.upsert_issue(title="get_note p99 regressed", body="x", key="get_note p99")
    assert other.operation == "created" and other.number == 3


def test_issue_marker_cannot_be_broken_out_of() -> None:
    marker = issue_marker("x --> <script>")
    assert marker.startswith("<!-- perfgate-issue:") and marker.count("-->") == 1 and "<script>" not in marker


def test_5xx_is_retried_with_backoff(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.fail_next(502, times=2, message="Bad Gateway")
    assert _upsert_pr(github) == "created"
    assert fake.sleeps == [1.0, 2.0]


def test_5xx_retries_are_bounded(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.fail_next(503, times=4, message="Service Unavailable")
    with pytest.raises(ExternalError, match=r"GET /repos/acme/notes/pulls: 503 Service Unavailable"):
        _upsert_pr(github)
    assert len(fake.sleeps) == 3


def test_secondary_rate_limit_honours_retry_after(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.fail_next(403, headers={"retry-after": "7"}, message="You have exceeded a secondary rate limit")
    fake.fail_next(429, headers={"retry-after": "3"}, message="Too Many Requests")
    assert github.upsert_comment(issue_number=1, body="x") == "created"
    assert fake.sleeps == [7.0, 3.0]


def test_retry_after_is_capped(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.fail_next(429, headers={"retry-after": "3600"})
    github.upsert_comment(issue_number=1, body="x")
    assert fake.sleeps == [60.0]


def test_403_without_rate_limit_is_final(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.fail_next(403, message="Resource not accessible by integration")
    with pytest.raises(ExternalError, match="403 Resource not accessible by integration"):
        _upsert_pr(github)
    assert fake.sleeps == []


def test_bad_token_is_an_external_error_with_githubs_message(fake: FakeGitHub) -> None:
    with (
        fake.client(token="wrong") as http,
        pytest.raises(ExternalError, match="401 Bad credentials") as info,
    ):
        GitHubClient(http, fake.repository, sleep=fake.sleeps.append).upsert_comment(issue_number=1, body="x")
    assert info.value.exit_code == 4
    assert fake.sleeps == []


def test_422_names_the_validation_error(fake: FakeGitHub, github: GitHubClient) -> None:
    fake.branch_exists = lambda branch: False
    with pytest.raises(
        ExternalError, match=r"POST /repos/acme/notes/pulls: 422 Validation Failed \(head .* missing\)"
    ):
        _upsert_pr(github)


def test_transport_errors_are_retried_then_external(fake: FakeGitHub) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []
    with httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(down)) as http:
        client = GitHubClient(http, "acme/notes", sleep=sleeps.append, max_retries=2)
        with pytest.raises(ExternalError, match="ConnectError: connection refused"):
            client.upsert_comment(issue_number=1, body="x")
    assert sleeps == [1.0, 2.0]


def test_the_fake_is_strict_about_headers_and_endpoints(fake: FakeGitHub) -> None:
    with fake.client() as http:
        with pytest.raises(AssertionError, match="x-github-api-version"):
            http.get("/repos/acme/notes/pulls", headers={"Accept": "application/vnd.github+json"})
        with pytest.raises(AssertionError, match="not an endpoint"):
            http.delete(
                "/repos/acme/notes/pulls/1",
                headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
            )
    assert len(fake.errors) == 2
    fake.errors.clear()


@pytest.mark.parametrize("repository", ["acme", "acme/notes/x", "../x", "acme/..", "a b/c", ""])
def test_repository_must_be_owner_slash_name(repository: str) -> None:
    with httpx.Client() as http, pytest.raises(UsageError, match="owner/name"):
        GitHubClient(http, repository)


def test_factory_needs_token_and_repository() -> None:
    assert make_github_client(Settings.model_construct(github_token=None, github_repository="a/b")) is None
    assert (
        make_github_client(Settings.model_construct(github_token=SecretStr("t"), github_repository=None))
        is None
    )


def test_factory_builds_an_authenticated_client() -> None:
    settings = Settings.model_construct(
        github_token=SecretStr("s3cret"),
        github_repository="acme/notes",
        github_api_url="https://ghe.test/api/v3",
    )
    client = make_github_client(settings)
    assert client is not None
    try:
        http = client._http
        assert http.headers["authorization"] == "Bearer s3cret"
        assert http.headers["x-github-api-version"] == "2022-11-28"
        assert str(http.base_url) == "https://ghe.test/api/v3/"
        assert client.repository == "acme/notes"
    finally:
        client.close()
