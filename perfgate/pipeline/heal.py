"""`perfgate heal`: propose a HealPlan from the history, rewrite the profile, optionally verify it.

file    = load_loadtest_file(profile)                    adapters.loadtest_files
history = comparable runs of the scenario                adapters.baselines + core.history
verdict = the --result run against that history          pipeline.judge.compare
plan    = propose_heal(...)                               core.heal (pure)
rewrite = the new text and its diff                       adapters.loadtest_files
write (unless dry run) → verify (k6 with the healed profile; restore the file on failure)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pydantic import Field

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.k6_runner import find_k6
from perfgate.adapters.loadtest_files import (
    LoadtestFile,
    Rewrite,
    load_loadtest_file,
    rewrite_loadtest_file,
    save_loadtest_file,
)
from perfgate.adapters.loadtest_files.k6_check import check_healed_script
from perfgate.adapters.policy_file import load_policy
from perfgate.adapters.profiles import compute_fingerprint
from perfgate.adapters.run_dir import LoadedRun, load_run
from perfgate.core.heal import propose_heal
from perfgate.errors import InputDataError, UsageError
from perfgate.models import HealPlan, Policy, RunRecord, StageStats, Verdict, VerdictKind
from perfgate.models.base import Frozen
from perfgate.paths import NOTES_SCRIPT
from perfgate.pipeline.analyze import check_candidate, own_scenario
from perfgate.pipeline.baseline import comparable_positions, indexed_baseline, model_digest
from perfgate.pipeline.history import HistoryLocation, locate_history
from perfgate.pipeline.judge import compare
from perfgate.pipeline.load_model import LoadModelSource, check_flags, resolve_load_model, with_load_model
from perfgate.pipeline.run import RunRequest, run_profile

Progress = Callable[[str], None]


class HealRequest(Frozen):
    """`verdict`: the --result run's verdict when the caller already has it (the action's
    verdict.json): it is used as is and the run is not judged a second time."""

    profile: Path | None
    baselines: Path
    scenario: str | None = None
    result: Path | None = None
    policy: Path | None = None
    script: Path | None = None
    dry_run: bool = False
    verify: bool = False
    k6: Path | None = None
    timeout_s: float = 900.0
    verdict: Verdict | None = None
    env: dict[str, str] = Field(default_factory=dict)  # -e KEY=VALUE for the script's __ENV

    @property
    def healed_file(self) -> Path:
        """The file whose options are healed: the profile, else the script's inline options."""
        target = self.profile or self.script
        if target is None:
            raise UsageError("give --script FILE.js (inline options) or --profile FILE to heal")
        return target

    @property
    def load_model(self) -> LoadModelSource:
        return LoadModelSource(script=self.script, profile=self.profile, env=self.env, k6=self.k6)


def require_baselines(baselines: Path | None) -> Path:
    """Healing needs a history: --baselines (or PERFGATE_BASELINES)."""
    if baselines is None:
        raise UsageError("--baselines DIR is required (or set PERFGATE_BASELINES)")
    return baselines


class Judged(Frozen):
    """The analyzer's verdict on the --result run, with what an explanation needs beside it."""

    verdict: Verdict
    policy: Policy
    stages: tuple[StageStats, ...]


class HealOutcome(Frozen):
    plan: HealPlan
    rewrite: Rewrite
    written: bool
    verified: bool | None = None
    judged: Judged | None = None  # the --result run's verdict (for --explain)
    original: str | None = None  # the file's text before the rewrite (restored when publishing is refused)


def _locate(request: HealRequest, file: LoadtestFile, loaded: LoadedRun | None) -> HistoryLocation:
    """The scenario: asked for, the result's own, else one named after the file (`notes-smoke`)."""
    script = request.script.stem if request.script else "notes"
    return locate_history(
        request.baselines,
        request.scenario,
        own=own_scenario(loaded) if loaded is not None else None,
        guesses=(f"{script}-{file.path.stem}", file.path.stem),
    )


def _fingerprint(request: HealRequest, file: LoadtestFile, loaded: LoadedRun | None) -> str | None:
    """The load model healed: the --result run's, else k6's own view of the script (+profile)."""
    if loaded is not None and loaded.record.fingerprint is not None:
        return loaded.record.fingerprint.digest()
    if request.script is not None:
        model = resolve_load_model(request.load_model)
        return model.digest() if model is not None else None
    try:
        return compute_fingerprint(file.options, None).digest()
    except (TypeError, ValueError, KeyError) as exc:
        raise InputDataError(file.path, f"cannot work out the load model: {exc}") from exc


