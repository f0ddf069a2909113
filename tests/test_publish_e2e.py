"""End to end over a real socket: the fake GitHub served by werkzeug on 127.0.0.1, a real bare remote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fake_github import FakeGitHub, serve
from git_world import SMOKE, SMOKE_TEXT, GitWorld
from pydantic import SecretStr
from test_publish import make_plan

from perfgate.adapters.github import GitHubClient
from perfgate.pipeline.publish import publish
from perfgate.settings import Settings

BRANCH = "perfgate/heal-notes-smoke"


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    return fake_github


@pytest.fixture
def api_url(fake: FakeGitHub) -> Iterator[str]:
    with serve(fake) as url:
        yield url


def test_publish_pr_over_a_real_socket(world: GitWorld, fake: FakeGitHub, api_url: str) -> None:
    work = world.clone("work")
    settings = Settings.model_construct(
        github_token=SecretStr(fake.token), github_repository=fake.repository, github_api_url=api_url
    )
    now = datetime(2024, 6, 1, tzinfo=UTC)

    def run(limit: int) -> str:
        world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", f"p(95)<{limit}"))
        result = publish(
            work, [work / SMOKE], make_plan(limit), "pr", settings, git=world.repo(work), now=now
        )
        assert result.pr_number == 1 and result.pr_url == "https://github.test/acme/notes/pull/1"
        assert result.commit == world.remote_rev(BRANCH)
        return result.operation

    assert run(40) == "created"
    assert run(40) == "unchanged"
    assert run(43) == "updated"
    assert "p(95)<43" in world.remote_show(f"{BRANCH}:{SMOKE}")
    assert "p\\(95\\)\\<43" in fake.pulls[1]["body"]
    assert world.git(world.remote, "rev-list", "--count", f"main..{BRANCH}") == "1"
    assert ("POST", "/repos/acme/notes/pulls") in fake.requests
    assert ("PATCH", "/repos/acme/notes/pulls/1") in fake.requests


def test_comment_pagination_over_a_real_socket(fake: FakeGitHub, api_url: str) -> None:
    fake.max_page_size = 2
    for i in range(5):
        fake.add_comment(9, f"human {i}")
    with httpx.Client(base_url=api_url, headers=fake.auth_headers(), timeout=10) as http:
        client = GitHubClient(http, fake.repository)
        assert client.upsert_comment(issue_number=9, body="verdict: pass") == "created"
        assert client.upsert_comment(issue_number=9, body="verdict: pass") == "unchanged"
        assert client.upsert_comment(issue_number=9, body="verdict: warn") == "updated"
    listing = [r for r in fake.requests if r == ("GET", "/repos/acme/notes/issues/9/comments")]
    assert len(listing) == 3 + 3 + 3
