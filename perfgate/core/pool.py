"""Repeats of the same code: k6 runs pooled into one candidate for the gate.

On a noisy runner one run resolves only large changes (bench/detection.py prints the resolution:
an endpoint's own change of ×1.55-2.1 on the shared corpus machine). Running k6 m times on the
same code and judging the *pooled* run divides the candidate's own noise by √m; the detector is
told m (`Settings.candidate_runs`) and widens nothing else, so clean repeats stay as unlikely to
fail as one run was.

Pooling, per metric present in every run:

- trend stats (latencies): the geometric mean over runs (the arithmetic mean when a value is not
  positive), `count` summed;
- rate metrics: `passes` and `fails` summed and the rate recomputed (the exact binomial test
  then sees every request);
- counters and gauges: the mean per run (a throughput, a dropped-iterations count per run stay
  comparable with single history runs).

The context takes the mean of its numeric fields; resources the mean of the per-run means and the
largest peak. Runs must share the load model (fingerprint): anything else is an error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import fmean

from perfgate.models import MetricSeries, ResourceUsage, RunContext, RunRecord

SUMMED_TREND_STATS = frozenset({"count"})
SUMMED_RATE_STATS = frozenset({"passes", "fails"})


class PoolError(ValueError):
    """The runs cannot be pooled (different load models)."""


def pool_runs(runs: Sequence[RunRecord]) -> RunRecord:
    """One record standing for `runs` (repeats of the same code, same load model)."""
    if not runs:
        raise PoolError("no runs to pool")
    first = runs[0]
    if len(runs) == 1:
        return first
    digests = {run.fingerprint.digest() if run.fingerprint else None for run in runs}
    if len(digests) > 1:
        raise PoolError("the runs have different load models (stages, VUs, executor or script)")
    keys = [key for key in first.metrics if all(key in run.metrics for run in runs)]
    metrics = {key: _pool_series([run.metrics[key] for run in runs]) for key in keys}
    return first.model_copy(
        update={
            "metrics": metrics,
            "source": " + ".join(run.source for run in runs),
            "context": _pool_context([run.context for run in runs]),
            "resources": _pool_resources([run.resources for run in runs if run.resources is not None]),
            "stages": [],
            "checks": [],
        }
    )


def _pool_series(series: list[MetricSeries]) -> MetricSeries:
    first = series[0]
    stats = [stat for stat in first.values if all(stat in s.values for s in series)]
    values: dict[str, float] = {}
    for stat in stats:
        column = [s.values[stat] for s in series]
        if first.type == "trend":
            values[stat] = sum(column) if stat in SUMMED_TREND_STATS else _geometric_mean(column)
        elif first.type == "rate" and stat in SUMMED_RATE_STATS:
            values[stat] = sum(column)
        else:
            values[stat] = fmean(column)
    if first.type == "rate" and {"passes", "fails"} <= values.keys():
        trials = values["passes"] + values["fails"]
        if trials > 0:
            values["rate"] = values["passes"] / trials
    return first.model_copy(update={"values": values, "thresholds": []})


def _geometric_mean(values: list[float]) -> float:
    if all(v > 0 and math.isfinite(v) for v in values):
        return math.exp(fmean(math.log(v) for v in values))
    return fmean(values)


def _mean_or_none(values: Sequence[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return fmean(present) if present else None


def _pool_context(contexts: list[RunContext]) -> RunContext:
    first = contexts[0]

    def whole(name: str) -> int | None:
        value = _mean_or_none([getattr(c, name) for c in contexts])
        return None if value is None else round(value)

    return first.model_copy(
        update={
            "duration_s": _mean_or_none([c.duration_s for c in contexts]),
            "vus_max": whole("vus_max"),
            "iterations": whole("iterations"),
            "dropped_iterations": round(fmean(c.dropped_iterations for c in contexts)),
            "http_reqs": whole("http_reqs"),
            "http_reqs_per_s": _mean_or_none([c.http_reqs_per_s for c in contexts]),
            "k6_exit_code": max((c.k6_exit_code or 0) for c in contexts),
        }
    )


def _pool_resources(usages: list[ResourceUsage]) -> ResourceUsage | None:
    if not usages:
        return None

    def peak(name: str) -> float | None:
        present = [v for u in usages if (v := getattr(u, name)) is not None]
        return max(present) if present else None

    return usages[0].model_copy(
        update={
            "samples": [],
            "cpu_peak_percent": peak("cpu_peak_percent"),
            "cpu_mean_percent": _mean_or_none([u.cpu_mean_percent for u in usages]),
            "rss_peak_mb": peak("rss_peak_mb"),
            "rss_mean_mb": _mean_or_none([u.rss_mean_mb for u in usages]),
        }
    )
