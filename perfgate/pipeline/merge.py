"""`perfgate merge`: the parts of one load test → one run, thresholds evaluated once on the whole.

parts ──▶ checked (same load model, no segment twice, no file twice)
      ──▶ one exact aggregation of every point (adapters.k6_results.merge)
      ──▶ the script's thresholds (k6 inspect) or the NDJSON Metric lines' own, evaluated once
      ──▶ a run directory that analyze, record and heal read like any other
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from perfgate.adapters.k6_results import DEFAULT_TREND_STATS, RawOptions
from perfgate.adapters.k6_results.aggregate import RawRun
from perfgate.adapters.k6_results.merge import read_parts
from perfgate.adapters.k6_results.thresholds import is_crossed, parse_threshold, percentile_stat
from perfgate.adapters.merged_run import Part, handle_summary_json, load_part, prepare_out, write_merged_run
from perfgate.core.segments import Segment, coverage, overlap, parse_segment
from perfgate.errors import InputDataError, UsageError
from perfgate.models import MetricKey, MetricSeries, RunMeta, ThresholdResult
from perfgate.models.k6_exit import BROKEN_EXIT_CODES, K6_EXIT_MEANINGS
from perfgate.models.merge import MergedPart, MergeRequest, MergeResult, ThresholdCheck

RAW_THRESHOLDS_NOTE = (
    "thresholds from the NDJSON Metric lines only: k6 writes a metric's own thresholds there, never "
    "those of its sub-metrics (http_req_duration{name:x}); pass --script to evaluate every threshold"
)


def merge(request: MergeRequest) -> MergeResult:
    parts = [load_part(path) for path in request.parts]
    notes = _check_parts(parts)
    declared = _script_thresholds(request)
    trend_stats = _trend_stats(declared or {})
    merged = read_parts(
        [part.points for part in parts],
        RawOptions(trend_stats=trend_stats, exact_points=request.exact_points),
        submetrics=_submetrics(declared or {}),
    )
    run = merged.run
    if declared is None:
        found = {key: [t.expression for t in series.thresholds] for key, series in run.metrics.items()}
        declared = {key: expressions for key, expressions in found.items() if expressions}
        notes.append(RAW_THRESHOLDS_NOTE)
    metrics = _evaluated(run.metrics, declared)
    checks = {
        key: [_check(t, metrics[key].values if key in metrics else {}) for t in _results(key, metrics, found)]
        for key, found in declared.items()
    }
    crossed = sum(1 for found in checks.values() for check in found if check.ok is False)
    broken = _broken_part(parts)
    if broken is not None:
        notes.insert(0, _broken_note(broken))
    result = MergeResult(
        out=str(request.out),
        parts=[_describe(part, counts) for part, counts in zip(parts, merged.part_counts, strict=True)],
        metrics={key: dict(series.values) for key, series in metrics.items()},
        thresholds=checks,
        thresholds_source="script" if request.script is not None else "raw",
        crossed=crossed,
        broken=broken is not None,
        notes=[*notes, *run.notes],
    )
    prepare_out(request.out)
    summary = handle_summary_json(metrics, run.checks, run.context.duration_s, trend_stats)
    meta = _meta(parts, run, crossed, broken, request.exact_points)
    write_merged_run(request.out, summary, meta, result, parts)
    return result


def _broken_part(parts: Sequence[Part]) -> Part | None:
    """The first part whose k6 did not complete its share of the test (exit 104/107/108/110)."""
    return next(
        (part for part in parts if part.meta is not None and part.meta.k6_exit_code in BROKEN_EXIT_CODES),
        None,
    )


def _broken_note(part: Part) -> str:
    code = part.meta.k6_exit_code if part.meta else None
    meaning = K6_EXIT_MEANINGS.get(code or 0, "")
    return (
        f"{part.path.name}: k6 exited {code} ({meaning}): that runner's share of the test did not run "
        "as written, so the merged run is broken, not a measurement (analyze says broken, record refuses it)"
    )


def _check_parts(parts: Sequence[Part]) -> list[str]:
    """Refuse parts that are not one test split in pieces; notes on what could not be checked."""
    seen: dict[str, Part] = {}
    for part in parts:
        twin = seen.setdefault(part.digest, part)
        if twin is not part:
            raise UsageError(f"{part.path} and {twin.path} are the same part: each runner's output once")
    metas = [part.meta for part in parts if part.meta is not None]
    models = {meta.fingerprint.digest() for meta in metas if meta.fingerprint is not None}
    if len(models) > 1:
        raise UsageError(
            "the parts ran different load models (see each run-meta.json): they are not one test"
        )
    notes: list[str] = []
    recorded = [
        (part, part.meta.execution_segment) for part in parts if part.meta and part.meta.execution_segment
    ]
    if recorded:
        segments = [_segment(part, text) for part, text in recorded]
        clash = overlap(segments)
        if clash is not None:
            raise UsageError(
                f"execution segments {clash[0]} and {clash[1]} overlap: a part of the test is there twice"
            )
        share = coverage(segments)
        if share < 1:
            notes.append(
                f"the parts cover {float(share):.0%} of the test's execution segments: some runner is missing"
            )
    if len(recorded) < len(parts):
        notes.append(
            f"{len(parts) - len(recorded)} part(s) record no execution segment (bare k6 output): "
            "overlap and coverage not checked"
        )
    return notes


def _segment(part: Part, text: str) -> Segment:
    try:
        return parse_segment(text)
    except ValueError as exc:
        raise InputDataError(part.path, str(exc)) from exc


Declared = Mapping[str, Sequence[str]]


def _script_thresholds(request: MergeRequest) -> dict[str, list[str]] | None:
    """Every threshold of the script's consolidated options (k6 inspect), or None without --script."""
    if request.script is None:
        return None
    from perfgate.pipeline.load_model import LoadModelSource, inspect_options

    source = LoadModelSource(script=request.script, profile=request.profile, env=request.env, k6=request.k6)
    options = inspect_options(source)
    return threshold_expressions(options.get("thresholds") or {}, request.script)


