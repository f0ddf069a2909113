"""GitRepo against real repositories with a bare remote: allow-list, loop guard, PR branch, push races."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from git_world import SMOKE, SMOKE_TEXT, GitWorld

from perfgate.adapters.git_repo import DEFAULT_ALLOW, GitRepo, glob_regex, heal_branch
from perfgate.errors import ExternalError, UsageError

HEALED = SMOKE_TEXT.replace("p(95)<150", "p(95)<40")
BRANCH = "perfgate/heal-notes-smoke"
MESSAGE = "perfgate: heal notes-smoke\n\n- p(95)<150 -> p(95)<40\n\nPerfgate-Heal: notes-smoke\n"


@pytest.fixture
def work(world: GitWorld) -> Path:
    return world.clone("work")


def _index_bytes(checkout: Path) -> bytes:
    return (checkout / ".git" / "index").read_bytes()


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("loadtests/profiles/smoke.yaml", True),
        ("loadtests/profiles/nested/x.json", True),
        ("loadtests/notes.js", True),
        ("loadtests/user/journey.js", True),
        ("baselines/notes-smoke/runs/2024.json", True),
        ("perfgate.yml", True),
        ("loadtests/notes.ts", False),
        ("sub/perfgate.yml", False),
        ("README.md", False),
        (".github/workflows/ci.yml", False),
        ("perfgate/cli.py", False),
        ("baselines", False),
    ],
)
def test_allow_list_globs(path: str, allowed: bool) -> None:
    assert any(glob_regex(p).fullmatch(path) for p in DEFAULT_ALLOW) is allowed


@pytest.mark.parametrize("scenario", ["notes-smoke", "a", "x.y_z-1", "A" * 64])
def test_heal_branch_accepts_plain_names(scenario: str) -> None:
    assert heal_branch(scenario) == f"perfgate/heal-{scenario}"


@pytest.mark.parametrize(
    "scenario",
    ["", "-rf", "../main", "a b", "a..b", "x.lock", "a/b", "a;rm -rf", "é", "A" * 65, "a\nb", "end."],
)
def test_heal_branch_refuses_anything_that_could_be_more_than_a_name(scenario: str) -> None:
    with pytest.raises(UsageError, match="cannot name a branch"):
        heal_branch(scenario)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a git repository"):
        GitRepo(tmp_path)


def test_commit_mode_commits_on_the_current_branch_with_skip_ci_and_trailer(
    world: GitWorld, work: Path
) -> None:
    before = world.git(work, "rev-parse", "HEAD")
    world.write(work, SMOKE, HEALED)
    sha = world.repo(work).commit_files([work / SMOKE], MESSAGE, branch=None)
    assert sha == world.git(work, "rev-parse", "HEAD")
    assert world.git(work, "rev-parse", "HEAD~1") == before
    message = world.message(work, "HEAD")
    assert message.splitlines()[0] == "perfgate: heal notes-smoke [skip ci]"
    assert message.endswith("Perfgate-Heal: notes-smoke")
    assert world.git(work, "log", "-1", "--format=%an <%ae> %ad", "--date=iso-strict") == (
        "perfgate <perfgate@users.noreply.github.com> 2024-05-01T12:00:00+00:00"
    )
    assert world.git(work, "status", "--porcelain") == ""  # index and tree follow the new HEAD
    assert world.git(work, "diff", "--name-only", "HEAD~1", "HEAD") == SMOKE


def test_relative_paths_and_untracked_files_are_committed(world: GitWorld, work: Path) -> None:
    world.write(work, "baselines/notes-smoke/runs/002.json", "{}\n")
    sha = world.repo(work).commit_files(["baselines/notes-smoke/runs/002.json"], MESSAGE, branch=None)
    assert sha is not None
    assert world.git(work, "show", "--name-only", "--format=", sha) == "baselines/notes-smoke/runs/002.json"


def test_nothing_changed_makes_no_commit(world: GitWorld, work: Path) -> None:
    head = world.git(work, "rev-parse", "HEAD")
    repo = world.repo(work)
    assert repo.commit_files([work / SMOKE], MESSAGE, branch=None) is None
    assert repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH) is None
    assert repo.commit_files([], MESSAGE, branch=None) is None
    assert world.git(work, "rev-parse", "HEAD") == head
    assert world.git(work, "branch", "--list", BRANCH) == ""


def test_a_file_off_the_allow_list_aborts_and_leaves_the_index_untouched(world: GitWorld, work: Path) -> None:
    world.write(work, SMOKE, HEALED)
    world.write(work, "baselines/notes-smoke/runs/003.json", "{}\n")
    world.git(work, "add", "baselines/notes-smoke/runs/003.json")
    world.write(work, "README.md", "# hijacked\n")
    index, head = _index_bytes(work), world.git(work, "rev-parse", "HEAD")
    with pytest.raises(UsageError, match=r"refusing to commit README\.md \(passed\)"):
        world.repo(work).commit_files([work / SMOKE, work / "README.md"], MESSAGE, branch=None)
    assert _index_bytes(work) == index
    assert world.git(work, "rev-parse", "HEAD") == head


def test_a_staged_file_off_the_allow_list_aborts(world: GitWorld, work: Path) -> None:
    world.write(work, SMOKE, HEALED)
    world.write(work, ".github/workflows/evil.yml", "on: push\n")
    world.git(work, "add", ".github/workflows/evil.yml")
    index = _index_bytes(work)
    with pytest.raises(UsageError, match=r"\.github/workflows/evil\.yml \(staged\)"):
        world.repo(work).commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    assert _index_bytes(work) == index


@pytest.mark.parametrize("outside", ["../seed/loadtests/profiles/smoke.yaml", "/etc/passwd", "."])
def test_paths_outside_the_repository_are_refused(work: Path, world: GitWorld, outside: str) -> None:
    with pytest.raises(UsageError, match="outside the repository"):
        world.repo(work).commit_files([outside], MESSAGE, branch=None)


def test_custom_allow_list(world: GitWorld, work: Path) -> None:
    world.write(work, "README.md", "# docs\n")
    assert world.repo(work).commit_files(["README.md"], MESSAGE, branch=None, allow=["*.md"]) is not None


def test_pr_mode_builds_one_commit_on_head_without_touching_the_checkout(world: GitWorld, work: Path) -> None:
    head = world.git(work, "rev-parse", "HEAD")
    world.write(work, SMOKE, HEALED)
    repo = world.repo(work)
    sha = repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    assert sha is not None
    assert world.git(work, "rev-parse", "HEAD") == head
    assert world.git(work, "symbolic-ref", "--short", "HEAD") == "main"
    assert world.git(work, "diff", "--name-only") == SMOKE  # still modified, not staged
    assert world.git(work, "diff", "--cached", "--name-only") == ""
    assert world.git(work, "rev-list", f"{head}..{BRANCH}") == sha
    assert "[skip ci]" not in world.message(work, sha)
    assert world.git(work, "show", f"{BRANCH}:{SMOKE}") == HEALED.strip()
    # the same heal again (even at another time) reuses the commit: nothing new to push
    later = datetime(2025, 1, 1, tzinfo=UTC)
    assert repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH, when=later) == sha


def test_pr_mode_resets_the_branch_onto_a_moved_base(world: GitWorld, work: Path) -> None:
    repo = world.repo(work)
    world.write(work, SMOKE, HEALED)
    first = repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    world.git(work, "stash")
    world.write(work, "README.md", "# moved on\n")
    new_base = world.commit_all(work, "docs")
    world.git(work, "stash", "pop")
    second = repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    assert second not in (None, first)
    assert world.git(work, "rev-list", f"{new_base}..{BRANCH}") == second
    assert world.git(work, "rev-parse", f"{BRANCH}~1") == new_base


def test_pr_mode_only_on_a_heal_branch(world: GitWorld, work: Path) -> None:
    world.write(work, SMOKE, HEALED)
    with pytest.raises(UsageError, match="perfgate/heal-"):
        world.repo(work).commit_files([work / SMOKE], MESSAGE, branch="main")


def test_loop_guard_recognises_perfgate_commits(world: GitWorld, work: Path) -> None:
    repo = world.repo(work)
    assert not repo.is_perfgate_commit("HEAD")
    world.write(work, SMOKE, HEALED)
    repo.commit_files([work / SMOKE], MESSAGE, branch=None)
    assert repo.is_perfgate_commit("HEAD")
    world.write(work, "README.md", "x\n")
    world.commit_all(work, "by hand\n\nPerfgate-Heal: notes-smoke")  # the trailer alone
    assert repo.is_perfgate_commit("HEAD")
    world.write(work, "README.md", "y\n")
    world.commit_all(work, "mentions Perfgate-Heal: in the subject only")
    assert not repo.is_perfgate_commit("HEAD")
    assert not repo.is_perfgate_commit("no-such-ref")


def test_loop_guard_recognises_perfgate_as_author(world: GitWorld, work: Path) -> None:
    world.write(work, "README.md", "z\n")
    world.git(work, "add", "README.md")
    world.git(
        work,
        "commit",
        "--quiet",
        "-m",
        "no trailer",
        "--author",
        "perfgate <perfgate@users.noreply.github.com>",
    )
    assert world.repo(work).is_perfgate_commit("HEAD")


def test_push_fast_forward(world: GitWorld, work: Path) -> None:
    world.write(work, SMOKE, HEALED)
    repo = world.repo(work)
    sha = repo.commit_files([work / SMOKE], MESSAGE, branch=None)
    assert repo.push("origin", "main") == sha
    assert world.remote_rev("main") == sha


def _heal_in(world: GitWorld, checkout: Path) -> str:
    world.write(checkout, SMOKE, HEALED)
    sha = world.repo(checkout).commit_files([checkout / SMOKE], MESSAGE, branch=None)
    assert sha is not None
    return sha


def test_push_race_remote_moved_fetch_rebase_retry(world: GitWorld, work: Path) -> None:
    other = world.clone("other")
    _heal_in(world, work)
    world.write(other, "README.md", "# someone else pushed first\n")
    theirs = world.commit_all(other, "docs")
    world.git(other, "push", "--quiet", "origin", "main")

    pushed = world.repo(work).push("origin", "main")

    assert pushed is not None and world.remote_rev("main") == pushed
    assert world.remote_rev("main~1") == theirs
    assert world.remote_show(f"main:{SMOKE}") == HEALED.strip()
    assert world.remote_show("main:README.md") == "# someone else pushed first"
    assert world.message(work, pushed).endswith("Perfgate-Heal: notes-smoke")


def test_push_race_conflict_is_recomputed(world: GitWorld, work: Path) -> None:
    other = world.clone("other")
    _heal_in(world, work)
    their_text = SMOKE_TEXT.replace("p(95)<150", "p(95)<200").replace("target: 5", "target: 8")
    world.write(other, SMOKE, their_text)
    theirs = world.commit_all(other, "looser limit, more VUs")
    world.git(other, "push", "--quiet", "origin", "main")
    repo, calls = world.repo(work), []

    def recompute() -> str | None:
        current = (work / SMOKE).read_text()
        calls.append(current)
        world.write(work, SMOKE, current.replace("p(95)<200", "p(95)<45"))
        return repo.commit_files([work / SMOKE], MESSAGE, branch=None)

    pushed = repo.push("origin", "main", recompute=recompute)

    assert calls == [their_text]  # recomputed on the remote's file
    assert pushed == world.remote_rev("main")
    assert world.remote_rev("main~1") == theirs
    assert "p(95)<45" in world.remote_show(f"main:{SMOKE}") and "target: 8" in world.remote_show(
        f"main:{SMOKE}"
    )
    assert not (work / ".git" / "rebase-merge").exists()


def test_push_race_conflict_without_recompute_is_an_external_error(world: GitWorld, work: Path) -> None:
    other = world.clone("other")
    _heal_in(world, work)
    world.write(other, SMOKE, "# rewritten\n")
    world.commit_all(other, "rewrite")
    world.git(other, "push", "--quiet", "origin", "main")
    with pytest.raises(ExternalError, match="does not rebase onto it") as info:
        world.repo(work).push("origin", "main")
    assert "CONFLICT" in str(info.value)
    assert not (work / ".git" / "rebase-merge").exists()
    assert world.git(work, "status", "--porcelain") == ""


def test_push_race_recompute_with_nothing_left_to_heal(world: GitWorld, work: Path) -> None:
    other = world.clone("other")
    _heal_in(world, work)
    world.write(other, SMOKE, "# rewritten\n")
    theirs = world.commit_all(other, "rewrite")
    world.git(other, "push", "--quiet", "origin", "main")
    assert world.repo(work).push("origin", "main", recompute=lambda: None) is None
    assert world.remote_rev("main") == theirs


def test_push_retries_are_bounded(world: GitWorld, work: Path) -> None:
    other = world.clone("other")
    _heal_in(world, work)
    world.write(other, "README.md", "moved\n")
    world.commit_all(other, "docs")
    world.git(other, "push", "--quiet", "origin", "main")
    with pytest.raises(ExternalError, match=r"after 1 attempt\(s\).*rejected"):
        world.repo(work).push("origin", "main", retries=0)


def test_push_failure_carries_gits_own_message_and_is_not_retried(world: GitWorld, work: Path) -> None:
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text(
        f"#!/bin/sh\necho attempt >> {world.root / 'attempts'}\necho 'denied by repo policy' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    _heal_in(world, work)
    with pytest.raises(ExternalError, match="denied by repo policy"):
        world.repo(work).push("origin", "main")
    assert (world.root / "attempts").read_text() == "attempt\n"


@pytest.mark.parametrize("branch", ["main", "feature/x"])
def test_never_force_push_a_default_or_foreign_branch(world: GitWorld, work: Path, branch: str) -> None:
    with pytest.raises(UsageError, match="refusing to force-push"):
        world.repo(work).push("origin", branch, force_with_lease=True)


def test_never_force_push_a_heal_branch_that_is_the_remote_default(world: GitWorld, work: Path) -> None:
    world.write(work, SMOKE, HEALED)
    repo = world.repo(work)
    repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    repo.push("origin", BRANCH)
    world.git(world.remote, "symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")
    with pytest.raises(UsageError, match="refusing to force-push"):
        world.repo(work).push("origin", BRANCH, force_with_lease=True)


@pytest.mark.parametrize(
    ("remote", "branch"), [("origin", "-f"), ("origin", "a..b"), ("--upload-pack=x", "main")]
)
def test_push_refuses_option_like_or_invalid_names(
    world: GitWorld, work: Path, remote: str, branch: str
) -> None:
    with pytest.raises(UsageError, match="invalid"):
        world.repo(work).push(remote, branch)


def test_pr_branch_is_replaced_with_force_with_lease(world: GitWorld, work: Path) -> None:
    repo = world.repo(work)
    world.write(work, SMOKE, HEALED)
    first = repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    assert repo.push("origin", BRANCH, force_with_lease=True, lease="") == first
    # the next heal replaces perfgate's own previous commit wholesale, leased on what it fetched
    lease = repo.fetch_branch("origin", BRANCH)
    assert lease == first and repo.foreign_commits(lease, "HEAD") == []
    world.write(work, SMOKE, HEALED.replace("p(95)<40", "p(95)<42"))
    second = repo.commit_files([work / SMOKE], MESSAGE, branch=BRANCH)
    assert repo.push("origin", BRANCH, force_with_lease=True, lease=lease) == second
    assert world.remote_rev(BRANCH) == second
    assert world.remote_rev(f"{BRANCH}~1") == world.remote_rev("main")
