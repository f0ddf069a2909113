"""`perfgate compare`: measure base and head in turn on this runner until the change is decided.

    pair 1: base, head   pair 2: head, base   pair 3: base, head ...   (ABBA: a drift cancels)

Each half is one k6 run of the same load model into `out_dir/pair-NN-<arm>/` (raw points
kept as raw.ndjson.gz). After every pair `core.compare.judge` decides what it can; measuring
stops once the verdict is settled or at `max_pairs`. The reports (compare.json, report.md,
report.html) are written into `out_dir`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfgate.adapters.k6_results.requests import load_request_samples
from perfgate.adapters.k6_runner import RAW_NAMES, find_k6, run_k6
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.profiles import Profile, compute_fingerprint, load_profile
from perfgate.core.compare import Judgement, Plan, judge
from perfgate.core.render.compare import render_compare_markdown
from perfgate.core.render.compare_html import render_compare_html
from perfgate.models.compare import Arm, CompareRequest, CompareResult, HalfRun, HalfSamples, PairSamples

Progress = Callable[[str], None]
DEFAULT_OPTIONS: dict[str, Any] = {
    "scenarios": {"compare": {"executor": "constant-vus", "vus": 4, "duration": "5s"}},
}
REPORTS = ("compare.json", "report.md", "report.html")


def half_order(pair: int) -> tuple[Arm, Arm]:
    """ABBA: odd pairs measure base first, even pairs head first."""
    return ("base", "head") if pair % 2 else ("head", "base")


def compare_profile(request: CompareRequest) -> Profile:
    if request.profile is not None:
        return load_profile(request.profile, script=request.script)
    fingerprint = compute_fingerprint(DEFAULT_OPTIONS, request.script)
    return Profile(
        name="compare", path=Path("compare.yaml"), options=DEFAULT_OPTIONS, fingerprint=fingerprint
    )


class _Halves:
    """Runs one half with k6 and reads its requests back."""

    def __init__(self, request: CompareRequest, profile: Profile) -> None:
        self.request = request
        self.profile = profile
        self.k6 = find_k6(request.k6)
        self.runs: list[HalfRun] = []

    def measure(self, pair: int, arm: Arm) -> HalfSamples:
        request = self.request
        run_dir = request.out_dir / f"pair-{pair:02d}-{arm}"
        meta = run_k6(
            k6=self.k6,
            script=request.script,
            profile=self.profile,
            run_dir=run_dir,
            base_url=request.base_url if arm == "base" else request.head_url,
            timeout_s=request.timeout_s,
            history_key=f"compare-{arm}",
            runner_probe=False,  # base and head share the runner: no probe between the halves
        )
        self.runs.append(HalfRun(pair=pair, arm=arm, run_dir=str(run_dir), wall_s=meta.wall_s))
        return load_request_samples(run_dir / RAW_NAMES["ndjson.gz"], arm)


def measure_pairs(
    request: CompareRequest, say: Progress
) -> tuple[list[PairSamples], Judgement, list[HalfRun]]:
    """Measure pairs until the judgement says stop; return them with the last judgement."""
    halves = _Halves(request, compare_profile(request))
    policy = load_policy(request.policy)
    plan = Plan(request.min_pairs, request.max_pairs, request.alpha)
    pairs: list[PairSamples] = []
    for index in range(1, plan.max_pairs + 1):
        measured = {arm: halves.measure(index, arm) for arm in half_order(index)}
        pairs.append(PairSamples(index=index, base=measured["base"], head=measured["head"]))
        judgement = judge(pairs, policy, plan)
        say(f"pair {index} ({' then '.join(half_order(index))}): {judgement.verdict} — {judgement.reason}")
        if judgement.done:
            break
    return pairs, judgement, halves.runs


def run_compare(request: CompareRequest, say: Progress) -> CompareResult:
    """Measure, decide, and write compare.json, report.md and report.html into `out_dir`."""
    started = time.monotonic()
    request.out_dir.mkdir(parents=True, exist_ok=True)
    pairs, judgement, runs = measure_pairs(request, say)
    result = CompareResult(
        verdict=judgement.verdict,
        reason=judgement.reason,
        pairs=len(pairs),
        min_pairs=request.min_pairs,
        max_pairs=request.max_pairs,
        alpha=request.alpha,
        metrics=judgement.metrics,
        halves=runs,
        wall_s=round(time.monotonic() - started, 3),
    )
    write_reports(result, pairs, request.out_dir)
    return result


def write_reports(result: CompareResult, pairs: list[PairSamples], out_dir: Path) -> None:
    texts = {
        "compare.json": result.model_dump_json(indent=2) + "\n",
        "report.md": render_compare_markdown(result),
        "report.html": render_compare_html(result, pairs),
    }
    for name in REPORTS:
        (out_dir / name).write_text(texts[name], encoding="utf-8")
