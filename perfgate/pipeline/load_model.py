"""The load model of a run, from the script and profile that produced it (`--script`, `--profile`).

Same meaning on every command (run, record, analyze, heal): `--script FILE.js` is the k6 script,
`--profile FILE` k6 options as YAML/JSON passed with `--config`, `-e KEY=VALUE` what the script
reads from `__ENV`. With a script, k6 itself consolidates the options (`k6 inspect`); with only a
profile, the profile's options are the model. Neither: the model is what the result file says
(a perfgate run directory records it), else unknown.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pydantic import Field

from perfgate.adapters.k6_inspect import K6InspectRefused, run_k6_inspect
from perfgate.adapters.k6_runner import find_k6
from perfgate.adapters.loadtest_files import load_loadtest_file
from perfgate.adapters.profiles import compute_fingerprint, load_profile
from perfgate.adapters.run_dir import LoadedRun
from perfgate.core.load_model import contradiction
from perfgate.errors import InputDataError, UsageError
from perfgate.models import LoadFingerprint
from perfgate.models.base import Frozen

SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".tar")
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")


class LoadModelSource(Frozen):
    """Where a run's load model comes from (all optional)."""

    script: Path | None = None
    profile: Path | None = None
    env: dict[str, str] = Field(default_factory=dict)
    k6: Path | None = None

    @property
    def given(self) -> bool:
        return self.script is not None or self.profile is not None


def check_flags(script: Path | None, profile: Path | None) -> None:
    """A k6 script given as --profile, or a profile as --script: one line naming the right flag."""
    if profile is not None and profile.suffix.lower() in SCRIPT_SUFFIXES:
        raise UsageError(f"--profile {profile}: that is a k6 script; pass it with --script")
    if script is not None and script.suffix.lower() in PROFILE_SUFFIXES:
        raise UsageError(f"--script {script}: that is a profile (k6 options as data); pass it with --profile")


def parse_env(pairs: list[str]) -> dict[str, str]:
    """`-e KEY=VALUE` arguments -> mapping (k6's own syntax)."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not key.replace("_", "").isalnum():
            raise UsageError(f"-e/--env: expected KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def resolve_load_model(source: LoadModelSource) -> LoadFingerprint | None:
    """The load model `source` describes (see the module docstring), or None when nothing is given."""
    check_flags(source.script, source.profile)
    if source.script is None:
        return load_profile(source.profile).fingerprint if source.profile is not None else None
    return resolve_options(source)[1]


def resolve_options(source: LoadModelSource) -> tuple[dict[str, Any], LoadFingerprint]:
    """k6's consolidated options for the script (+profile) and their load model."""
    script = source.script
    if script is None or not script.is_file():
        raise InputDataError(script or Path("--script"), "no such k6 script")
    options = inspect_options(source)
    try:
        return options, compute_fingerprint(options, script)
    except (TypeError, ValueError, KeyError) as exc:
        raise InputDataError(script, f"cannot work out the load model: {exc}") from exc


def inspect_options(source: LoadModelSource) -> dict[str, Any]:
    """k6's consolidated options for the script, with the profile applied as `--config`.

    `k6 inspect --execution-requirements` (k6 1.1.0) refuses a plan that sets no VUs at all
    (`duration: '30s'` or `iterations: 10` alone), while `k6 run` starts it with its default of
    1 VU. When neither the script's inline options nor the profile name `vus`, that default is
    added as the lowest layer (a `--config` value, below the script's own options) and k6 asked
    again. A script that names `vus` but leaves it unset (`vus: __ENV.VUS` without -e) stays
    refused: the user meant a number and forgot to pass it."""
    assert source.script is not None
    k6 = find_k6(source.k6)
    profile = load_profile(source.profile).options if source.profile is not None else None
    try:
        return _inspect(k6, source, profile)
    except K6InspectRefused as refused:
        if not refused.k6_run_starts or "vus" in (profile or {}) or _names_vus(source.script):
            raise
        return _inspect(k6, source, {**(profile or {}), "vus": 1})


def _inspect(k6: Path, source: LoadModelSource, config: dict[str, Any] | None) -> dict[str, Any]:
    assert source.script is not None
    if config is None:
        return run_k6_inspect(k6, source.script.resolve(), env=source.env)
    with tempfile.TemporaryDirectory(prefix="perfgate-profile-") as temp:
        path = Path(temp) / "k6-config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        return run_k6_inspect(k6, source.script.resolve(), config=path, env=source.env)


def _names_vus(script: Path) -> bool:
    """The script's inline options have a `vus` key (True too when they cannot be read)."""
    try:
        return "vus" in load_loadtest_file(script).options
    except InputDataError:
        return True


def with_load_model(path: Path, loaded: LoadedRun, source: LoadModelSource) -> LoadedRun:
    """`loaded` filed under the model `source` gives (unchanged when none is given).

    A run whose own numbers contradict that model (VUs, iterations) is refused: it is bad input,
    never compared.
    """
    model = resolve_load_model(source)
    if model is None:
        return loaded
    reason = contradiction(model, loaded.record.context)
    if reason is not None:
        given = source.script or source.profile
        raise InputDataError(path, f"not a run of {given}: {reason}")
    record = loaded.record.model_copy(update={"fingerprint": model})
    return LoadedRun(record=record, meta=loaded.meta)
