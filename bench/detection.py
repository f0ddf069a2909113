"""Detection benchmark on the real-run corpus (bench/corpus): perfgate vs simple anchors.

    .venv/bin/python bench/detection.py [bench/corpus-quiet | bench/corpus-repeats]   (make bench: bench/corpus)

History = the calibration and history runs in recording order (~46 runs, 8 of them on a
CPU-contended machine). Every candidate is judged against that same history with the default
policy (p95/p99 per endpoint: ≥ ×1.10 and ≥ +1 ms; error rates per endpoint: ≥ +0.005; checks;
throughput).
Improvement candidates are the clean candidates judged against the 12 runs recorded with a
+40 % search_notes fault. A cell is `flagged/candidates`: the method would fail the gate.
For single-endpoint and error faults `(right k)` counts those that named the faulted endpoint.

Anchors, on the same runs and the same gated values:
- static: any endpoint p95 > 1.2 × its typical (median) history p95, or error rate > 0.01;
- prev×1.2 / prev×1.5: any gated value worse than the previous run by that ratio
  (github-action-benchmark's alert rule; a previous 0 error rate alerts on any error);
- t-PI: any gated value beyond a one-sided 99 % Student-t prediction interval of the history
  (mean ± t·s·sqrt(1 + 1/n), raw values: Bencher's default t-test threshold).
perfgate variants: `robust` (statistics + environment structure: the default), `+ctx` (+ context
regressor: random forest with out-of-bag conformal residuals), `+ctx(gbr)` / `+ctx(vote)`
(gradient boosting / voting ensemble with 5-fold CV+ residuals), `+ctx+IF` (+ Isolation Forest).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfgate.core.detect import Detection, DetectorTuning, detect_regressions, scan_trend  # noqa: E402
from perfgate.core.detect.extract import Target, gated_targets  # noqa: E402
from perfgate.models import MetricSeries, Policy, RunRecord  # noqa: E402

CORPUS = ROOT / "bench" / "corpus"
TODAY = date(2026, 1, 1)
POLICY = Policy()
HISTORY_KINDS = ("calibration", "history")
ORDER = [
    "clean",
    "contention",
    "latency+10",
    "latency+15",
    "latency+25",
    "latency+40",
    "errors",
    "global-latency+30",
    "global-cpu+30",
    "improvement",
]
CONFIGS = {
    "robust": DetectorTuning(),
    "+ctx": DetectorTuning(use_context_model=True),
    "+ctx(gbr)": DetectorTuning(use_context_model=True, context_model="gbr"),
    "+ctx(vote)": DetectorTuning(use_context_model=True, context_model="voting"),
    "+ctx+IF": DetectorTuning(use_context_model=True, use_isolation_forest=True),
}


def load_corpus(corpus: Path = CORPUS) -> tuple[list[dict], dict[str, RunRecord]]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    runs = sorted(manifest["runs"], key=lambda r: r["order"])
    records = {
        r["id"]: RunRecord.model_validate_json((corpus / "runs" / f"{r['id']}.json").read_text())
        for r in runs
    }
    return runs, records


def _worse(target: Target, value: float, reference: float) -> float:
    """How much worse `value` is than `reference` as a ratio (>1 = worse)."""
    high, low = (value, reference) if target.sign > 0 else (reference, value)
    if low <= 0:
        return np.inf if high > low else 1.0
    return high / low


def anchor_static(candidate: RunRecord, history: list[RunRecord]) -> bool:
    for target in gated_targets(candidate, POLICY):
        value = candidate.value(target.metric, target.stat)
        if target.is_endpoint_latency and target.stat == "p(95)":
            typical = np.median([h.value(target.metric, target.stat) or np.nan for h in history])
            if value is not None and value > 1.2 * typical:
                return True
        if target.metric.startswith("http_req_failed") and value is not None and value > 0.01:
            return True
    return False


def anchor_previous(ratio: float) -> Callable[[RunRecord, list[RunRecord]], bool]:
    def flag(candidate: RunRecord, history: list[RunRecord]) -> bool:
        previous = history[-1]
        for target in gated_targets(candidate, POLICY):
            value, before = (
                candidate.value(target.metric, target.stat),
                previous.value(target.metric, target.stat),
            )
            if value is not None and before is not None and _worse(target, value, before) > ratio:
                return True
        return False

    return flag


def anchor_t_interval(candidate: RunRecord, history: list[RunRecord]) -> bool:
    for target in gated_targets(candidate, POLICY):
        value = candidate.value(target.metric, target.stat)
        past = np.array([v for h in history if (v := h.value(target.metric, target.stat)) is not None])
        if value is None or past.size < 3:
            continue
        n, mean, sd = past.size, past.mean(), past.std(ddof=1)
        half = stats.t.ppf(0.99, n - 1) * sd * np.sqrt(1 + 1 / n)
        if (target.sign > 0 and value > mean + half) or (target.sign < 0 and value < mean - half):
            return True
    return False


def perfgate(settings: DetectorTuning) -> Callable[[RunRecord, list[RunRecord]], Detection]:
    def run(candidate: RunRecord, history: list[RunRecord]) -> Detection:
        return detect_regressions(candidate, history, POLICY, today=TODAY, settings=settings)

    return run


def regressed_endpoints(detection: Detection) -> set[str]:
    return {f.endpoint or "" for f in detection.findings if f.classification == "regression"}


def _perfgate_cell(
    name: str,
    settings: DetectorTuning,
    chosen: list[tuple[dict, RunRecord]],
    base: list[RunRecord],
    verdicts: dict[str, int],
) -> str:
    """`flagged/candidates (right endpoint)` for one perfgate variant; tallies the default's verdicts."""
    flagged = right = 0
    for run, candidate in chosen:
        detection = perfgate(settings)(candidate, base)
        if name == "robust":
            verdicts[detection.verdict] = verdicts.get(detection.verdict, 0) + 1
        if detection.verdict == "regression":
            flagged += 1
            right += run.get("endpoint") in regressed_endpoints(detection)
    named = f" ({right})" if chosen[0][0].get("endpoint") else ""
    return f"{flagged}/{len(chosen)}{named}"


