"""Key numbers of a run, per endpoint: what a reader wants before any comparison."""

from __future__ import annotations

from perfgate.models import RunRecord, RunSummaryRow

ALL = "(all)"


def _stat(run: RunRecord, metric: str, stat: str) -> float | None:
    return run.value(metric, stat)


def _count(run: RunRecord, metric: str) -> int | None:
    value = _stat(run, metric, "count")
    return None if value is None else round(value)


def _error_rate(run: RunRecord, metric: str) -> float | None:
    series = run.metrics.get(metric)
    if series is None:
        return None
    values = series.values
    if "rate" in values:
        return values["rate"]
    return values.get("value")


def summarize_endpoint(run: RunRecord, endpoint: str) -> RunSummaryRow:
    selector = "{name:" + endpoint + "}"
    duration = "http_req_duration" + selector
    requests = _count(run, "http_reqs" + selector) or _count(run, duration)
    seconds = run.context.duration_s
    return RunSummaryRow(
        endpoint=endpoint,
        requests=requests,
        p50_ms=_stat(run, duration, "med"),
        p95_ms=_stat(run, duration, "p(95)"),
        p99_ms=_stat(run, duration, "p(99)"),
        error_rate=_error_rate(run, "http_req_failed" + selector),
        rps=(requests / seconds) if requests is not None and seconds else None,
    )


def summarize_run(run: RunRecord) -> list[RunSummaryRow]:
    """One row per named endpoint, then a row for the whole run."""
    rows = [summarize_endpoint(run, name) for name in run.endpoints()]
    checks = _error_rate(run, "checks")
    rows.append(
        RunSummaryRow(
            endpoint=ALL,
            requests=run.context.http_reqs if run.context.http_reqs is not None else _count(run, "http_reqs"),
            p50_ms=_stat(run, "http_req_duration", "med"),
            p95_ms=_stat(run, "http_req_duration", "p(95)"),
            p99_ms=_stat(run, "http_req_duration", "p(99)"),
            error_rate=_error_rate(run, "http_req_failed"),
            rps=run.context.http_reqs_per_s or _stat(run, "http_reqs", "rate"),
            checks_pass_rate=checks,
        )
    )
    return rows


def summarize_resources(run: RunRecord) -> dict[str, float]:
    usage = run.resources
    if usage is None:
        return {}
    fields = {
        "cpu_peak_percent": usage.cpu_peak_percent,
        "cpu_mean_percent": usage.cpu_mean_percent,
        "rss_peak_mb": usage.rss_peak_mb,
        "rss_mean_mb": usage.rss_mean_mb,
    }
    return {name: value for name, value in fields.items() if value is not None}
