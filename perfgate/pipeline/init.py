"""`perfgate init`: a ready CI job for your own k6 script (a workflow and a policy file).

The workflow runs the perfgate action pinned by commit SHA, starts from `permissions: {}` and
gives its one job only `contents: read`; every value reaches the action through `with:` (no
`run:` step interpolates an expression). It is checked in the tests with zizmor and
check-jsonschema, as the repository's own workflows are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import Field

from perfgate.adapters.policy_file import EXAMPLE_POLICY
from perfgate.errors import UsageError
from perfgate.models.base import Frozen
from perfgate.pipeline.load_model import check_flags

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
WORKFLOW_PATH = Path(".github/workflows/perfgate.yml")
POLICY_PATH = Path("perfgate.yml")
_ACTION_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+(/[A-Za-z0-9._/-]+)?@[0-9a-f]{40}$")


class InitRequest(Frozen):
    script: Path
    action: str = Field(description="the perfgate action, OWNER/REPO@<40-hex commit SHA>")
    root: Path = Path()
    base_url: str = "http://127.0.0.1:8080"
    target_cmd: str | None = None
    health_url: str | None = None
    baselines: str = "baselines"
    force: bool = False


def _scalar(name: str, value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax); never an Actions expression."""
    if "${{" in value or "\n" in value:
        raise UsageError(f"--{name}: must be one line without '${{{{' (it is written into a workflow)")
    return json.dumps(value)


def render_workflow(request: InitRequest) -> str:
    if not _ACTION_REF.match(request.action):
        raise UsageError(f"--action: expected OWNER/REPO@<40-hex commit SHA>, got {request.action!r}")
    inputs = {"script": request.script.as_posix(), "base-url": request.base_url}
    if request.target_cmd:
        inputs |= {"target": "command", "target-command": request.target_cmd}
        inputs["health-url"] = request.health_url or request.base_url
    else:
        inputs["target"] = "url"
    inputs |= {"baselines": request.baselines, "policy": POLICY_PATH.as_posix(), "mode": "check"}
    with_lines = [f"          {key}: {_scalar(key, value)}" for key, value in inputs.items()]
    start = (
        ""
        if request.target_cmd
        else "      # target: url - start your service in a step here, listening on base-url.\n"
    )
    return (
        "# perfgate: gate every pull request on the k6 script's latency, errors and thresholds.\n"
        "# Written by `perfgate init`; the history lives in the baselines directory (record runs on\n"
        "# your default branch with `perfgate run --record` and commit them).\n"
        "name: perfgate\n\n"
        "on:\n  pull_request:\n\n"
        "permissions: {}\n\n"
        "jobs:\n"
        "  gate:\n"
        "    runs-on: ubuntu-24.04\n"
        "    timeout-minutes: 30\n"
        "    permissions:\n"
        "      contents: read\n"
        "    steps:\n"
        f"      - uses: {CHECKOUT}\n"
        "        with:\n"
        "          persist-credentials: false\n"
        f"{start}"
        "      - name: perfgate\n"
        f"        uses: {request.action}\n"
        "        with:\n" + "\n".join(with_lines) + "\n"
    )


def write_init(request: InitRequest) -> list[Path]:
    """Write the workflow and the policy file under `request.root`; the paths written."""
    check_flags(request.script, None)
    if not (request.root / request.script).is_file():
        raise UsageError(f"--script {request.script}: no such file under {request.root}")
    files = {WORKFLOW_PATH: render_workflow(request), POLICY_PATH: EXAMPLE_POLICY}
    targets = {request.root / path: text for path, text in files.items()}
    existing = [str(path) for path in targets if path.exists()]
    if existing and not request.force:
        raise UsageError(f"{', '.join(existing)} already exist(s); pass --force to overwrite")
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(targets)
