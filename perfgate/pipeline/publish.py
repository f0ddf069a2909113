"""Publish a heal: commit the rewritten files, push, and (PR mode) open or update one pull request.

    publish(root, files, plan, "pr", settings, read_only=is_fork)

Publishing is an optional side effect: a read-only run (fork PR, no write access), a missing token
or repository (PR mode), a refused plan or a HEAD made by perfgate itself returns
`operation="skipped"` with a notice instead of raising. Commit mode pushes with the checkout's
git credentials and needs no token. git and GitHub failures raise `ExternalError` (exit 4).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from perfgate.adapters.git_repo import HEAL_TRAILER, GitRepo, LeaseBroken, find_repo_root, heal_branch
from perfgate.adapters.github import GitHubClient, make_github_client
from perfgate.adapters.loadtest_files.common import write_text_atomic
from perfgate.core.render.heal import render_heal_pr_body
from perfgate.errors import UsageError
from perfgate.models import HealPlan, PublishResult
from perfgate.settings import Settings

PublishMode = Literal["commit", "pr"]
Recompute = Callable[[], HealPlan | None]

_LEASE_ATTEMPTS = 3  # the heal branch moved while we computed: fetch and build on it again


def pr_marker(scenario: str) -> str:
    return f"<!-- perfgate-heal:{heal_branch(scenario)} -->"


def render_heal_markdown(plan: HealPlan) -> str:
    """The PR body (`core.render.heal.render_heal_markdown`) under perfgate's marker for the branch."""
    return render_heal_pr_body(plan, marker=pr_marker(plan.scenario))


def render_commit_message(plan: HealPlan, *, skip_ci: bool) -> str:
    subject = f"perfgate: heal {plan.scenario}" + (" [skip ci]" if skip_ci else "")
    body = [f"- {c.metric}: {c.old or '(none)'} -> {c.new} ({c.direction})" for c in plan.thresholds]
    body += [f"- stage {c.stage} of {c.scenario}: {c.kind}" for c in plan.stages]
    return "\n".join([subject, "", *body, "", f"{HEAL_TRAILER}: {plan.scenario}"]) + "\n"


def _skipped(notice: str, branch: str | None = None) -> PublishResult:
    return PublishResult(operation="skipped", branch=branch, notice=notice)


def _precheck(plan: HealPlan, read_only: bool, git: GitRepo) -> PublishResult | None:
    if read_only:
        return _skipped("read-only run (fork PR or no write access): the heal was not published")
    if plan.refused is not None:
        return _skipped(f"healing refused: {plan.refused}")
    if not plan.changed:
        return PublishResult(operation="unchanged", notice="nothing to heal")
    if git.is_perfgate_commit("HEAD"):
        return _skipped("HEAD is a perfgate commit: not healing again (loop guard)")
    return None


def _publish_commit(
    git: GitRepo,
    files: list[Path],
    plan: HealPlan,
    remote: str,
    now: datetime | None,
    recompute: Recompute | None,
) -> PublishResult:
    branch = git.current_branch()
    if branch is None:
        raise UsageError("commit mode needs a checked-out branch, but HEAD is detached")
    sha = git.commit_files(files, render_commit_message(plan, skip_ci=True), branch=None, when=now)
    if sha is None:
        return PublishResult(operation="unchanged", branch=branch, notice="the files already hold the heal")

    def again() -> str | None:
        fresh = recompute() if recompute is not None else None
        if fresh is None or not fresh.changed:
            return None
        return git.commit_files(files, render_commit_message(fresh, skip_ci=True), branch=None, when=now)

    pushed = git.push(remote, branch, recompute=again if recompute is not None else None)
    if pushed is None:
        return PublishResult(
            operation="unchanged", branch=branch, notice="after the remote moved, nothing to heal"
        )
    return PublishResult(operation="committed", branch=branch, commit=pushed)


