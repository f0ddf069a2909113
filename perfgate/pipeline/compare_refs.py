"""Compare head (the workspace) with a base ref: a git worktree, both targets started, `compare`.

    workspace ──git worktree add──▶ <out>/base-worktree (detached at the base ref)
    start base (in the worktree) and head (in the workspace), each on its own port
    run_compare(base URL, head URL) ──▶ CompareResult;  stop both;  remove the worktree

Targets: perfgate's notes API (`notes-api`), a start command with a `{port}` placeholder run in
each checkout (`command`), or the workspace's compose file brought up once per checkout under its
own project name with `PERFGATE_PORT` set (`compose`). The load (script, profile) is head's for
both halves, so the two halves differ only in the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from perfgate.adapters.compose import compose_up
from perfgate.adapters.git_repo import GitRepo
from perfgate.adapters.target import free_port, start_target, wait_for_health
from perfgate.errors import UsageError
from perfgate.models.compare import PORT, Arm, BaseRefRequest, CompareResult
from perfgate.pipeline.compare import Progress, run_compare
from perfgate.pipeline.run import start_notes_api

WORKTREE = "base-worktree"
_HEALTH_TIMEOUT_S = 120.0


@contextmanager
def base_worktree(workspace: Path, ref: str, path: Path, say: Progress) -> Iterator[Path]:
    repo = GitRepo(workspace)
    sha = repo.add_worktree(path, ref)
    say(f"base: {ref} ({sha[:12]}) checked out at {path}")
    try:
        yield path
    finally:
        repo.remove_worktree(path)


def _fault_env(request: BaseRefRequest, arm: Arm) -> dict[str, str]:
    return {"NOTES_FAULT_LATENCY_MS": ",".join(request.faults)} if arm == "head" and request.faults else {}


def _start(stack: ExitStack, request: BaseRefRequest, arm: Arm, checkout: Path, say: Progress) -> str:
    """Start one target; its stop is registered on `stack`. Returns its base URL."""
    logs = request.compare.out_dir / f"target-{arm}"
    logs.mkdir(parents=True, exist_ok=True)
    if request.target == "notes-api":
        target, url = start_notes_api(logs, _fault_env(request, arm), say)
        stack.enter_context(target)
        return url
    port = str(free_port())
    url = (request.base_url or f"http://127.0.0.1:{PORT}").replace(PORT, port)
    env = {"PERFGATE_PORT": port, **_fault_env(request, arm)}
    if request.target == "command":
        command, health = str(request.target_command), str(request.health_url)
        say(f"starting {arm} in {checkout} on port {port}")
        running = start_target(
            ["bash", "-c", command.replace(PORT, port)], health_url=health.replace(PORT, port), env=env,
            cwd=checkout, timeout_s=_HEALTH_TIMEOUT_S, log_path=logs / "target.log",
        )  # fmt: skip
        stack.enter_context(running)
        return url
    compose_file = checkout / (request.compose_file or Path("compose.yaml"))
    if not compose_file.is_file():
        raise UsageError(f"input compose-file: {compose_file} does not exist in the {arm} checkout")
    say(f"docker compose up ({arm}) from {compose_file} on port {port}")
    stack.enter_context(compose_up(compose_file, f"perfgate-{arm}-{port}", env, logs / "compose.log"))
    wait_for_health(
        (request.health_url or f"http://127.0.0.1:{PORT}/healthz").replace(PORT, port), _HEALTH_TIMEOUT_S
    )
    return url


def run_base_ref_compare(request: BaseRefRequest, say: Progress) -> CompareResult:
    """Check the base ref out, start base and head, compare them, stop both, remove the worktree."""
    out_dir = request.compare.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        checkout = stack.enter_context(
            base_worktree(request.workspace, request.base_ref, out_dir / WORKTREE, say)
        )
        checkouts: dict[Arm, Path] = {"base": checkout, "head": request.workspace}
        urls = {arm: _start(stack, request, arm, where, say) for arm, where in checkouts.items()}
        compare = request.compare.model_copy(update={"base_url": urls["base"], "head_url": urls["head"]})
        return run_compare(compare, say)
