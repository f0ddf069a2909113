"""Publishing a heal against hostile paths and a moving remote: real git repos, a bare remote.

- a profile whose name holds glob characters commits that file only, never other dirty files;
- a symlinked profile is neither rewritten nor committed;
- a refused publish puts the rewritten profile back;
- PR mode never drops a reviewer's commit on the heal branch: the heal goes on top of it, and a
  commit pushed while perfgate computed breaks the lease instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import FakeGitHub
from git_world import SMOKE, SMOKE_TEXT, GitWorld
from test_publish import make_plan

from perfgate.adapters.git_repo import LeaseBroken
from perfgate.adapters.github import GitHubClient
from perfgate.adapters.loadtest_files.common import write_text_atomic
from perfgate.errors import InputDataError, UsageError
from perfgate.models import HealPlan
from perfgate.pipeline.publish import publish, publish_heal
from perfgate.settings import Settings

BRANCH = "perfgate/heal-notes-smoke"
MESSAGE = "perfgate: heal notes-smoke\n\nPerfgate-Heal: notes-smoke\n"
NO_GITHUB = Settings.model_construct(github_token=None, github_repository=None)


def plan(limit: int = 40) -> HealPlan:
    return make_plan(limit, stages=[])


@pytest.fixture
def world(tmp_path: Path) -> GitWorld:
    return GitWorld.create(tmp_path)


@pytest.fixture
def work(world: GitWorld) -> Path:
    return world.clone("work")


@pytest.fixture
def github(world: GitWorld) -> Iterator[GitHubClient]:
    fake = FakeGitHub(branch_exists=lambda b: bool(world.git(world.remote, "branch", "--list", b)))
    with fake.client() as http:
        yield GitHubClient(http, fake.repository, sleep=fake.sleeps.append)


def changed_files(world: GitWorld, checkout: Path, sha: str) -> list[str]:
    return world.git(checkout, "diff-tree", "--no-commit-id", "--name-only", "-r", sha).splitlines()


@pytest.mark.parametrize("name", ["*.yaml", "[so]moke.yaml", "?moke.yaml", ":(glob)x.yaml"])
def test_a_profile_named_like_a_glob_commits_that_file_only(world: GitWorld, work: Path, name: str) -> None:
    world.write(work, f"loadtests/profiles/{name}", "thresholds: {}\n")
    world.commit_all(work, "odd name")
    world.write(work, f"loadtests/profiles/{name}", "thresholds: {checks: ['rate>0.9']}\n")
    world.write(work, SMOKE, SMOKE_TEXT + "# a dirty edit nobody asked to commit\n")
    world.write(work, "loadtests/profiles/other.yaml", "stray: true\n")
    sha = world.repo(work).commit_files([work / "loadtests" / "profiles" / name], MESSAGE, branch=None)
    assert sha is not None
    assert changed_files(world, work, sha) == [f"loadtests/profiles/{name}"]


def test_a_symlinked_profile_is_neither_rewritten_nor_committed(world: GitWorld, work: Path) -> None:
    real = world.write(work, "loadtests/profiles/real.yaml", SMOKE_TEXT)
    link = work / "loadtests" / "profiles" / "linked.yaml"
    link.symlink_to(real.name)
    with pytest.raises(InputDataError, match="symlink"):
        write_text_atomic(link, "healed\n")
    assert link.is_symlink() and real.read_text() == SMOKE_TEXT
    with pytest.raises(UsageError, match="symlink"):
        world.repo(work).commit_files([link], MESSAGE, branch=None)


@pytest.mark.parametrize("mode", ["pr", "commit"])
def test_a_refused_publish_restores_the_rewritten_profile(world: GitWorld, work: Path, mode: str) -> None:
    """PR mode without a token is skipped; commit mode of a file off the allow-list is refused."""
    rel = SMOKE if mode == "pr" else "elsewhere/smoke.yaml"
    original = SMOKE_TEXT + "# reviewed\n"
    profile = world.write(work, rel, original)
    world.commit_all(work, "profile")
    profile.write_text(original.replace("p(95)<150", "p(95)<40"))  # what the heal wrote
    if mode == "pr":
        result = publish_heal(profile, plan(), "pr", NO_GITHUB, original=original)
        assert result.operation == "skipped"
    else:
        with pytest.raises(UsageError, match="allow-list"):
            publish_heal(profile, plan(), "commit", NO_GITHUB, original=original)
    assert profile.read_text() == original
    assert world.git(work, "status", "--porcelain") == ""


def test_pr_mode_keeps_a_reviewers_commit_on_the_heal_branch(
    world: GitWorld, work: Path, github: GitHubClient
) -> None:
    world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<40"))
    first = publish(work, [work / SMOKE], plan(40), "pr", NO_GITHUB, github=github, git=world.repo(work))
    assert first.operation == "created"
    reviewer = world.clone("reviewer")
    world.git(reviewer, "checkout", "--quiet", BRANCH)
    world.write(reviewer, "loadtests/profiles/NOTES.md", "reviewed: keep p95 under 40\n")
    fixup = world.commit_all(reviewer, "reviewer: a note on the heal")
    world.git(reviewer, "push", "--quiet", "origin", BRANCH)

    world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<38"))
    second = publish(work, [work / SMOKE], plan(38), "pr", NO_GITHUB, github=github, git=world.repo(work))
    assert second.operation == "updated"
    tip = world.remote_rev(BRANCH)
    assert world.remote_rev(f"{BRANCH}~1") == fixup  # the reviewer's commit is kept, ours on top
    assert "p(95)<38" in world.remote_show(f"{tip}:{SMOKE}")
    assert "reviewed" in world.remote_show(f"{tip}:loadtests/profiles/NOTES.md")


def test_a_commit_pushed_while_perfgate_computes_breaks_the_lease(world: GitWorld, work: Path) -> None:
    repo = world.repo(work)
    world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<40"))
    repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    repo.push("origin", BRANCH, force_with_lease=True, lease="")
    lease = repo.fetch_branch("origin", BRANCH)  # what perfgate computes on
    reviewer = world.clone("reviewer")
    world.git(reviewer, "checkout", "--quiet", BRANCH)
    world.write(reviewer, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<45"))
    fixup = world.commit_all(reviewer, "reviewer: 45 is safer")
    world.git(reviewer, "push", "--quiet", "origin", BRANCH)  # lands in between
    world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<38"))
    repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    with pytest.raises(LeaseBroken):
        repo.push("origin", BRANCH, force_with_lease=True, lease=lease)
    assert world.remote_rev(BRANCH) == fixup
