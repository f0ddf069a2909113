"""A run directory written by the runner, or a single k6 result file, read as one `RunRecord`.

A run directory holds `summary.json` (k6 --summary-export), optionally raw points
(`raw.ndjson.gz`, `raw.ndjson` or `raw.csv`) for per-stage numbers, and `run-meta.json`
(`RunMeta`: profile, scenario, load-model fingerprint, k6 exit code, target resources; for a
merged run, the exact-points limit its raw points are read with). A run k6
refused to start (exit 104/107) has run-meta.json and no summary: it loads with no metrics, and
the analysis reports it as broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from perfgate.adapters.k6_results import RawOptions, load_result
from perfgate.errors import InputDataError
from perfgate.models import BROKEN_EXIT_CODES, MetricKey, RunMeta, RunRecord

SUMMARY_NAME = "summary.json"
META_NAME = "run-meta.json"
RAW_NAMES = ("raw.ndjson.gz", "raw.ndjson", "raw.csv")


@dataclass(frozen=True)
class LoadedRun:
    record: RunRecord
    meta: RunMeta | None


def load_meta(path: Path) -> RunMeta:
    try:
        return RunMeta.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise InputDataError(path, f"cannot read: {exc.strerror}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise InputDataError(path, f"not a perfgate run-meta file: {where}: {first['msg']}") from exc


def _merge_meta(record: RunRecord, meta: RunMeta) -> RunRecord:
    context = record.context.model_copy(
        update={
            "k6_exit_code": meta.k6_exit_code,
            "k6_version": meta.k6_version or record.context.k6_version,
            "started_at": record.context.started_at or meta.started_at,
            "profile": meta.profile,
        }
    )
    return record.model_copy(
        update={
            "context": context,
            "fingerprint": meta.fingerprint or record.fingerprint,
            "resources": meta.resources or record.resources,
            "runner": meta.runner or record.runner,
        }
    )


def _with_raw_detail(record: RunRecord, raw: RunRecord) -> RunRecord:
    """Stages from the raw points, and the per-endpoint (`{name:X}`) sub-metrics the summary lacks.

    k6's summary holds a `{name:X}` sub-metric only when a threshold asks for it; an untagged
    script has none. The raw points have every request's `name` (the templated URL by default).
    """
    extra = {
        key: series
        for key, series in raw.metrics.items()
        if key not in record.metrics
        and MetricKey.parse(key).tags
        and set(dict(MetricKey.parse(key).tags)) == {"name"}
    }
    update = {"stages": raw.stages, "metrics": {**record.metrics, **extra}, "notes": raw.notes}
    return record.model_copy(update=update)


def _load_dir(path: Path) -> LoadedRun:
    summary = path / SUMMARY_NAME
    meta_path = path / META_NAME
    meta = load_meta(meta_path) if meta_path.is_file() else None
    if not summary.is_file():
        if meta is not None and meta.k6_exit_code in BROKEN_EXIT_CODES:
            return LoadedRun(record=_merge_meta(_without_numbers(path), meta), meta=meta)
        raise InputDataError(path, f"run directory has no {SUMMARY_NAME}")
    record = load_result(summary)
    raw = next((path / name for name in RAW_NAMES if (path / name).is_file()), None)
    if raw is not None:
        limit = meta.exact_points if meta is not None else None  # a merged run's own limit
        options = RawOptions(exact_points=limit) if limit is not None else None
        record = _with_raw_detail(record, load_result(raw, options=options))
    if meta is not None:
        record = _merge_meta(record, meta)
    return LoadedRun(record=record, meta=meta)


def _without_numbers(path: Path) -> RunRecord:
    """A broken run k6 never started (exit 104/107: no summary): its run-meta and no metrics."""
    return RunRecord(source_format="summary-export", source=str(path / SUMMARY_NAME))


def load_run(path: Path) -> LoadedRun:
    """Read a run directory or any single k6 result file."""
    if path.is_dir():
        return _load_dir(path)
    if not path.exists():
        raise InputDataError(path, "no such file or directory")
    return LoadedRun(record=load_result(path), meta=None)