def _refile(request: HealRequest, loaded: LoadedRun) -> bool:
    """File the --result run under the given model: always with --script, else when it has none."""
    return request.script is not None or loaded.record.fingerprint is None


def compute_plan(request: HealRequest, *, today: date) -> tuple[HealPlan, LoadtestFile, Judged | None]:
    """The plan for the healed file (nothing is written), and the --result run's verdict."""
    check_flags(request.script, request.profile)
    file = load_loadtest_file(request.healed_file)
    policy = load_policy(request.policy)
    loaded = load_run(request.result) if request.result is not None else None
    if loaded is not None and request.result is not None and _refile(request, loaded):
        loaded = with_load_model(request.result, loaded, request.load_model)
    where = _locate(request, file, loaded)
    scenario = where.scenario
    stored = BaselineStore(where.root).history(scenario)
    selection, chosen = comparable_positions(stored, _fingerprint(request, file, loaded), None)
    history = [run.record for run in stored.summaries(chosen)]  # only the runs healing fits
    verdict: VerdictKind | None = None
    candidate: RunRecord | None = None
    judgement: Judged | None = None
    if loaded is not None and request.result is not None:
        check_candidate(request.result, loaded.record)
        judged = request.verdict or compare(
            loaded,
            indexed_baseline(stored, model_digest(loaded.record), loaded.record.context.vus_max),
            policy,
            scenario=scenario,
            source=request.result.name,
            today=today,
        )
        verdict, candidate = judged.verdict, loaded.record
        judgement = Judged(verdict=judged, policy=policy, stages=tuple(loaded.record.stages))
    plan = _propose(file, scenario, history, verdict, policy, candidate)
    plan = plan.model_copy(update={"notices": [*selection.notices, *plan.notices, *file.left_alone]})
    return plan, file, judgement


def _propose(
    file: LoadtestFile,
    scenario: str,
    history: list[RunRecord],
    verdict: VerdictKind | None,
    policy: Policy,
    candidate: RunRecord | None,
) -> HealPlan:
    return propose_heal(
        scenario=scenario,
        profile_name=file.path.name,
        options=file.options,
        history=history,
        verdict=verdict,
        policy=policy,
        candidate=candidate,
    )


def heal(request: HealRequest, *, today: date, say: Progress) -> HealOutcome:
    """Compute the plan, verify it with k6 when asked, and write it (unless a dry run).

    Verification runs k6 on a temporary copy of the healed profile *before* the file is
    touched, so a rejected plan never reaches the file (nothing to restore). A rejected plan is
    returned with `plan.refused` saying why.
    """
    if request.verify and request.profile is None:
        raise UsageError("--verify needs a profile data file (--profile FILE.yaml), not a k6 script")
    plan, file, judged = compute_plan(request, today=today)
    rewrite = rewrite_loadtest_file(file, plan)
    if not rewrite.changed:
        return HealOutcome(plan=plan, rewrite=rewrite, written=False, judged=judged)
    verified = None
    if request.verify:
        exit_code = _verify(request, file, rewrite, say)
        verified = exit_code == 0
        if not verified:
            kept = "nothing was written" if request.dry_run else f"{file.path.name} was left unchanged"
            refused = (
                f"Verification failed: k6 crossed the healed thresholds (exit {exit_code}) in a re-run "
                f"against the notes API; {kept}."
            )
            plan = plan.model_copy(update={"refused": refused})
            return HealOutcome(plan=plan, rewrite=rewrite, written=False, verified=False, judged=judged)
    if not request.dry_run:
        if file.kind == "js":  # a rewrite k6 rejects, or that moves anything but the limits, is never written
            check_healed_script(find_k6(request.k6), file.path, rewrite.text, plan.thresholds)
        save_loadtest_file(file.path, rewrite.text)
    return HealOutcome(
        plan=plan,
        rewrite=rewrite,
        written=not request.dry_run,
        verified=verified,
        judged=judged,
        original=file.text,
    )


def _verify(request: HealRequest, file: LoadtestFile, rewrite: Rewrite, say: Progress) -> int:
    """k6's exit code for one run of the healed profile (a temp copy) against a fresh notes API."""
    with tempfile.TemporaryDirectory(prefix="perfgate-verify-") as temp:
        healed = Path(temp) / file.path.name
        healed.write_text(rewrite.text, encoding="utf-8")
        run = RunRequest(
            profile=healed,
            run_dir=Path(temp) / "run",
            script=request.script or NOTES_SCRIPT,  # --verify re-runs the notes API
            start_notes_api=True,
            k6=request.k6,
            timeout_s=request.timeout_s,
            raw_output="none",
        )
        say(f"verifying the healed {file.path.name} with a k6 run")
        return run_profile(run, say).k6_exit_code