def evaluate(runs: list[dict], records: dict[str, RunRecord]) -> None:
    history = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS]
    improvement_history = [records[r["id"]] for r in runs if r["kind"] == "improvement-history"]
    candidates = [(r, records[r["id"]]) for r in runs if r["kind"] in ORDER]
    candidates += [({**r, "kind": "improvement"}, records[r["id"]]) for r in runs if r["kind"] == "clean"]
    anchors: dict[str, Callable[[RunRecord, list[RunRecord]], bool]] = {
        "static": anchor_static,
        "prev×1.2": anchor_previous(1.2),
        "prev×1.5": anchor_previous(1.5),
        "t-PI": anchor_t_interval,
    }
    print(
        f"history: {len(history)} runs ({sum(r['hogs'] > 0 for r in runs if r['kind'] == 'history')} contended)"
    )
    header = f"{'candidates':20s}" + "".join(f"{name:>16s}" for name in [*CONFIGS, *anchors])
    print(header)
    verdicts: dict[str, dict[str, int]] = {}
    for kind in ORDER:
        chosen = [(r, c) for r, c in candidates if r["kind"] == kind]
        if not chosen:
            continue
        base = improvement_history if kind == "improvement" else history
        cells = [
            _perfgate_cell(name, settings, chosen, base, verdicts.setdefault(kind, {}))
            for name, settings in CONFIGS.items()
        ]
        for fn in anchors.values():
            cells.append(f"{sum(fn(c, base) for _, c in chosen)}/{len(chosen)}")
        print(f"{kind:20s}" + "".join(f"{cell:>16s}" for cell in cells))
    improved = [
        perfgate(CONFIGS["robust"])(c, improvement_history)
        for r, c in candidates
        if r["kind"] == "improvement"
    ]
    named = sum(
        any(f.endpoint == "search_notes" and f.classification == "improvement" for f in d.findings)
        for d in improved
    )
    print(
        f"\nimprovement candidates: search_notes classified improvement in {named}/{len(improved)} (robust)"
    )
    print("\nperfgate (robust = the default) verdicts per kind:")
    for kind, counts in verdicts.items():
        print(f"  {kind:20s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def _scale_endpoint(run: RunRecord, endpoint: str, factor: float) -> RunRecord:
    metrics: dict[str, MetricSeries] = dict(run.metrics)
    key = f"http_req_duration{{name:{endpoint}}}"
    series = metrics[key]
    values = {k: (v if k == "count" else v * factor) for k, v in series.values.items()}
    metrics[key] = series.model_copy(update={"values": values})
    return run.model_copy(update={"metrics": metrics})


DRIFT_OFFSETS = (0, 5, 10)  # which clean candidate each creep starts from: 3 sequences per endpoint


def _creep(
    base: list[RunRecord], clean: list[RunRecord], endpoint: str, offset: int, rate: float
) -> float | None:
    """Gate 16 runs creeping by `rate` per run on `endpoint`; the factor at the first regression
    naming it (passing runs join the history), or None."""
    history = list(base)
    for step in range(1, 17):
        factor = (1.0 + rate) ** step
        candidate = _scale_endpoint(clean[(step + offset) % len(clean)], endpoint, factor)
        detection = detect_regressions(candidate, history, POLICY, today=TODAY)
        if detection.verdict == "regression" and endpoint in regressed_endpoints(detection):
            return factor if rate else float(step)
        history.append(candidate)
    return None


def drift(runs: list[dict], records: dict[str, RunRecord]) -> None:
    """+2.5 %/run creep on one endpoint, built from the clean candidates; gate each in turn.

    Every endpoint creeps in `DRIFT_OFFSETS` sequences (each starting from another clean run);
    a sequence is caught when a step is a regression naming the endpoint. The control: the same
    sequences without the creep (16 clean runs each), where any regression is a false alarm."""
    base = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS]
    clean = [records[r["id"]] for r in runs if r["kind"] == "clean"]
    endpoints = base[0].endpoints()
    print("\nslow drift (+2.5 %/run on one endpoint; passing runs join the history):")
    caught_all: list[float | None] = []
    false_alarms = 0
    for endpoint in endpoints:
        found = [_creep(base, clean, endpoint, offset, 0.025) for offset in DRIFT_OFFSETS]
        false_alarms += sum(
            _creep(base, clean, endpoint, offset, 0.0) is not None for offset in DRIFT_OFFSETS
        )
        caught_all += found
        print(f"  {endpoint:14s} caught at " + ", ".join(f"×{c:.3f}" if c else "not by ×1.48" for c in found))
    early = sum(c is not None and c < 1.2 for c in caught_all)
    print(f"  caught before +20 %: {early}/{len(caught_all)} sequences")
    print(f"  control (no creep, 16 runs each): {false_alarms}/{len(caught_all)} sequences flagged")


