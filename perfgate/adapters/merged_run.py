"""The parts `perfgate merge` reads, and the run directory it writes.

A part is a perfgate run directory (its raw points plus `run-meta.json`) or a bare raw file
(NDJSON or CSV, plain or gzip) as a k6-operator runner leaves it. The merged run directory is
one any other command reads (`run_dir.load_run`):

    summary.json    the merged metrics as k6's handleSummary JSON (types, thresholds with `ok`)
    raw.ndjson.gz   every part's points, concatenated (per-stage numbers; NDJSON parts only)
    run-meta.json   `RunMeta` of the whole test (k6 exit code 99 when a threshold was crossed)
    merge.json      `MergeResult`: parts, merged stats, thresholds evaluated once
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfgate.adapters.k6_results.sources import RawFormat, sniff
from perfgate.adapters.run_dir import META_NAME, RAW_NAMES, SUMMARY_NAME, load_meta
from perfgate.errors import InputDataError, UsageError
from perfgate.models import CheckResult, MetricSeries, RunMeta
from perfgate.models.merge import MergeResult

MERGE_NAME = "merge.json"
MERGED_RAW_NAME = "raw.ndjson.gz"
_DIGEST_BYTES = 1 << 20


@dataclass(frozen=True)
class Part:
    path: Path
    points: Path
    kind: RawFormat
    meta: RunMeta | None
    digest: str


def load_part(path: Path) -> Part:
    """One part: a run directory or a raw points file."""
    if path.is_dir():
        points = next((path / name for name in RAW_NAMES if (path / name).is_file()), None)
        if points is None:
            raise InputDataError(path, f"run directory has no raw points ({', '.join(RAW_NAMES)})")
        meta = load_meta(path / META_NAME) if (path / META_NAME).is_file() else None
    elif path.is_file():
        points, meta = path, None
    else:
        raise InputDataError(path, "no such file or directory")
    kind = sniff(points)
    if kind is RawFormat.DOCUMENT:
        raise InputDataError(
            points, "a summary, not raw points: each part needs k6's --out json or --out csv"
        )
    return Part(path=path, points=points, kind=kind, meta=meta, digest=_digest(points))


def _digest(path: Path) -> str:
    """Digest of the file's head and size: the same part given twice is caught cheaply."""
    with path.open("rb") as handle:
        head = handle.read(_DIGEST_BYTES)
    return hashlib.sha256(head + str(path.stat().st_size).encode()).hexdigest()


def prepare_out(out: Path) -> None:
    """`out` must be new or empty: a merge never overwrites a run."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: already exists and is not an empty directory; choose a new one")
    out.mkdir(parents=True, exist_ok=True)


def handle_summary_json(
    metrics: Mapping[str, MetricSeries],
    checks: Sequence[CheckResult],
    duration_s: float | None,
    trend_stats: Sequence[str],
) -> dict[str, object]:
    """The merged metrics in k6's handleSummary shape (what `load_result` reads back)."""
    out: dict[str, object] = {}
    for key, series in metrics.items():
        out[key] = {
            "type": series.type or "trend",
            "contains": series.contains or "default",
            "values": dict(series.values),
            "thresholds": {
                t.expression: {"ok": not t.crossed} for t in series.thresholds if t.crossed is not None
            },
        }
    return {
        "metrics": out,
        "root_group": {
            "name": "",
            "path": "",
            "groups": [],
            "checks": [c.model_dump(include={"name", "path", "passes", "fails"}) for c in checks],
        },
        "state": {"testRunDurationMs": duration_s * 1000.0 if duration_s is not None else None},
        "options": {"summaryTrendStats": list(trend_stats)},
    }


def write_merged_run(
    out: Path, summary: Mapping[str, object], meta: RunMeta, result: MergeResult, parts: Iterable[Part]
) -> None:
    """Write the merged run directory (see the module docstring); raw points only when all are NDJSON."""
    (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    parts = list(parts)
    if all(part.kind is RawFormat.NDJSON for part in parts):
        _concatenate(out / MERGED_RAW_NAME, (part.points for part in parts))
    (out / META_NAME).write_text(meta.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (out / MERGE_NAME).write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _concatenate(target: Path, sources: Iterable[Path]) -> None:
    with gzip.open(target, "wb", compresslevel=1) as sink:
        for source in sources:
            with source.open("rb") as probe:
                gzipped = probe.read(2) == b"\x1f\x8b"
            with gzip.open(source, "rb") if gzipped else source.open("rb") as handle:
                last = b"\n"
                while chunk := handle.read(1 << 20):
                    sink.write(chunk)
                    last = chunk[-1:]
            if last != b"\n":
                sink.write(b"\n")
