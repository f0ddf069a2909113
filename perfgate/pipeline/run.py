"""`perfgate run` and `perfgate demo`: start the target, run k6 with a profile, analyse the run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path

from pydantic import Field

from perfgate.adapters.k6_runner import RawOutput, find_k6, run_k6
from perfgate.adapters.profiles import load_profile
from perfgate.adapters.resources import ResourceSampler
from perfgate.adapters.target import RunningTarget, free_port, start_target
from perfgate.errors import UsageError
from perfgate.models import RunMeta
from perfgate.models.base import Frozen
from perfgate.paths import NOTES_CONF, NOTES_SCRIPT, REPO_ROOT
from perfgate.pipeline.analyze import Analysis, AnalyzeRequest, analyze
from perfgate.pipeline.reports import write_run_reports

Progress = Callable[[str], None]


class RunRequest(Frozen):
    """One k6 run: a profile against a target (`base_url`, or the notes API started for it)."""

    profile: Path
    run_dir: Path
    script: Path = NOTES_SCRIPT
    base_url: str | None = None
    start_notes_api: bool = False
    faults: dict[str, str] = Field(default_factory=dict)
    k6: Path | None = None
    timeout_s: float = 900.0
    raw_output: RawOutput = "ndjson.gz"
    progress: bool = False
    scenario: str | None = None


def default_run_dir(root: Path, profile: Path, now: datetime) -> Path:
    return root / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{profile.stem}"


def notes_api_command() -> list[str]:
    if not NOTES_CONF.is_file():
        raise UsageError("--start-notes-api needs a perfgate checkout (target_app/ was not found)")
    return [sys.executable, "-m", "gunicorn", "-c", str(NOTES_CONF), "target_app.wsgi:app"]


def start_notes_api(run_dir: Path, faults: Mapping[str, str], say: Progress) -> tuple[RunningTarget, str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    db_path = (run_dir / "notes.db").resolve()  # gunicorn runs in the repo root
    env = {"NOTES_BIND": f"127.0.0.1:{port}", "NOTES_DB_PATH": str(db_path), **faults}
    say(f"starting the notes API on {base_url}" + (f" with faults {dict(faults)}" if faults else ""))
    target = start_target(
        notes_api_command(),
        health_url=f"{base_url}/healthz",
        env=env,
        cwd=REPO_ROOT,
        timeout_s=30.0,
        log_path=run_dir / "target.log",
    )
    return target, base_url


def run_profile(request: RunRequest, say: Progress) -> RunMeta:
    """Start the target if asked, run k6 once into `request.run_dir`, stop the target."""
    if request.start_notes_api == (request.base_url is not None):
        raise UsageError("give exactly one of --base-url URL or --start-notes-api")
    profile = load_profile(request.profile, script=request.script)
    k6 = find_k6(request.k6)
    request.run_dir.mkdir(parents=True, exist_ok=True)
    target: AbstractContextManager[RunningTarget | None] = nullcontext()
    base_url = request.base_url or ""
    if request.start_notes_api:
        target, base_url = start_notes_api(request.run_dir, request.faults, say)
    with target as running:
        sampler = ResourceSampler(running.pid) if running is not None else None
        say(f"running k6: profile {profile.name} against {base_url} → {request.run_dir}")
        return run_k6(
            k6=k6,
            script=request.script,
            profile=profile,
            run_dir=request.run_dir,
            base_url=base_url,
            timeout_s=request.timeout_s,
            progress=request.progress,
            raw_output=request.raw_output,
            sampler=sampler,
            history_key=request.scenario,
        )


def run_and_analyze(run: RunRequest, history: AnalyzeRequest, *, now: datetime, say: Progress) -> Analysis:
    """`perfgate run`/`demo`: one k6 run, its analysis (`history.result` is the run directory) and
    the run directory's reports, all rendered from that analysis."""
    meta = run_profile(run, say)
    say(f"k6 finished (exit {meta.k6_exit_code}) in {meta.wall_s:.1f} s; analysing")
    analysis = analyze(history, today=now.date())
    write_run_reports(analysis, run.run_dir, today=now.date())
    return analysis
