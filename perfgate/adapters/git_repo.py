"""git for publishing a heal: allow-listed commits, the loop guard, and a push that survives a race.

Every git call goes through gitpython's argument lists (no shell); paths always follow `--` as
`:(literal)` pathspecs, symlinks are refused, and a commit holds the files asked for and nothing else.
Untrusted text (scenario names, branch names) is validated before it becomes a ref.

Two ways to commit (`commit_files`):

- PR mode (`branch="perfgate/heal-<scenario>"`): the commit is built in a private index on top of
  HEAD and the branch is pointed at it. HEAD, the index and the working tree stay as they were, and
  the branch always holds exactly one perfgate commit on top of the base (an existing branch is
  reset, or reused when it already holds the same tree on the same base). When the remote branch
  holds commits someone else pushed (a reviewer's fix-up), the new commit goes on top of them
  instead. It is pushed with `--force-with-lease` on the commit perfgate fetched before computing,
  so a commit pushed meanwhile breaks the lease (`LeaseBroken`) and is never overwritten.
- commit mode (`branch=None`): the same commit on the current branch, `[skip ci]` added; the
  index entries of the committed paths follow the new HEAD. Pushed fast-forward only; on a race
  the branch is rebased onto the remote (or recomputed when the rebase conflicts) and pushed again.

Commits carry the trailer `Perfgate-Heal: <scenario>` and perfgate's identity; `is_perfgate_commit`
recognises either, so a perfgate commit never triggers another heal. Hooks do not run.

Size (over 300 lines): one `GitRepo` class; the two commit modes, the loop guard and the
race-safe push share its private index handling.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import git

from perfgate.errors import ExternalError, UsageError

HEAL_TRAILER = "Perfgate-Heal"
HEAL_BRANCH_PREFIX = "perfgate/heal-"
SKIP_CI = "[skip ci]"
DEFAULT_ALLOW: tuple[str, ...] = (
    "loadtests/profiles/**",
    "loadtests/**/*.js",
    "baselines/**",
    "perfgate.yml",
)
PERFGATE_NAME = "perfgate"
PERFGATE_EMAIL = "perfgate@users.noreply.github.com"
_SCENARIO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_REMOTE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_REJECTED = ("[rejected]", "(stale info)", "(fetch first)", "(non-fast-forward)")
_BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true"}


def find_repo_root(path: Path) -> Path:
    """The git checkout holding `path` (the nearest folder above it with a `.git`)."""
    for folder in [path.resolve().parent, *path.resolve().parents]:
        if (folder / ".git").exists():
            return folder
    raise UsageError(f"--publish: {path} is not inside a git repository")


def heal_branch(scenario: str) -> str:
    """`perfgate/heal-<scenario>`, after checking the scenario cannot smuggle anything into a ref."""
    if not _SCENARIO.fullmatch(scenario) or ".." in scenario or scenario.endswith((".", ".lock")):
        raise UsageError(f"scenario {scenario!r} cannot name a branch: use letters, digits, '.', '_', '-'")
    return HEAL_BRANCH_PREFIX + scenario


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A repo-relative glob: `*` and `?` stay within a directory, `**` spans directories."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            char = pattern[i]
            out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            i += 1
    return re.compile("".join(out))


def has_heal_trailer(message: str) -> bool:
    paragraphs = message.strip().split("\n\n")
    return re.search(rf"(?mi)^{HEAL_TRAILER}:\s*\S", paragraphs[-1]) is not None


class GitRepo:
    """One working copy. `env` (e.g. HOME, fixed dates in tests) is added to every git call."""

    def __init__(
        self,
        path: Path,
        *,
        env: Mapping[str, str] | None = None,
        identity: tuple[str, str] = (PERFGATE_NAME, PERFGATE_EMAIL),
    ) -> None:
        try:
            self._repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise UsageError(f"{path} is not a git repository") from exc
        self.root = Path(self._repo.working_dir).resolve()
        self._env = {**_BASE_ENV, **(env or {})}
        self.identity = identity

    # ---- running git ----------------------------------------------------------------------------

    def _git(
        self, *args: str, env: Mapping[str, str] | None = None, check: bool = True
    ) -> tuple[int, str, str]:
        status, out, err = self._repo.git.execute(
            ["git", *args],
            with_extended_output=True,
            with_exceptions=False,
            env={**self._env, **(env or {})},
            strip_newline_in_stdout=False,
        )
        if check and status != 0:
            detail = _detail(str(out), str(err))
            raise ExternalError(f"git {args[0]} failed (exit {status}): {detail}")
        return int(status or 0), str(out), str(err)

    def _out(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return self._git(*args, env=env)[1].strip()

    def rev(self, ref: str) -> str | None:
        status, out, _ = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return out.strip() if status == 0 else None

    def current_branch(self) -> str | None:
        status, out, _ = self._git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.strip() if status == 0 else None

    def is_perfgate_commit(self, sha: str = "HEAD") -> bool:
        """Made by perfgate: the `Perfgate-Heal` trailer or perfgate's author e-mail."""
        if self.rev(sha) is None:
            return False
        author, message = self._out("log", "-1", "--format=%ae%x00%B", sha, "--").split("\x00", 1)
        return has_heal_trailer(message) or author.lower() == self.identity[1].lower()

    # ---- committing ---------------------------------------------------------------------------------

    def _relative(self, file: Path | str) -> str:
        path = Path(file)
        given = path if path.is_absolute() else self.root / path
        if given.is_symlink():
            raise UsageError(f"refusing to commit {file}: it is a symlink")
        absolute = given.parent.resolve() / given.name
        if not absolute.is_relative_to(self.root) or absolute == self.root:
            raise UsageError(f"{file} is outside the repository {self.root}")
        return absolute.relative_to(self.root).as_posix()

    def _check_only(self, paths: Sequence[str], base: str, env: Mapping[str, str]) -> None:
        """The private index differs from `base` in `paths` and nothing else."""
        changed = self._out("diff-index", "--cached", "--name-only", "--no-renames", "-z", base, env=env)
        extra = sorted(set(filter(None, changed.split("\x00"))) - set(paths))
        if extra:
            raise UsageError(f"refusing to commit {', '.join(extra[:5])}: not among the files asked for")

    def _check_allowed(self, paths: Sequence[str], allow: Sequence[str]) -> None:
        patterns = [glob_regex(p) for p in allow]
        staged = self._out("diff", "--cached", "--name-only", "--no-renames", "-z").split("\x00")
        for path, what in [*((p, "passed") for p in paths), *((p, "staged") for p in staged if p)]:
            if not any(p.fullmatch(path) for p in patterns):
                raise UsageError(
                    f"refusing to commit {path} ({what}): not on the allow-list {', '.join(allow)}"
                )

    @contextlib.contextmanager
    def _private_index(self) -> Iterator[dict[str, str]]:
        index = Path(self._repo.git_dir) / "perfgate-index"
        index.unlink(missing_ok=True)
        try:
            yield {"GIT_INDEX_FILE": str(index)}
        finally:
            index.unlink(missing_ok=True)

    def _commit_env(self, when: datetime | None) -> dict[str, str]:
        name, email = self.identity
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
        env |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        if when is not None:
            stamp = when.isoformat()
            env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        return env

    def commit_files(
        self,
        files: Sequence[Path | str],
        message: str,
        *,
        branch: str | None,
        allow: Sequence[str] = DEFAULT_ALLOW,
        when: datetime | None = None,
        onto: str | None = None,
    ) -> str | None:
        """Commit `files` (working-tree content) on top of HEAD; None when they equal HEAD already.

        `onto` (PR mode): build on that commit instead (the remote heal branch when it holds
        someone else's commits), so nothing on the branch is dropped."""
        paths = sorted({self._relative(f) for f in files})
        self._check_allowed(paths, allow)
        head = self.rev("HEAD")
        if head is None or not paths:
            return None
        if branch is not None and not branch.startswith(HEAL_BRANCH_PREFIX):
            raise UsageError(f"PR-mode commits go on a {HEAL_BRANCH_PREFIX}<scenario> branch, not {branch!r}")
        if branch is not None:
            heal_branch(branch.removeprefix(HEAL_BRANCH_PREFIX))
        parent = onto or head
        tree = self._tree_with(parent, paths)
        if tree == self._out("rev-parse", f"{parent}^{{tree}}"):
            return None
        if branch is None:
            return self._commit_on_current(head, tree, paths, message, when)
        if onto is not None:  # on top of someone's commits on the branch: keep them
            sha = self._commit_tree(onto, tree, message, when)
            self._git("update-ref", "-m", "perfgate: heal", f"refs/heads/{branch}", sha)
            return sha
        return self._commit_on_branch(branch, head, tree, message, when)

    def _tree_with(self, base: str, paths: Sequence[str]) -> str:
        """`base`'s tree with the working-tree content of `paths` (taken literally, never as globs)."""
        with self._private_index() as index_env:
            self._git("read-tree", base, env=index_env)
            self._git("add", "--all", "--", *_literal(paths), env=index_env)
            self._check_only(paths, base, index_env)
            return self._out("write-tree", env=index_env)

    def _commit_tree(self, head: str, tree: str, message: str, when: datetime | None) -> str:
        return self._out("commit-tree", tree, "-p", head, "-m", message, env=self._commit_env(when))

    def _commit_on_current(
        self, head: str, tree: str, paths: list[str], message: str, when: datetime | None
    ) -> str:
        current = self.current_branch()
        if current is None:
            raise UsageError("commit mode needs a checked-out branch, but HEAD is detached")
        if SKIP_CI not in message:
            message = _with_subject_suffix(message, SKIP_CI)
        sha = self._commit_tree(head, tree, message, when)
        self._git("update-ref", "-m", "perfgate: heal", f"refs/heads/{current}", sha, head)
        self._git("reset", "--quiet", "HEAD", "--", *_literal(paths))
        return sha

    def _commit_on_branch(
        self, branch: str, head: str, tree: str, message: str, when: datetime | None
    ) -> str:
        ref = f"refs/heads/{branch}"
        existing = self.rev(ref)
        if existing is not None and self._out("rev-parse", f"{existing}^{{tree}}") == tree:
            parents = self._out("rev-list", "--parents", "-n", "1", existing).split()[1:]
            if parents == [head] and self._out("log", "-1", "--format=%B", existing) == message.strip():
                return existing
        sha = self._commit_tree(head, tree, message, when)
        self._git("update-ref", "-m", "perfgate: heal", ref, sha)
        return sha

    # ---- worktrees (perfgate compare against a base ref) --------------------------------------------

    def add_worktree(self, path: Path, ref: str) -> str:
        """Check `ref` (or `origin/<ref>`) out, detached, at `path`; returns the commit."""
        sha = self.rev(ref) or self.rev(f"origin/{ref}")
        if sha is None:
            raise UsageError(f"{ref!r} is not a commit in {self.root} (fetch it first, e.g. fetch-depth: 0)")
        self._git("worktree", "add", "--detach", "--force", str(path), sha)
        return sha

    def remove_worktree(self, path: Path) -> None:
        self._git("worktree", "remove", "--force", str(path), check=False)
        self._git("worktree", "prune", check=False)

    # ---- pushing ------------------------------------------------------------------------------------

    def default_branch(self, remote: str) -> str | None:
        status, out, _ = self._git("ls-remote", "--symref", remote, "HEAD", check=False)
        match = re.search(r"^ref: refs/heads/(\S+)\s+HEAD$", out, re.MULTILINE) if status == 0 else None
        return match.group(1) if match else None

    def remote_sha(self, remote: str, branch: str) -> str:
        """The remote branch's commit, or "" when it does not exist."""
        out = self._out("ls-remote", remote, f"refs/heads/{branch}")
        return out.split()[0] if out else ""

    def fetch_branch(self, remote: str, branch: str) -> str:
        """Fetch `remote`'s `branch` (its objects become local); its commit, or "" when absent."""
        self._check_push_target(remote, branch, force=False)
        sha = self.remote_sha(remote, branch)
        if sha:
            self._git("fetch", "--quiet", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
        return sha

    def foreign_commits(self, tip: str, base: str) -> list[str]:
        """Commits on `tip` but not on `base` that perfgate did not make (a reviewer's fix-ups)."""
        shas = self._out("rev-list", tip, "--not", base, "--").split()
        return [sha for sha in shas if not self.is_perfgate_commit(sha)]

    def push(
        self,
        remote: str,
        branch: str,
        *,
        retries: int = 3,
        force_with_lease: bool = False,
        lease: str | None = None,
        recompute: Callable[[], str | None] | None = None,
    ) -> str | None:
        """Push `branch` to `remote`; return the commit pushed, None when a recompute left nothing.

        `force_with_lease` needs `lease`: the remote branch's commit as perfgate saw it before
        computing ("" = absent). Never read just before pushing: a commit pushed by someone in
        between must make the push fail (`LeaseBroken`), not be overwritten."""
        self._check_push_target(remote, branch, force_with_lease)
        if force_with_lease and lease is None:
            raise UsageError("force-with-lease needs the lease perfgate computed on")
        for attempt in range(retries + 1):
            local = self.rev(f"refs/heads/{branch}")
            if local is None:
                raise UsageError(f"no local branch {branch!r} to push")
            status, out, err = self._git(
                "push",
                "--porcelain",
                *_push_args(remote, branch, lease if force_with_lease else None),
                check=False,
            )
            if status == 0:
                return local
            if force_with_lease and any(mark in out + err for mark in _REJECTED):
                raise LeaseBroken(f"{remote}/{branch} moved since perfgate read it: {_detail(out, err)}")
            if not any(mark in out + err for mark in _REJECTED) or attempt == retries:
                detail = _detail(out, err)
                raise ExternalError(
                    f"git push to {remote} {branch} failed after {attempt + 1} attempt(s): {detail}"
                )
            if not force_with_lease and not self._catch_up(remote, branch, recompute):
                return None
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_push_target(self, remote: str, branch: str, force: bool) -> None:
        if not _REMOTE.fullmatch(remote):
            raise UsageError(f"invalid remote name {remote!r}")
        status, _, _ = self._git("check-ref-format", f"refs/heads/{branch}", check=False)
        if status != 0 or branch.startswith("-"):
            raise UsageError(f"invalid branch name {branch!r}")
        if force and (not branch.startswith(HEAL_BRANCH_PREFIX) or branch == self.default_branch(remote)):
            raise UsageError(f"refusing to force-push {branch!r}: only perfgate's own heal branches may be")

    def _catch_up(self, remote: str, branch: str, recompute: Callable[[], str | None] | None) -> bool:
        """Fetch the moved remote branch and put our commit on top; False when nothing is left to push."""
        if self.current_branch() != branch:
            raise UsageError(f"cannot rebase {branch!r}: it is not the checked-out branch")
        tracking = f"refs/remotes/{remote}/{branch}"
        self._git("fetch", "--quiet", remote, f"+refs/heads/{branch}:{tracking}")
        status, out, err = self._git("rebase", "--quiet", tracking, env=self._commit_env(None), check=False)
        if status == 0:
            return True
        in_progress = any((Path(self._repo.git_dir) / d).exists() for d in ("rebase-merge", "rebase-apply"))
        if in_progress:
            self._git("rebase", "--abort")
        if not in_progress or recompute is None:
            detail = _detail(out, err)
            raise ExternalError(f"{remote}/{branch} moved and the commit does not rebase onto it: {detail}")
        self._git("reset", "--quiet", "--keep", tracking)
        return recompute() is not None


class LeaseBroken(ExternalError):
    """The remote heal branch moved after perfgate read it: recompute on top, never overwrite."""


def _literal(paths: Sequence[str]) -> list[str]:
    """Pathspecs that mean exactly these files: `*`, `?`, `[` and `:` in a name stay characters."""
    return [f":(literal){path}" for path in paths]


def _detail(out: str, err: str, limit: int = 800) -> str:
    """git's own words (stderr, then stdout) on one line."""
    text = " | ".join(line.strip() for line in (err + "\n" + out).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _push_args(remote: str, branch: str, lease: str | None) -> list[str]:
    ref = f"refs/heads/{branch}"
    force = [] if lease is None else [f"--force-with-lease={ref}:{lease}"]
    return [*force, remote, f"{ref}:{ref}"]


def _with_subject_suffix(message: str, suffix: str) -> str:
    subject, _, rest = message.strip().partition("\n")
    return f"{subject} {suffix}" + (f"\n{rest}" if rest else "")
