"""The history store: one JSON file per run under `<root>/<scenario>/runs/<run_id>.json`.

Concurrent writers and git merges never conflict: every run gets a file of its own with a
unique name (default run id: UTC time + 64 random bits, `20261123T142301Z-3f9a1c07d2e8b645`) and
no file is ever appended to. Writes are atomic (temp file in the same directory, flush, fsync,
then `os.link` for a new run — which fails when the id is taken, so of two writers racing for
one id exactly one wins and the other is told — or `os.replace` for a rewrite, then fsync of the
directory): a crash leaves the whole file or none, and a leftover temp file (`.<name>.*.tmp`,
hidden) is never read as a run. Symlinks that lead out of the root are refused (read and write).

Each file is a `StoredRun` as JSON with sorted keys, 2-space indent and a trailing newline,
carrying `schema_version`. Older versions are upgraded on read, one step at a time
(`_UPGRADES`, version N -> N+1); newer versions are refused with `SchemaVersionError`.

    schema 0  the pre-release layout: the RunRecord fields `source_format`, `source`,
              `metrics`, `checks` and `context` sat at the top level beside `run_id`,
              `scenario` and `recorded_at`; there was no `record` object.
    schema 1  `perfgate.models.StoredRun` (current).

Compaction (`prune(compact_after=M)`) rewrites every run older than the newest M, once, with
`compacted=true`: `record.stages` and `record.resources.samples` are dropped, and a metric is
kept only when (a) a policy rule matches its key, (b) it carries k6 thresholds (the healer
tunes them), or (c) it is one of k6's run-level headline metrics (`HEADLINE_METRICS`).
Context, checks, fingerprint and verdict are always kept.

Size (over 300 lines): the store's write, read, upgrade and prune rules share one file layout
and its invariants (atomicity, safe names); split, a reader would have to hold them in two places.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from perfgate.adapters.atomic import fsync_dir, write_atomic
from perfgate.adapters.history_index import drop_index, indexed_history
from perfgate.adapters.indexed_history import IndexedHistory
from perfgate.adapters.json_text import parse_json
from perfgate.adapters.policy_file import describe_validation_error
from perfgate.errors import InputDataError, SchemaVersionError, UsageError, excerpt
from perfgate.models import HISTORY_SCHEMA_VERSION, HistoryPolicy, MetricRule, Policy, RunRecord, StoredRun
from perfgate.models.base import SAFE_NAME_PATTERN, Strict
from perfgate.models.verdict import VerdictKind

COMPLETED_K6_EXIT_CODES = frozenset({0, 99})  # 99: thresholds crossed, the run itself completed
DEFAULT_KEEP_RUNS = HistoryPolicy().keep_runs
HEADLINE_METRICS = frozenset(
    (
        "http_req_duration",
        "http_req_failed",
        "http_reqs",
        "checks",
        "iterations",
        "dropped_iterations",
        "vus_max",
    )
)
RUN_ID_RANDOM_BYTES = 8
_SAFE_NAME = re.compile(SAFE_NAME_PATTERN)  # as StoredRun.run_id / .scenario
_V0_RECORD_FIELDS = ("source_format", "source", "metrics", "checks", "context")


def _upgrade_v0(data: dict[str, Any]) -> dict[str, Any]:
    """schema 0 -> 1: the RunRecord fields move under `record`."""
    record = {key: data[key] for key in _V0_RECORD_FIELDS if key in data}
    rest = {key: value for key, value in data.items() if key not in _V0_RECORD_FIELDS}
    return {**rest, "schema_version": 1, "record": record}


_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _upgrade_v0}


class PruneReport(Strict):
    """What `BaselineStore.prune` did (or, with `dry_run`, would do)."""

    scenario: str
    dry_run: bool
    kept: int = Field(ge=0, description="runs left after pruning")
    deleted: list[str] = Field(default_factory=list, description="run ids deleted, oldest first")
    compacted: list[str] = Field(default_factory=list, description="run ids rewritten compact, oldest first")
    bytes_before: int = Field(ge=0)
    bytes_after: int = Field(ge=0)


def new_run_id(recorded_at: datetime) -> str:
    """`20261123T142301Z-3f9a1c07d2e8b645`: sortable by time; 64 random bits make concurrent jobs
    (even thousands recording in the same second) collide with odds below one in 10^10."""
    return (
        recorded_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(RUN_ID_RANDOM_BYTES)
    )


def invalid_reason(record: RunRecord) -> str | None:
    """Why a run cannot serve as a baseline, or None when it can."""
    code = record.context.k6_exit_code
    if code is not None and code not in COMPLETED_K6_EXIT_CODES:
        return f"k6 exited with code {code} (only 0 and 99 mean the run completed)"
    if not record.metrics:
        return "the run has no metrics"
    requests = record.context.http_reqs
    if requests is None:
        count = record.value("http_reqs", "count")
        requests = None if count is None else round(count)
    if not requests:
        return "the run made no HTTP requests"
    return None


def compact_run(run: StoredRun, rules: Sequence[MetricRule]) -> StoredRun:
    """The compact form of a run (see the module docstring); the input is not changed."""
    record = run.record
    metrics = {
        key: series
        for key, series in record.metrics.items()
        if series.thresholds or key in HEADLINE_METRICS or any(rule.matches(key) for rule in rules)
    }
    resources = record.resources.model_copy(update={"samples": []}) if record.resources else None
    slim = record.model_copy(update={"metrics": metrics, "stages": [], "resources": resources})
    return run.model_copy(update={"record": slim, "compacted": True})


def dump_json(model: BaseModel) -> bytes:
    """The file form of a model: sorted keys, 2-space indent, trailing newline, UTF-8."""
    data = model.model_dump(mode="json")
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode()


def save_json(path: Path, model: BaseModel) -> None:
    """Write `model` to `path` atomically (the directory must exist)."""
    write_atomic(path, dump_json(model))


def load_json(path: Path) -> object:
    """Parse a JSON file; any problem becomes `InputDataError` naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputDataError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        return parse_json(raw)
    except json.JSONDecodeError as exc:
        raise InputDataError(
            path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise InputDataError(path, f"not valid JSON: {exc}") from None


def _taken(path: Path) -> UsageError:
    return UsageError(f"run {path.stem!r} already exists in {path.parent}; run ids are never reused")


def _is_safe_name(value: str) -> bool:
    return _SAFE_NAME.fullmatch(value) is not None and ".." not in value


def _safe_name(what: str, value: str) -> str:
    """Untrusted text never becomes a path: one plain file-name component or a UsageError."""
    if not _is_safe_name(value):
        raise UsageError(
            f"invalid {what} {excerpt(value)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def parse_stored_run(data: object, source: Path) -> StoredRun:
    """A decoded run file -> `StoredRun`, upgrading older schema versions."""
    if not isinstance(data, dict):
        raise InputDataError(source, f"expected a JSON object, got {type(data).__name__}")
    version = data.get("schema_version")
    if type(version) is not int:
        raise InputDataError(source, f"schema_version must be an integer, got {version!r}")
    if version > HISTORY_SCHEMA_VERSION:
        raise SchemaVersionError(
            source,
            f"written by a newer perfgate (schema {version} > {HISTORY_SCHEMA_VERSION}); upgrade perfgate",
        )
    while version < HISTORY_SCHEMA_VERSION:
        upgrade = _UPGRADES.get(version)
        if upgrade is None:
            raise InputDataError(source, f"unknown schema_version {version}")
        data, version = upgrade(data), version + 1
    try:
        run = StoredRun.model_validate(data)
    except ValidationError as exc:
        raise InputDataError(source, describe_validation_error(exc)) from None
    return _current_fingerprint(run)


def _current_fingerprint(run: StoredRun) -> StoredRun:
    """Runs stored before the load model left the script text out carry an older digest: map it.

    The full `LoadFingerprint` is kept in `record.fingerprint`, so today's digest is recomputed
    from it; the file itself is not rewritten.
    """
    if run.record.fingerprint is None:
        return run
    digest = run.record.fingerprint.digest()
    return run if digest == run.fingerprint else run.model_copy(update={"fingerprint": digest})


def _chronological(run: StoredRun) -> tuple[datetime, str]:
    return run.recorded_at, run.run_id


class BaselineStore:
    """The runs of every scenario under `root` (`baselines/` in the repository)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run_dir(self, scenario: str) -> Path:
        return self.root / _safe_name("scenario", scenario) / "runs"

    def run_path(self, scenario: str, run_id: str) -> Path:
        return self.run_dir(scenario) / f"{_safe_name('run id', run_id)}.json"

    def record(
        self,
        scenario: str,
        record: RunRecord,
        *,
        recorded_at: datetime,
        run_id: str | None = None,
        verdict: VerdictKind | None = None,
        commit: str | None = None,
    ) -> StoredRun:
        """Store one run in a new file; an existing run id is never overwritten."""
        if recorded_at.tzinfo is None:
            raise UsageError("recorded_at must carry a time zone")
        path = self.run_path(scenario, run_id if run_id is not None else new_run_id(recorded_at))
        if path.exists():
            raise _taken(path)
        reason = invalid_reason(record)
        stored = StoredRun(
            run_id=path.stem,
            scenario=scenario,
            recorded_at=recorded_at.astimezone(UTC),
            fingerprint=record.fingerprint.digest() if record.fingerprint else None,
            verdict=verdict,
            valid=reason is None,
            invalid_reason=reason,
            commit=commit,
            record=record,
        )
        self._check_inside(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_atomic(path, dump_json(stored), create=True)
        except FileExistsError:  # another writer recorded the same run id a moment ago
            raise _taken(path) from None
        return stored

    def runs(self, scenario: str) -> list[StoredRun]:
        """Every run of `scenario` in full, read from its file, oldest first (recorded_at, then run id);
        none if it has no history. Readers that judge or chart the history use `summaries`."""
        _, paths = self._run_files(scenario)
        return sorted((self._load(path, scenario) for path in paths), key=_chronological)

    def summaries(self, scenario: str) -> list[StoredRun]:
        """Every run of `scenario` as the gate, heal, trend and reports read it, oldest first: the
        runs without their checks, threshold expressions and resource samples
        (`history_index.summarize`), from the folder's index where it is current."""
        return self.history(scenario).summaries()

    def history(self, scenario: str) -> IndexedHistory:
        """The runs of `scenario`, oldest first, as heads, value columns and summaries on demand
        (`IndexedHistory`), from the folder's index where it is current."""
        directory, paths = self._run_files(scenario)
        inside = not paths or directory.resolve().is_relative_to(self.root.resolve())
        return indexed_history(  # a symlink out of the root: every file checked, nothing cached
            directory, paths, scenario, lambda path: self._load(path, scenario), cache=inside and bool(paths)
        )

    def _run_files(self, scenario: str) -> tuple[Path, list[Path]]:
        directory = self.run_dir(scenario)
        if not directory.is_dir():
            return directory, []
        return directory, [
            p for p in directory.iterdir() if p.suffix == ".json" and not p.name.startswith(".")
        ]

    def get(self, scenario: str, run_id: str) -> StoredRun:
        path = self.run_path(scenario, run_id)
        if not path.is_file():
            raise UsageError(f"no run {run_id!r} in scenario {scenario!r} under {self.root}")
        return self._load(path, scenario)

    def scenarios(self) -> list[str]:
        """Names of the scenarios that have a `runs/` directory, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _is_safe_name(p.name) and (p / "runs").is_dir())

    def prune(
        self,
        scenario: str,
        *,
        keep: int = DEFAULT_KEEP_RUNS,
        compact_after: int | None = None,
        dry_run: bool = False,
        rules: Sequence[MetricRule] | None = None,
    ) -> PruneReport:
        """Delete the oldest runs beyond `keep`; compact kept runs older than the newest `compact_after`.

        `rules` decide which metrics survive compaction (default: the built-in policy's rules).
        All runs count towards `keep`, valid or not.
        """
        if keep < 1:
            raise UsageError(f"keep must be at least 1, got {keep}")
        if compact_after is not None and compact_after < 0:
            raise UsageError(f"compact_after must be 0 or more, got {compact_after}")
        runs = self.runs(
            scenario
        )  # in full, from the files: a dry run writes nothing; a real one drops the index
        doomed = runs[: max(len(runs) - keep, 0)]
        kept = runs[len(doomed) :]
        aged = kept[: max(len(kept) - compact_after, 0)] if compact_after is not None else []
        gate_rules = list(rules) if rules is not None else Policy().rules
        payloads = {run.run_id: dump_json(compact_run(run, gate_rules)) for run in aged if not run.compacted}
        sizes = {run.run_id: self.run_path(scenario, run.run_id).stat().st_size for run in runs}
        after = sum(sizes[run.run_id] for run in kept if run.run_id not in payloads)
        if not dry_run:
            self._apply_prune(scenario, [run.run_id for run in doomed], payloads)
        return PruneReport(
            scenario=scenario,
            dry_run=dry_run,
            kept=len(kept),
            deleted=[run.run_id for run in doomed],
            compacted=list(payloads),
            bytes_before=sum(sizes.values()),
            bytes_after=after + sum(len(payload) for payload in payloads.values()),
        )

    def _apply_prune(self, scenario: str, doomed: list[str], payloads: dict[str, bytes]) -> None:
        drop_index(self.run_dir(scenario).parent)  # no copy of a pruned run survives
        for run_id in doomed:
            self.run_path(scenario, run_id).unlink(missing_ok=True)
        for run_id, payload in payloads.items():
            write_atomic(self.run_path(scenario, run_id), payload)
        fsync_dir(self.run_dir(scenario))

    def _check_inside(self, path: Path) -> None:
        """Symlinks may not lead a read or a write out of the baselines folder."""
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise InputDataError(path, f"a symlink leads outside the baselines folder {self.root}: refused")

    def _load(self, path: Path, scenario: str) -> StoredRun:
        self._check_inside(path)
        run = parse_stored_run(load_json(path), path)
        if run.run_id != path.stem:
            raise InputDataError(path, f"run_id {run.run_id!r} does not match the file name")
        if run.scenario != scenario:
            raise InputDataError(path, f"scenario {run.scenario!r} does not match the directory {scenario!r}")
        if run.recorded_at.tzinfo is None:
            raise InputDataError(path, "recorded_at must carry a time zone, e.g. 2026-11-23T14:23:01Z")
        return run
