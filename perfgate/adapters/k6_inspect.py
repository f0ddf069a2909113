"""`k6 inspect`: the options k6 itself sees in a script. One runner, two uses:

    run_k6_inspect(k6, script, config=..., env=...)                   # the load model
    run_k6_inspect(k6, script, env=..., consolidated=False, refusal="k6 inspect rejects it")
                                                                     # a healed script's check

`consolidated=True` (the load model's source) runs
`k6 inspect --execution-requirements --include-system-env-vars [--config FILE] [-e K=V]... SCRIPT`:
the options after k6 merged its defaults, the `--config` file, the script's own
`export const options` and `-e` values seen through `__ENV`, with the scenarios derived from the
execution shortcuts (`vus`/`duration`/`iterations`/`stages`). `--execution-requirements` makes k6
validate the execution plan too, so options that cannot run (e.g. `vus: __ENV.VUS` with no VUS
given) fail here with k6's own message instead of later. `consolidated=False` prints the script's
own options only, as written (what `loadtest_files/k6_check` compares before and after a heal).

The child gets the same environment as `k6 run` does in `k6_runner` (no `K6_*`, an empty
XDG_CONFIG_HOME so a stray ~/.config/k6/config.json is not applied). Null fields are dropped;
everything else is k6's text verbatim. A script k6 refuses is `K6InspectRefused` (exit 3: bad
input) with k6's exit code and message, worded `<refusal>: <k6's message>`.
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
LOAD_MODEL_REFUSAL = "k6 cannot work out the load model"
_NO_VUS = "the number of VUs must be more than 0"
_ENV_HINT = "options built from __ENV need their values: pass them with -e KEY=VALUE (as with k6 run)"


class K6InspectRefused(InputDataError):
    """k6 refused the script (syntax, init exception, invalid options): k6's exit code kept.

    `k6_run_starts`: the one refusal `k6 run` does not share. A plan that sets no VUs anywhere
    (`vus: __ENV.VUS` without -e, or `iterations` alone) is refused by `k6 inspect
    --execution-requirements`, while `k6 run` starts it with 1 VU."""

    def __init__(self, script: Path, problem: str, k6_exit_code: int, *, k6_run_starts: bool = False) -> None:
        super().__init__(script, problem)
        self.k6_exit_code = k6_exit_code
        self.k6_run_starts = k6_run_starts


def env_args(env: Mapping[str, str]) -> list[str]:
    """`-e KEY=VALUE` for each variable, sorted by name."""
    args: list[str] = []
    for key in sorted(env):
        args += ["-e", f"{key}={env[key]}"]
    return args


def inspect_command(
    k6: Path, script: Path, *, config: Path | None, env: Mapping[str, str], consolidated: bool
) -> list[str]:
    command = [str(k6), "inspect"]
    if consolidated:
        command += ["--execution-requirements", "--include-system-env-vars"]
    if config is not None:
        command += ["--config", str(config)]
    return [*command, *env_args(env), str(script)]


def run_k6_inspect(
    k6: Path,
    script: Path,
    *,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    consolidated: bool = True,
    refusal: str = LOAD_MODEL_REFUSAL,
) -> dict[str, Any]:
    """k6's options for `script` (see the module docstring), nulls removed."""
    command = inspect_command(k6, script, config=config, env=env or {}, consolidated=consolidated)
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
        hint = f" ({_ENV_HINT})" if consolidated and "__ENV" in _read(script) else ""
        starts = _NO_VUS in done.stderr
        raise K6InspectRefused(script, f"{refusal}: {message}{hint}", done.returncode, k6_run_starts=starts)
    try:
        options = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise K6Error(f"`k6 inspect` printed no JSON for {script.name}: {exc.msg}") from exc
    if not isinstance(options, dict):
        raise K6Error(f"`k6 inspect` printed {type(options).__name__} for {script.name}, not options")
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