def step_location(runs: list[dict], records: dict[str, RunRecord]) -> None:
    """A +25 % step on one endpoint at a known run of the real history: where does scan_trend put it?"""
    base = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS]
    located = total = 0
    offsets = []
    for endpoint in base[0].endpoints():
        for at in (15, 25, 35):
            series = [
                (f"run-{i}", _scale_endpoint(r, endpoint, 1.25) if i >= at else r) for i, r in enumerate(base)
            ]
            report = scan_trend(series, POLICY)
            trend = next(
                m for m in report.metrics if m.metric.endswith(f"{endpoint}}}") and m.stat == "p(95)"
            )
            near = [p.index - at for p in trend.change_points if abs(p.index - at) <= 2]
            total += 1
            located += bool(near)
            offsets.append(near[0] if near else None)
    untouched = scan_trend([(f"run-{i}", r) for i, r in enumerate(base)], POLICY)
    points = [p for m in untouched.metrics for p in m.change_points]
    false = sum(p.classification != "noise" for p in points)
    print(f"\nstep +25 % (p95, one endpoint, 18 placements): located within ±2 runs in {located}/{total}")
    print(
        f"  offsets: {offsets}; on the untouched history: {false} change point(s) called a regression or "
        f"improvement, {len(points) - false} called noise (the runner's)"
    )
    for notice in untouched.notices:
        print(f"  {notice}")


