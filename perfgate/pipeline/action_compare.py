"""The action's paired mode (input `compare-base-ref`): `perfgate action compare`.

Checks the base ref out in a git worktree, starts base and head, runs `perfgate compare`,
stops both (pipeline/compare_refs.py); writes the Markdown table into the step summary, one
error annotation per regressed metric, and the outputs (verdict, report-path, run-dir,
artifact-name). The Gate step fails the job on `regression`, as for the history gate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from perfgate.adapters import actions
from perfgate.core.render.compare import metric_label
from perfgate.errors import UsageError
from perfgate.models.compare import BaseRefRequest, CompareRequest
from perfgate.paths import NOTES_SCRIPT
from perfgate.pipeline.action_steps import Log, StepRequest, fault_list
from perfgate.pipeline.compare_refs import run_base_ref_compare
from perfgate.settings import Settings

PLACEHOLDER_URL = "http://127.0.0.1"  # replaced by each target's URL once it has started
COMPARE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~^@-]{0,199}")
TARGETS = ("notes-api", "command", "compose")


class CompareStepRequest(StepRequest):
    base_ref: str
    runs_dir: Path
    workspace: Path
    target: str = "notes-api"
    max_pairs: int = 10
    target_command: str | None = None
    health_url: str | None = None
    base_url: str | None = None
    compose_file: Path | None = None
    profile: str | None = None
    script: str | None = None
    policy: str | None = None
    faults: str | None = None
    artifact_name: str | None = None
    job: str | None = None
    github_output: Path | None = None
    step_summary: Path | None = None


def check_compare_inputs(base_ref: str, max_pairs: str, target: str, mode: str) -> None:
    """Preflight of inputs compare-base-ref / compare-max-pairs: paired mode gates only, on a
    target perfgate can start twice."""
    if not COMPARE_REF.fullmatch(base_ref):
        raise UsageError(f"input compare-base-ref: expected a branch, tag or commit, got {base_ref!r}")
    if target not in TARGETS:
        raise UsageError(f"input compare-base-ref: needs a target perfgate starts ({', '.join(TARGETS)})")
    if mode != "check":
        raise UsageError(f"input compare-base-ref: works with mode check only, got mode {mode!r}")
    pairs = max_pairs.strip() or "10"
    if not pairs.isdigit() or not 2 <= int(pairs) <= 50:
        raise UsageError(f"input compare-max-pairs: expected a whole number from 2 to 50, got {pairs!r}")


def _input_name(loc: tuple[int | str, ...]) -> str:
    names = {"base_ref": "compare-base-ref", "max_pairs": "compare-max-pairs"}
    last = str(loc[-1]) if loc else ""
    return "input " + names.get(last, last.replace("_", "-") or "compare-base-ref")


def base_ref_request(request: CompareStepRequest, settings: Settings) -> BaseRefRequest:
    """The step's inputs as a validated request; a bad one is a usage error naming the input."""
    out_dir = request.runs_dir / datetime.now(UTC).strftime("compare-%Y%m%dT%H%M%SZ")
    try:
        compare = CompareRequest(
            base_url=PLACEHOLDER_URL, head_url=PLACEHOLDER_URL, script=Path(request.script or NOTES_SCRIPT),
            profile=request.profile, policy=request.policy or settings.policy, max_pairs=request.max_pairs,
            out_dir=out_dir, k6=settings.k6,
        )  # fmt: skip
        return BaseRefRequest(
            workspace=request.workspace, base_ref=request.base_ref, target=request.target,
            target_command=request.target_command, health_url=request.health_url, base_url=request.base_url,
            compose_file=request.compose_file, faults=tuple(fault_list(request.faults)), compare=compare,
        )  # fmt: skip
    except ValidationError as exc:
        error = exc.errors()[0]
        raise UsageError(f"{_input_name(error['loc'])}: {error['msg']}") from None


def compare_step(request: CompareStepRequest, settings: Settings, log: Log) -> None:
    ref_request = base_ref_request(request, settings)
    result = run_base_ref_compare(ref_request, log.say)
    out_dir = ref_request.compare.out_dir.resolve()
    report = out_dir / "report.md"
    actions.append_summary(request.step_summary, report.read_text(encoding="utf-8"))
    for metric in result.metrics:
        if metric.verdict == "regression":
            text = f"{metric_label(metric.name)}: {metric.change_pct:+.1f} % against {request.base_ref}"
            log.annotate("error", text, title="perfgate compare")
    outputs = {
        "verdict": result.verdict,
        "report-path": str(report),
        "run-dir": str(out_dir),
        "artifact-name": actions.artifact_name(request.artifact_name, request.job, out_dir.name),
    }
    actions.write_outputs(request.github_output, outputs)
    log.say(f"perfgate compare: {result.verdict} after {result.pairs} pair(s) ({result.wall_s:.0f} s)")