def threshold_expressions(raw: Any, source: object) -> dict[str, list[str]]:
    """k6's `thresholds` option (strings or {threshold, abortOnFail, ...} objects) → expressions per key."""
    if not isinstance(raw, dict):
        raise InputDataError(source, "options.thresholds is not an object")
    out: dict[str, list[str]] = {}
    for key, items in raw.items():
        try:
            normal = str(MetricKey.parse(key))
        except ValueError as exc:
            raise InputDataError(source, f"thresholds: {exc}") from exc
        expressions = []
        for item in items if isinstance(items, list) else [items]:
            text = item.get("threshold") if isinstance(item, dict) else item
            if not isinstance(text, str):
                raise InputDataError(source, f"thresholds of {key}: not an expression: {str(item)[:80]}")
            expressions.append(text)
        out[normal] = expressions
    return out


def _trend_stats(declared: Declared) -> tuple[str, ...]:
    wanted = list(DEFAULT_TREND_STATS)
    for expressions in declared.values():
        for expression in expressions:
            stat = percentile_stat(expression)
            if stat is not None and stat not in wanted:
                wanted.append(stat)
    return tuple(wanted)


def _submetrics(declared: Declared) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for key in declared:
        parsed = MetricKey.parse(key)
        if parsed.tags:
            out.setdefault(parsed.name, {})[key] = dict(parsed.tags)
    return out


def _evaluated(metrics: Mapping[str, MetricSeries], declared: Declared) -> dict[str, MetricSeries]:
    """The merged metrics with each declared threshold judged once, by perfgate, on the whole."""
    out = dict(metrics)
    for key, expressions in declared.items():
        series = out.get(key)
        if series is None:
            continue
        judged = [
            ThresholdResult(expression=e, crossed=crossed, judged_by=None if crossed is None else "perfgate")
            for e in expressions
            for crossed in [is_crossed(e, series.values)]
        ]
        out[key] = series.model_copy(update={"thresholds": judged})
    return out


def _results(
    key: str, metrics: Mapping[str, MetricSeries], expressions: Sequence[str]
) -> list[ThresholdResult]:
    series = metrics.get(key)
    if series is None:  # no point ever reached this metric
        return [ThresholdResult(expression=e) for e in expressions]
    return list(series.thresholds)


def _check(threshold: ThresholdResult, values: Mapping[str, float]) -> ThresholdCheck:
    parsed = parse_threshold(threshold.expression)
    observed = values.get(parsed.stat) if parsed is not None else None
    ok = None if threshold.crossed is None else not threshold.crossed
    return ThresholdCheck(expression=threshold.expression, ok=ok, observed=observed)


def _describe(part: Part, counts: Mapping[str, float]) -> MergedPart:
    return MergedPart(
        path=str(part.path),
        points_file=part.points.name,
        segment=part.meta.execution_segment if part.meta else None,
        http_reqs=round(counts.get("http_reqs", 0.0)),
        iterations=round(counts.get("iterations", 0.0)),
    )


def _meta(
    parts: Sequence[Part], run: RawRun, crossed: int, broken: Part | None, exact_points: int
) -> RunMeta:
    """The merged run's meta; it keeps the exact-points limit, so re-reading its raw points agrees."""
    metas = [part.meta for part in parts if part.meta is not None]
    first = metas[0] if metas else None
    started = run.context.started_at or datetime.now(UTC)
    return RunMeta(
        profile=first.profile if first else None,
        scenario=first.scenario if first else None,
        fingerprint=first.fingerprint if first else None,
        k6_version=first.k6_version if first else None,
        k6_exit_code=broken.meta.k6_exit_code if broken and broken.meta else (99 if crossed else 0),
        started_at=started,
        wall_s=max((meta.wall_s for meta in metas), default=run.context.duration_s or 0.0),
        base_url=first.base_url if first else None,
        exact_points=exact_points,
    )