def detector_power(runs: list[dict], records: dict[str, RunRecord]) -> None:
    """Each detector on its own: in how many candidates would it flag a worse value past the floors?

    raw-PI: robust prediction interval on the value as measured (p < 0.001); own: the endpoint's
    excess over the other endpoints (typical latency, p < 0.001) with its own p95/p99 change past the
    floors; ctx: the context regressor's conformal p-value is the smallest possible (the value is
    beyond every out-of-bag residual of the history); IF: Isolation Forest calls the run anomalous.
    """
    from perfgate.core.detect.evidence import floors_exceeded, pooled_own_ratio
    from perfgate.core.detect.gather import add_environment, basic_evidence
    from perfgate.core.detect.learned import add_model_evidence
    from perfgate.core.detect.robust import t_sf

    settings = DetectorTuning(use_context_model=True, use_isolation_forest=True)
    history = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS]
    print("\neach detector alone (candidates with ≥ 1 worse value past the floors it flags):")
    print(f"{'candidates':20s}{'raw-PI':>10s}{'own':>10s}{'ctx':>10s}{'IF':>10s}")
    for kind in ORDER[:-1]:
        chosen = [records[r["id"]] for r in runs if r["kind"] == kind]
        counts = [0, 0, 0, 0]
        for candidate in chosen:
            evs = [basic_evidence(t, candidate, history, settings) for t in gated_targets(candidate, POLICY)]
            add_environment(evs, candidate, history[-settings.recent_window :], settings)
            notices = add_model_evidence(evs, candidate, history, settings)
            worse = [
                ev
                for ev in evs
                if ev.baseline is not None and floors_exceeded(ev.target, ev.observed, ev.baseline)
            ]
            own = [
                ev
                for ev in evs
                if ev.excess_ratio is not None
                and ev.mean_excess_z is not None
                and ev.baseline is not None
                and floors_exceeded(ev.target, ev.baseline * (pooled_own_ratio(ev) or 1.0), ev.baseline)
                and t_sf(ev.mean_excess_z, ev.excess_df) < settings.alpha
            ]
            floor_p = 1.0 / (min(len(history), settings.max_train_runs) + 1) + 1e-9
            counts[0] += any(ev.p_value < settings.alpha for ev in worse)
            counts[1] += bool(own)
            counts[2] += any(ev.context_p is not None and ev.context_p <= floor_p for ev in worse)
            counts[3] += any("anomalous" in n for n in notices)
        print(f"{kind:20s}" + "".join(f"{f'{c}/{len(chosen)}':>10s}" for c in counts))


def resolved_ratios(runs: list[dict], records: dict[str, RunRecord]) -> list[tuple[str, float, float]]:
    """What one run can resolve: (endpoint, sigma, ratio) per endpoint: its run-to-run noise of its
    typical latency against the other endpoints (robust sigma over the history's newest 30 runs),
    and the own change a single run detects with 80 % power at the default alpha (one-sided z:
    3.09 + 0.84)."""
    from perfgate.core.detect.environment import MEAN_STAT, excess_rows, latency_logs

    history = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS][
        -DetectorTuning().recent_window :
    ]
    targets = [t for t in gated_targets(history[-1], POLICY) if t.is_endpoint_latency and t.stat == "p(95)"]
    logs = latency_logs(MEAN_STAT, targets, history)
    _, _, sigma = excess_rows(logs, logs[:1])
    z = stats.norm.ppf(1 - DetectorTuning().alpha) + stats.norm.ppf(0.8)
    return [
        (str(t.endpoint), float(s), float(np.exp(z * s * np.sqrt(1 + 1 / len(history)))))
        for t, s in zip(targets, sigma, strict=True)
    ]


def resolution(runs: list[dict], records: dict[str, RunRecord]) -> None:
    """`resolved_ratios`, printed."""
    cells = [f"{name} σ {s:.1%} → ×{ratio:.2f}" for name, s, ratio in resolved_ratios(runs, records)]
    print(
        "\nresolution (typical latency vs the other endpoints; own change caught by one run 80 % of the time):"
    )
    print("  " + "; ".join(cells))


def pooled_flagged(group: list[dict], records: dict[str, RunRecord], history: list[RunRecord]) -> bool:
    """The runs of `group` pooled into one candidate: a regression naming the faulted endpoint
    (any regression when the group has no fault)?"""
    from perfgate.core.pool import pool_runs

    candidate = pool_runs([records[r["id"]] for r in group])
    settings = DetectorTuning(candidate_runs=len(group))
    detection = detect_regressions(candidate, history, POLICY, today=TODAY, settings=settings)
    endpoint = group[0].get("endpoint")
    named = endpoint is None or endpoint in regressed_endpoints(detection)
    return detection.verdict == "regression" and named


