"""`perfgate run` and `perfgate demo`: start the target, run k6 with a profile, analyse the run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from perfgate.adapters.k6_inspect import K6InspectRefused, env_args
from perfgate.adapters.k6_runner import RawOutput, find_k6, run_k6
from perfgate.adapters.profiles import load_profile
from perfgate.adapters.resources import ResourceSampler, check_pid
from perfgate.adapters.target import RunningTarget, free_port, start_target
from perfgate.core.segments import MAX_SEGMENTS, split
from perfgate.errors import UsageError
from perfgate.models import BROKEN_EXIT_CODES, LoadFingerprint, RunMeta
from perfgate.models.base import Frozen
from perfgate.paths import NOTES_CONF, REPO_ROOT
from perfgate.pipeline.analyze import Analysis, AnalyzeRequest, analyze
from perfgate.pipeline.load_model import LoadModelSource, check_flags, resolve_options
from perfgate.pipeline.reports import write_run_reports

Progress = Callable[[str], None]


class RunRequest(Frozen):
    """One k6 run: a profile against a target (`base_url`, or the notes API started for it)."""

    profile: Path | None
    run_dir: Path
    script: Path | None = None
    base_url: str | None = None
    start_notes_api: bool = False
    faults: dict[str, str] = Field(default_factory=dict)
    k6: Path | None = None
    timeout_s: float = 900.0
    raw_output: RawOutput = "ndjson.gz"
    progress: bool = False
    scenario: str | None = None
    env: dict[str, str] = Field(default_factory=dict)  # -e KEY=VALUE for the script's __ENV
    target_pid: int | None = None  # your own service, already running: sample its CPU/memory
    target_cmd: tuple[str, ...] = ()  # or a command perfgate starts and stops
    health_url: str | None = None  # with target_cmd: polled until 200 (default: base_url)
    segment: tuple[int, int] | None = None  # (index, count): run part index (0-based) of count


def check_segment(part: int, count: int) -> tuple[int, int]:
    """`--segment I --segments N` (I counted from 1) → (index from 0, count), or a usage error."""
    if not 1 <= count <= MAX_SEGMENTS or not 1 <= part <= count:
        raise UsageError(f"--segments {count} --segment {part}: need 1 <= I <= N <= {MAX_SEGMENTS}")
    return part - 1, count


def default_run_dir(root: Path, name: Path, now: datetime) -> Path:
    return root / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{name.stem}"


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


def _check_request(request: RunRequest) -> Path:
    if request.start_notes_api == (request.base_url is not None):
        raise UsageError("give exactly one of --base-url URL or --start-notes-api")
    if request.script is None:
        raise UsageError(
            "--script FILE.js is required: the k6 script to run (`perfgate demo` runs the bundled one)"
        )
    if request.target_pid is not None and request.target_cmd:
        raise UsageError("give one of --target-pid PID or --target-cmd COMMAND, not both")
    if request.start_notes_api and (request.target_pid is not None or request.target_cmd):
        raise UsageError("--target-pid/--target-cmd sample your own service; --start-notes-api starts ours")
    check_flags(request.script, request.profile)
    return request.script


def _target(request: RunRequest, say: Progress) -> tuple[AbstractContextManager[RunningTarget | None], str]:
    """The target to start (if any) and the base URL k6 is given."""
    if request.start_notes_api:
        return start_notes_api(request.run_dir, request.faults, say)
    base_url = request.base_url or ""
    if request.target_cmd:
        say(f"starting the target: {' '.join(request.target_cmd)}")
        started = start_target(
            request.target_cmd,
            health_url=request.health_url or base_url,
            timeout_s=60.0,
            log_path=request.run_dir / "target.log",
        )
        return started, base_url
    return nullcontext(), base_url


LoadModel = tuple[dict[str, Any] | None, LoadFingerprint | None, K6InspectRefused | None]


def _load_model(source: LoadModelSource) -> LoadModel:
    """(options, load model, None), or (None, None, k6's refusal) when `k6 run` refuses the script
    as well: its exit code (104/107) and log then make the run a broken one to report. A plan
    k6 run would still start (no VUs set: `vus: __ENV.VUS` without -e) is bad input, never run."""
    try:
        options, fingerprint = resolve_options(source)
    except K6InspectRefused as refused:
        if refused.k6_run_starts:
            raise
        return None, None, refused
    return options, fingerprint, None


def run_profile(request: RunRequest, say: Progress) -> RunMeta:
    """Start the target if asked, run k6 once into `request.run_dir`, stop the target.

    The script runs with its own options, or with the profile's (`--config`) when one is given;
    the load model is what k6 consolidates from both (`k6 inspect`). A script k6 refuses is still
    run: k6's own exit code (104/107) and log make it a broken run to report.
    """
    script = _check_request(request)
    source = LoadModelSource(script=script, profile=request.profile, env=request.env, k6=request.k6)
    options, fingerprint, refused = _load_model(source)
    profile = load_profile(request.profile) if request.profile is not None else None
    k6 = find_k6(request.k6)
    request.run_dir.mkdir(parents=True, exist_ok=True)
    if request.target_pid is not None:
        check_pid(request.target_pid)
    target, base_url = _target(request, say)
    with target as running:
        pid = running.pid if running is not None else request.target_pid
        sampler = ResourceSampler(pid) if pid is not None else None
        what = f"profile {profile.name}" if profile is not None else f"{script.name} with its own options"
        say(f"running k6: {what} against {base_url} → {request.run_dir}")
        meta = run_k6(
            k6=k6,
            script=script,
            profile=profile,
            run_dir=request.run_dir,
            base_url=base_url,
            timeout_s=request.timeout_s,
            progress=request.progress,
            raw_output=request.raw_output,
            sampler=sampler,
            history_key=request.scenario,
            fingerprint=fingerprint,
            options=options,
            extra_args=env_args(request.env),
            broken_ok=True,
            segment=split(request.segment[1], request.segment[0]) if request.segment else None,
        )
    if refused is not None and meta.k6_exit_code not in BROKEN_EXIT_CODES:
        raise refused  # k6 ran what `k6 inspect` refused: the load model stays unknown
    return meta


def run_and_analyze(run: RunRequest, history: AnalyzeRequest, *, now: datetime, say: Progress) -> Analysis:
    """`perfgate run`/`demo`: one k6 run, its analysis (`history.result` is the run directory) and
    the run directory's reports, all rendered from that analysis."""
    meta = run_profile(run, say)
    say(f"k6 finished (exit {meta.k6_exit_code}) in {meta.wall_s:.1f} s; analysing")
    analysis = analyze(history, today=now.date())
    write_run_reports(analysis, run.run_dir, today=now.date())
    return analysis
