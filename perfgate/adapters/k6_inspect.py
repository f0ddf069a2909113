"""`k6 inspect`: the options k6 itself consolidates for a script (the load model's source).

    k6 inspect --execution-requirements --include-system-env-vars [--config FILE] [-e K=V]... SCRIPT

prints the script's options after k6 merged its defaults, the `--config` file, the script's own
`export const options`, `-e` values seen through `__ENV`, and derived the scenarios from the
execution shortcuts (`vus`/`duration`/`iterations`/`stages`). `--execution-requirements` makes
k6 validate the execution plan too, so options that cannot run (e.g. `vus: __ENV.VUS` with no
VUS given) fail here with k6's own message instead of later.

The child gets the same environment as `k6 run` does in `k6_runner` (no `K6_*`, an empty
XDG_CONFIG_HOME so a stray ~/.config/k6/config.json is not applied), so the options are the ones
the run will use. Null fields are dropped; everything else is k6's text verbatim.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from perfgate.adapters.k6_runner import k6_environment, parse_k6_error
from perfgate.errors import InputDataError, K6Error

INSPECT_TIMEOUT_S = 60.0
_ENV_HINT = "options built from __ENV need their values: pass them with -e KEY=VALUE (as with k6 run)"


def env_args(env: Mapping[str, str]) -> list[str]:
    """`-e KEY=VALUE` for each variable, sorted by name."""
    args: list[str] = []
    for key in sorted(env):
        args += ["-e", f"{key}={env[key]}"]
    return args


def run_k6_inspect(
    k6: Path, script: Path, *, config: Path | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """k6's consolidated options for `script` (see the module docstring), nulls removed."""
    command = [str(k6), "inspect", "--execution-requirements", "--include-system-env-vars"]
    if config is not None:
        command += ["--config", str(config)]
    command += [*env_args(env or {}), str(script)]
    with tempfile.TemporaryDirectory(prefix="perfgate-inspect-") as temp:
        (Path(temp) / "xdg").mkdir()
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=INSPECT_TIMEOUT_S,
                check=False,
                env=k6_environment(Path(temp), None),
                cwd=script.parent,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise K6Error(f"cannot run `k6 inspect` on {script.name}: {exc}") from exc
    if done.returncode != 0:
        message = parse_k6_error(done.stderr) or f"k6 inspect exited {done.returncode}"
        hint = f" ({_ENV_HINT})" if "__ENV" in _read(script) else ""
        raise InputDataError(script, f"k6 cannot work out the load model: {message}{hint}")
    try:
        options = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise K6Error(f"`k6 inspect` printed no JSON for {script.name}: {exc.msg}") from exc
    if not isinstance(options, dict):
        raise K6Error(f"`k6 inspect` printed {type(options).__name__}, not the options object")
    return {key: _without_nulls(value) for key, value in options.items() if value is not None}


def _read(script: Path) -> str:
    try:
        return script.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
