"""The typical request as a gated signal: a slowdown the tail hides.

The default policy gates p95 and p99; the typical latency is evidence only (`gather.py` judges an
endpoint's own change and the runner's load on it). A slowdown that adds a few milliseconds to
every request can move the median ×4 and leave p95 inside a noisy history's swings (httpbin on a
loaded machine: p95 already swung 9–25 ms between runs of the same code), and the gate called it
noise. So each latency the policy gates is also judged on its median (`med`), with a floor of its
own (`TYPICAL_MIN_RATIO`, on top of the rule's), through the same steps as a gated stat: against
its own history's swings (robust prediction interval), against the other endpoints, and across
endpoints against the runner's measured load (`add_environment`): a median that moved with a
busy runner is the runner's. Only its regressions are reported (it never turns a run to noise,
pass or improvement, nor changes the advice): where the policy gates `med` itself, the policy's
rule decides instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Set

from perfgate.core.detect.evidence import DetectorTuning, Evidence
from perfgate.core.detect.extract import LATENCY_METRIC, HistoryColumns, Target
from perfgate.core.detect.gather import add_environment, basic_evidence
from perfgate.core.detect.judge import classify
from perfgate.models import Finding, RunRecord

TYPICAL_STAT = "med"
# The median must move at least ×1.5 (the size at which the runner counts as busy, `runner.py`)
# and past the rule's own floors: it is not what the policy gates, only what no one calls minor.
TYPICAL_MIN_RATIO = 1.5


def typical_targets(
    targets: Sequence[Target], candidate: RunRecord, skip: Set[str] = frozenset()
) -> list[Target]:
    """The median of each gated latency whose rule does not gate it already (one per metric),
    except the metrics in `skip`."""
    out: dict[str, Target] = {}
    for target in targets:
        if target.metric in skip:
            continue
        rule = target.rule
        gated_already = TYPICAL_STAT in rule.stats
        if target.name != LATENCY_METRIC or rule.unit != "ms" or gated_already or target.metric in out:
            continue
        if candidate.value(target.metric, TYPICAL_STAT) is None:
            continue
        typical_rule = rule.model_copy(update={"stats": [TYPICAL_STAT]})
        out[target.metric] = Target(target.metric, TYPICAL_STAT, typical_rule, target.endpoint)
    return list(out.values())


def typical_regressions(
    gated: Sequence[Evidence],
    findings: Sequence[Finding],
    candidate: RunRecord,
    history: Sequence[RunRecord],
    settings: DetectorTuning,
    columns: HistoryColumns | None = None,
) -> tuple[list[Finding], list[Evidence]]:
    """The medians (`typical_targets`) that are regressions, and the evidence behind them; of the
    metrics whose gated stats (`gated`, classified as `findings`) are none: a latency already
    failing the gate needs no second word. `columns`: as for `detect_regressions`."""
    failing = {f.metric for f in findings if f.classification == "regression"}
    chosen = typical_targets([ev.target for ev in gated], candidate, failing)
    if not chosen:
        return [], []
    evidences = [basic_evidence(t, candidate, history, settings, columns) for t in chosen]
    for ev in evidences:
        ev.drift = None  # a creep is judged on the gated stats (drift guard), not here
    add_environment(evidences, candidate, history[-settings.recent_window :], settings)
    judged = [(classify(ev, settings), ev) for ev in evidences]
    kept = [(finding, ev) for finding, ev in judged if _past_floor(finding, ev)]
    return [finding for finding, _ in kept], [ev for _, ev in kept]


def _past_floor(finding: Finding, ev: Evidence) -> bool:
    """A regression of at least `TYPICAL_MIN_RATIO` as measured (or at the runner's expected level,
    when a global shift was judged there), and past it in what made it one: its own change against
    the other endpoints, or else the medians' shared factor attributed to the code (one endpoint's
    median of a few dozen requests can jump ×3 in a clean 3-s run while the medians move ×1.1
    together: that jump alone is not a regression).
    The rule's own floors stay those of the attribution: a median that moved ×1.3 with a busy
    runner is still the runner's (the shared factor of the medians is judged from ×1.1)."""
    if finding.classification != "regression" or not ev.baseline:
        return False
    if ev.compared / ev.baseline < TYPICAL_MIN_RATIO:
        return False
    if finding.own_change_ratio is not None:
        return finding.own_change_ratio >= TYPICAL_MIN_RATIO
    attribution = ev.attribution
    if attribution is None:
        return True  # no other endpoint to tell the runner by (the overall latency alone)
    shared = attribution.factor_ratio / math.exp(attribution.runner_factor or 0.0)
    return attribution.kind == "code" and shared >= TYPICAL_MIN_RATIO
