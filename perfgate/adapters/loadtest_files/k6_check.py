"""A healed k6 script must pass `k6 inspect` and keep its load model before it replaces the original.

    check_healed_script(k6, script, healed_text, changes)   # raises; nothing written either way

The healed text is written to a hidden temporary file beside the script (so its relative
imports and `open()` calls resolve as they do for the original), and k6 inspects both. The
check passes when k6 accepts the healed file and its consolidated options equal the original's
in everything but the threshold expressions the plan changed, each replaced by its new text.
The temporary file is always removed; the original is never touched here.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from perfgate.adapters.k6_runner import k6_environment, parse_k6_error
from perfgate.errors import InputDataError, K6Error
from perfgate.models import ThresholdChange

INSPECT_TIMEOUT_S = 60.0


def inspect_options(k6: Path, script: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """k6's consolidated options for `script` (`k6 inspect`), or InputDataError with k6's message."""
    command = [str(k6), "inspect"]
    for key in sorted(env or {}):
        command += ["-e", f"{key}={(env or {})[key]}"]
    with tempfile.TemporaryDirectory(prefix="perfgate-inspect-") as temp:
        (Path(temp) / "xdg").mkdir()
        try:
            done = subprocess.run(
                [*command, str(script)],
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
        message = parse_k6_error(done.stderr) or f"exit {done.returncode}"
        raise InputDataError(script, f"k6 inspect rejects it: {message}")
    try:
        options = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise K6Error(f"`k6 inspect` printed no JSON for {script.name}: {exc.msg}") from exc
    if not isinstance(options, dict):
        raise K6Error(f"`k6 inspect` printed {type(options).__name__} for {script.name}, not options")
    return options


def expected_thresholds(before: Mapping[str, Any], changes: Sequence[ThresholdChange]) -> dict[str, Any]:
    """The thresholds k6 should report after the plan: each changed expression swapped once."""
    after = {
        metric: [dict(i) if isinstance(i, dict) else i for i in items] for metric, items in before.items()
    }
    for change in changes:
        for index, item in enumerate(after.get(change.metric, [])):
            if item == change.old:
                after[change.metric][index] = change.new
                break
            if isinstance(item, dict) and item.get("threshold") == change.old:
                item["threshold"] = change.new
                break
    return after


def _inspected(
    k6: Path, path: Path, script: Path, env: Mapping[str, str] | None, failure: str
) -> dict[str, Any]:
    """`inspect_options` for `path`, its refusal re-worded as `failure` about `script`."""
    try:
        return inspect_options(k6, path, env)
    except InputDataError as exc:
        raise InputDataError(script, f"{failure} ({exc.problem}); nothing written") from exc


def check_healed_script(
    k6: Path,
    script: Path,
    healed_text: str,
    changes: Sequence[ThresholdChange],
    env: Mapping[str, str] | None = None,
) -> None:
    """Raise unless `healed_text` passes `k6 inspect` with only the planned thresholds changed."""
    before = _inspected(k6, script, script, env, "cannot check the healed script with k6")
    fd, name = tempfile.mkstemp(
        prefix=f".{script.stem}.perfgate-check-", suffix=script.suffix, dir=script.parent
    )
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(healed_text)
        after = _inspected(k6, temp, script, env, "the healed script fails `k6 inspect`")
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    wanted = {**before, "thresholds": expected_thresholds(before.get("thresholds") or {}, changes)}
    if after != wanted:
        keys = sorted(k for k in set(after) | set(wanted) if after.get(k) != wanted.get(k))
        raise InputDataError(
            script,
            f"the healed script would change k6 options beyond the planned limits ({', '.join(keys)}); nothing written",
        )