def pooled(runs: list[dict], records: dict[str, RunRecord]) -> None:
    """Repeats pooled into one candidate (`perfgate analyze RESULT REPEAT...`): every pair of the
    clean and of the contended candidates (false alarms), and every pair of fault candidates of
    the same kind on the same endpoint (the corpus has few: faults rotate over the endpoints)."""
    from itertools import combinations

    history = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS]

    def flagged(group: list[dict]) -> bool:
        return pooled_flagged(group, records, history)

    print("\npooled repeats (pairs of candidates of one kind, judged as one pooled candidate):")
    for kind in ORDER[:-1]:
        chosen = [r for r in runs if r["kind"] == kind]
        pairs = [
            list(pair)
            for pair in combinations(chosen, 2)
            if pair[0].get("endpoint") == pair[1].get("endpoint")
        ]
        if not pairs:
            continue
        single = sum(flagged([r]) for pair in pairs for r in pair)
        both = sum(flagged(pair) for pair in pairs)
        print(
            f"  {kind:20s} pooled pairs {both}/{len(pairs)} flagged (their runs alone: {single}/{2 * len(pairs)})"
        )


def repeats(runs: list[dict], records: dict[str, RunRecord]) -> None:
    """The repeats corpus (`make_corpus.py --plan repeats`): a runner that has a CPU hog half the
    time, candidates in groups of 3 back-to-back runs. Flagged as regressions naming the faulted
    endpoint (clean: any regression): each run alone, the first two pooled, all three pooled."""

    history = [records[r["id"]] for r in runs if r["kind"] in HISTORY_KINDS]
    groups: dict[int, list[dict]] = {}
    for run in runs:
        if "group" in run:
            groups.setdefault(run["group"], []).append(run)

    def flagged(group: list[dict]) -> bool:
        return pooled_flagged(group, records, history)

    print(
        f"history: {len(history)} runs ({sum(r['hogs'] > 0 for r in runs if r['kind'] == 'history')} with a hog)"
    )
    print(f"{'candidates':14s}{'one run':>12s}{'2 pooled':>12s}{'3 pooled':>12s}")
    for kind in ("clean", "latency+15", "latency+25"):
        chosen = [g for g in groups.values() if g[0]["kind"] == kind]
        if not chosen:
            continue
        one = sum(flagged([r]) for g in chosen for r in g)
        two = sum(flagged(g[:2]) for g in chosen)
        three = sum(flagged(g) for g in chosen)
        cells = [f"{one}/{sum(len(g) for g in chosen)}", f"{two}/{len(chosen)}", f"{three}/{len(chosen)}"]
        print(f"{kind:14s}" + "".join(f"{c:>12s}" for c in cells))


def main() -> int:
    started = time.perf_counter()
    # bench/detection.py [CORPUS_DIR] [--floor-ms X]: X replaces the latency rules' absolute floor
    # (1 ms built in), to measure the statistics apart from the policy on a fast target
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(f"usage: python bench/detection.py [CORPUS_DIR] [--floor-ms=X]\n{__doc__}")
        return 0
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--floor-ms")]
    corpus = Path(args[0]) if args and not args[0].replace(".", "").isdigit() else CORPUS
    floor = next((float(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--floor-ms=")), None)
    if floor is not None:
        global POLICY
        rules = [
            r.model_copy(update={"min_change_abs": floor}) if r.unit == "ms" else r for r in POLICY.rules
        ]
        POLICY = Policy(rules=rules)
    print(f"corpus: {corpus}" + (f" (latency floor {floor} ms)" if floor is not None else ""))
    runs, records = load_corpus(corpus)
    if any("group" in run for run in runs):
        repeats(runs, records)
        resolution(runs, records)
        print(f"\n({time.perf_counter() - started:.1f} s)")
        return 0
    evaluate(runs, records)
    resolution(runs, records)
    pooled(runs, records)
    detector_power(runs, records)
    drift(runs, records)
    step_location(runs, records)
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
