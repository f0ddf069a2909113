"""What the run says about itself, before any history: k6's own verdict, a broken run, and which
metrics the gate covers. Pure.

- `k6_outcome`: k6's exit code (in words) and every threshold k6 judged crossed, with the
  observed value of its stat. Crossed thresholds fail the gate unless the policy makes them
  advisory (`k6_thresholds: advisory`).
- `broken_reason`: a run is broken, and never a baseline, when k6 stopped it or could not run it
  as written (exit 104/107/108/110), when at least half of its requests failed, or when none
  succeeded. Its numbers are not compared: a dead target is not a "-100 %" improvement.
- `gate_coverage`: the (metric, stat) pairs the policy gates in this run, and each other metric
  of the run with the reason it is not gated.
"""

from __future__ import annotations

from perfgate.core.detect.extract import gateable, has_samples
from perfgate.core.expressions import parse_expression
from perfgate.models import (
    BROKEN_EXIT_CODES,
    K6_EXIT_MEANINGS,
    CrossedThreshold,
    K6Outcome,
    MetricKey,
    Policy,
    RunRecord,
)

BROKEN_FAILED_SHARE = 0.5
_STAT_OF_AGGREGATION = {"rate": "rate", "count": "count", "value": "value"}


def k6_outcome(record: RunRecord, policy: Policy) -> K6Outcome:
    code = record.context.k6_exit_code
    return K6Outcome(
        exit_code=code,
        meaning=K6_EXIT_MEANINGS.get(code, "unexpected exit code") if code is not None else None,
        version=record.context.k6_version,
        crossed=crossed_thresholds(record),
        gating=policy.k6_thresholds == "gate",
    )


def crossed_thresholds(record: RunRecord) -> list[CrossedThreshold]:
    crossed = []
    for metric in sorted(record.metrics):
        for threshold in record.metrics[metric].thresholds:
            if threshold.crossed:
                observed = _observed(record, metric, threshold.expression)
                crossed.append(
                    CrossedThreshold(metric=metric, expression=threshold.expression, observed=observed)
                )
    return crossed


def _observed(record: RunRecord, metric: str, expression: str) -> float | None:
    parsed = parse_expression(expression)
    if parsed is None:
        return None
    stat = parsed.canonical_aggregation
    return record.value(metric, _STAT_OF_AGGREGATION.get(stat, stat))


def broken_reason(record: RunRecord) -> str | None:
    """Why the run is broken (see the module docstring), or None."""
    code = record.context.k6_exit_code
    if code in BROKEN_EXIT_CODES:
        return f"k6 exited {code} ({K6_EXIT_MEANINGS[code]}): the test did not run as written"
    failed = record.metrics.get("http_req_failed")
    if failed is None or not has_samples(failed):
        return None
    failures = failed.values.get("passes", 0.0)  # k6 counts a failed request as a `pass` of this Rate
    total = failures + failed.values.get("fails", 0.0)
    share = failed.values.get("rate", failures / total if total else 0.0)  # the rate is the authority
    if total and share >= 1.0:
        return f"none of the {total:.0f} requests succeeded (is the target up at the URL the script uses?)"
    if share >= BROKEN_FAILED_SHARE:
        return f"{share:.0%} of the requests failed: at least half failing is a broken run, not a measurement"
    return None


def gate_coverage(record: RunRecord, policy: Policy) -> tuple[list[str], list[str]]:
    """(gated `metric stat` labels, not-gated `metric: reason` lines)."""
    gated: list[str] = []
    not_gated: list[str] = []
    for metric in sorted(record.metrics):
        rule = policy.rule_for(metric)
        series = record.metrics[metric]
        if rule is None:
            name = MetricKey.parse(metric).name
            if metric == name and not name.startswith(_BUILTIN_PREFIXES):
                not_gated.append(f"{metric}: custom metric; add a rule to the policy file to gate it")
            continue
        alias = record.alias_of(metric)
        if alias is not None:
            not_gated.append(f"{metric}: the same requests as {alias}, gated there")
        elif not has_samples(series):
            not_gated.append(
                f"{metric}: no samples in this run (k6 exports a never-seen sub-metric as zeros)"
            )
        elif not gateable(record, metric, rule):
            not_gated.append(f"{metric}: judged through {rule.unless_present} in this run instead")
        else:
            stats = [stat for stat in rule.stats if record.value(metric, stat) is not None]
            gated += [f"{metric} {stat}" for stat in stats]
            missing = [stat for stat in rule.stats if stat not in stats]
            if missing:
                not_gated.append(
                    f"{metric} {', '.join(missing)}: not in the result (add it to summaryTrendStats)"
                )
    return gated, not_gated


# k6's own metrics without a rule (timing breakdown, data, VUs) are context, not listed as ungated.
_BUILTIN_PREFIXES = (
    "http_req",
    "data_",
    "iteration",
    "vus",
    "checks",
    "group_duration",
    "dropped_iterations",
    "grpc_",
    "ws_",
    "browser_",
)
