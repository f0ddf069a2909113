"""`perfgate capacity`: a USL fit of a (load, throughput) CSV, or the capacity study of a ramp run.

study(request):  raw points ─▶ windows ─▶ core.capacity.compute_capacity ─▶ CapacityResult
                 [--baselines] history's capacity ─▶ capacity regression verdict [--record]
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from perfgate.adapters.capacity_files import load_ramp_points, load_usl_csv
from perfgate.adapters.policy_file import load_policy
from perfgate.core.capacity.failure import Slo, parse_slo
from perfgate.core.capacity.study import CapacityStudyError, StudyOptions, compute_capacity
from perfgate.core.capacity.usl import UslFitError, fit_usl
from perfgate.core.capacity.windows import compute_windows
from perfgate.errors import InputDataError, UsageError
from perfgate.models import Policy
from perfgate.models.capacity import CapacityRequest, CapacityResult, UslFit, UslRequest


def fit_usl_csv(request: UslRequest) -> UslFit:
    load, throughput = load_usl_csv(request.csv)
    try:
        return fit_usl(load, throughput)
    except UslFitError as exc:
        raise InputDataError(request.csv, str(exc)) from exc


def slo_from_policy(policy: Policy) -> list[str]:
    """`p(95)<ceiling` / `rate<ceiling` from the first latency and error rules with a ceiling."""
    found: dict[str, str] = {}
    for rule in policy.rules:
        if rule.ceiling is None:
            continue
        if rule.match.startswith("http_req_duration") and "p(95)" in rule.stats:
            found.setdefault("latency", f"p(95)<{rule.ceiling:g}")
        elif rule.match.startswith("http_req_failed"):
            found.setdefault("errors", f"rate<{rule.ceiling:g}")
    return list(found.values())


def resolve_slo(request: CapacityRequest) -> tuple[Slo, list[str]]:
    texts = list(request.slo)
    source = "--slo"
    if not texts:
        source = str(request.policy or "the built-in policy")
        texts = slo_from_policy(load_policy(request.policy))
        if not texts:
            raise UsageError(
                f"no SLO: give --slo 'p(95)<300' or a policy file whose rules carry a ceiling ({source})"
            )
    try:
        return parse_slo(texts, source), texts
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def study(request: CapacityRequest, *, now: datetime | None = None) -> CapacityResult:
    """The capacity study of a ramp run; with `baselines`, judged against the history (and recorded)."""
    slo, texts = resolve_slo(request)
    windows = compute_windows(load_ramp_points(request.run), request.window_s)
    options = StudyOptions(
        source=str(request.run),
        slo_texts=texts,
        window_s=request.window_s,
        holdout_fraction=request.holdout_fraction,
        seed=request.seed,
    )
    try:
        result = compute_capacity(windows, slo, options)
    except CapacityStudyError as exc:
        raise InputDataError(request.run, f"not a usable ramp run: {exc}") from exc
    if request.baselines is None:
        return result
    from perfgate.pipeline.capacity_history import judge_and_record

    return judge_and_record(request, result, now=now or datetime.now(UTC))


def default_html_path(run: Path) -> Path:
    return (run if run.is_dir() else run.parent) / "capacity.html"