def _publish_pr(
    git: GitRepo,
    files: list[Path],
    plan: HealPlan,
    github: GitHubClient,
    remote: str,
    base: str,
    now: datetime | None,
) -> PublishResult:
    branch = heal_branch(plan.scenario)
    sha = _push_heal_branch(git, files, plan, remote, branch, now)
    if sha is None:
        return PublishResult(operation="unchanged", branch=branch, notice="the base already holds the heal")
    title = f"perfgate: heal the load test for {plan.scenario}"
    result = github.upsert_pull_request(head=branch, base=base, title=title, body=render_heal_markdown(plan))
    return result.model_copy(update={"commit": sha})


def _push_heal_branch(
    git: GitRepo, files: list[Path], plan: HealPlan, remote: str, branch: str, now: datetime | None
) -> str | None:
    """Commit and push the heal branch, leased on the commit fetched before computing. Someone's
    commits on the branch are kept (ours goes on top); when the branch moves meanwhile, again."""
    message = render_commit_message(plan, skip_ci=False)
    for attempt in range(_LEASE_ATTEMPTS):
        lease = git.fetch_branch(remote, branch)
        foreign = bool(lease) and bool(git.foreign_commits(lease, "HEAD"))
        sha = git.commit_files(files, message, branch=branch, when=now, onto=lease if foreign else None)
        if sha is None:
            return None
        try:
            git.push(remote, branch, force_with_lease=True, lease=lease)
        except LeaseBroken:
            if attempt == _LEASE_ATTEMPTS - 1:
                raise
            continue
        return sha
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _github_client(given: GitHubClient | None, settings: Settings) -> Iterator[GitHubClient | None]:
    """The injected client as is, or one built from the settings and closed afterwards."""
    if given is not None:
        yield given
        return
    client = make_github_client(settings)
    try:
        yield client
    finally:
        if client is not None:
            client.close()


def publish(
    repo_root: Path,
    files: list[Path],
    plan: HealPlan,
    mode: PublishMode,
    settings: Settings,
    *,
    github: GitHubClient | None = None,
    now: datetime | None = None,
    read_only: bool = False,
    git: GitRepo | None = None,
    remote: str = "origin",
    base: str | None = None,
    recompute: Recompute | None = None,
) -> PublishResult:
    """Commit and push `files` for `plan`; in PR mode also open or update the PR.

    `read_only`: the caller knows the run cannot write (fork PR, `pull_request` without write access).
    `base`: the PR's base branch (default: the checked-out branch). `recompute` (commit mode): when a
    push race leaves a conflicting rebase, the branch is reset to the remote and this re-heals the
    files and returns the new plan (None: nothing to heal any more). `now`: the commit date.
    """
    repo = git if git is not None else GitRepo(repo_root)
    early = _precheck(plan, read_only, repo)
    if early is not None:
        return early
    if mode == "commit":
        return _publish_commit(repo, files, plan, remote, now, recompute)
    heal_branch(plan.scenario)  # refuse a bad scenario before anything else
    with _github_client(github, settings) as client:
        if client is None:
            return _skipped(
                "no GitHub token or repository (PERFGATE_GITHUB_TOKEN / GITHUB_REPOSITORY): PR not opened"
            )
        target = base or repo.current_branch()
        if target is None:
            raise UsageError("PR mode needs a base branch: pass base= or check out a branch")
        return _publish_pr(repo, files, plan, client, remote, target, now)


def publish_heal(
    profile: Path, plan: HealPlan, mode: PublishMode, settings: Settings, *, original: str | None = None
) -> PublishResult:
    """`heal --publish`: commit the healed profile in the git checkout that holds it (and open the PR).

    `original`: the profile's text before the heal. When publishing is refused (an error, or skipped:
    read-only, no token, loop guard), the profile gets it back: a refused heal leaves no rewrite behind."""
    path = profile.parent.resolve() / profile.name
    try:
        result = publish(find_repo_root(path), [path], plan, mode, settings)
    except BaseException:
        _restore(path, original)
        raise
    if result.operation == "skipped":
        _restore(path, original)
    return result


def _restore(path: Path, original: str | None) -> None:
    if original is not None and not path.is_symlink():
        write_text_atomic(path, original)
