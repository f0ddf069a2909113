"""`load_result(path)`: any k6 result file → `RunRecord`, the format told by content."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from perfgate.adapters.k6_results.aggregate import Aggregator, RawRun
from perfgate.adapters.k6_results.catalog import RawOptions
from perfgate.adapters.k6_results.csv_points import CsvReader
from perfgate.adapters.k6_results.ndjson import NdjsonReader
from perfgate.adapters.k6_results.ranges import read_in_ranges
from perfgate.adapters.k6_results.shapes import ExportSummary, HandleSummary, MachineSummary
from perfgate.adapters.k6_results.sources import (
    EXPECTED,
    RawFormat,
    describe,
    load_document,
    open_stream,
    sniff,
    validate,
)
from perfgate.adapters.k6_results.summaries import (
    SUPPORTED_MACHINE_MAJOR,
    SummaryRun,
    from_export,
    from_handle_summary,
    from_machine_summary,
    machine_major,
)
from perfgate.errors import InputDataError
from perfgate.models.run import RunRecord, SourceFormat


def load_result(path: Path, *, options: RawOptions | None = None, fast: bool = True) -> RunRecord:
    """Read a k6 result file of any supported format into a `RunRecord`.

    Formats: `--summary-export` JSON, `handleSummary` JSON, the machine-readable summary
    (schema 1.x), NDJSON from `--out json` and CSV from `--out csv`, the raw ones plain or
    gzip (told by magic bytes). `options` tunes how raw points are summarised (see
    `RawOptions`); `fast=False` turns off the NDJSON fast path (for tests and debugging).
    Raises `InputDataError(path, problem)` for anything that is not a valid k6 result.
    """
    path = Path(path)
    try:
        return _load(path, options, fast=fast)
    except ValidationError as exc:  # a value k6 never writes (negative count, overflowing sum)
        raise InputDataError(path, describe(exc)) from None


def _load(path: Path, options: RawOptions | None, *, fast: bool) -> RunRecord:
    kind = sniff(path)
    if kind is RawFormat.DOCUMENT:
        source_format, summary = read_summary(path)
        return RunRecord(
            source_format=source_format,
            source=path.name,
            metrics=summary.metrics,
            checks=summary.checks,
            context=summary.context,
        )
    raw = read_raw(path, kind, options or RawOptions(), fast=fast)
    return RunRecord(
        source_format="ndjson" if kind is RawFormat.NDJSON else "csv",
        source=path.name,
        metrics=raw.metrics,
        checks=raw.checks,
        context=raw.context,
        stages=raw.stages,
        notes=raw.notes,
    )


def read_summary(path: Path) -> tuple[SourceFormat, SummaryRun]:
    doc = load_document(path)
    if not isinstance(doc, dict):
        raise InputDataError(path, f"not a k6 result: {EXPECTED}; found a JSON {type(doc).__name__}")
    source_format: SourceFormat
    if "version" in doc and "results" in doc:
        source_format = "machine-summary"
        major = machine_major(str(doc["version"]))
        if major != SUPPORTED_MACHINE_MAJOR:
            raise InputDataError(
                path, f"machine-readable summary version {doc['version']} is not supported (reads 1.x)"
            )
        summary = from_machine_summary(validate(path, MachineSummary, doc, "machine-readable summary"))
    elif isinstance(doc.get("metrics"), dict) and ({"state", "options"} & doc.keys() or _wrapped(doc)):
        source_format = "handle-summary"
        summary = from_handle_summary(validate(path, HandleSummary, doc, "handleSummary JSON"))
    elif "metrics" in doc:
        source_format = "summary-export"
        summary = from_export(validate(path, ExportSummary, doc, "--summary-export JSON"))
    else:
        keys = ", ".join(sorted(doc)[:5]) or "none"
        raise InputDataError(path, f"not a k6 result: {EXPECTED}; found JSON with keys {keys}")
    if not summary.metrics:
        raise InputDataError(path, f"{source_format}: no metrics")
    return source_format, summary


def read_raw(path: Path, kind: RawFormat, options: RawOptions, *, fast: bool = True) -> RawRun:
    aggregator = (
        read_in_ranges(path, options, workers=options.processes)
        if kind is RawFormat.NDJSON and fast
        else None
    )
    if aggregator is None:
        aggregator = _read_whole(path, kind, options, fast=fast)
    if not aggregator.has_points:
        raise InputDataError(path, f"{kind.value}: no data points")
    return aggregator.finish()


def _read_whole(path: Path, kind: RawFormat, options: RawOptions, *, fast: bool) -> Aggregator:
    aggregator = Aggregator(options)
    reader = (
        NdjsonReader(path, aggregator, fast=fast) if kind is RawFormat.NDJSON else CsvReader(path, aggregator)
    )
    with open_stream(path) as stream:
        reader.read(stream)
    return aggregator


def _wrapped(doc: dict[str, object]) -> bool:
    metrics = doc.get("metrics")
    return isinstance(metrics, dict) and any(isinstance(m, dict) and "values" in m for m in metrics.values())
