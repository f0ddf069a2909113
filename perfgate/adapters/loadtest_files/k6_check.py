"""A healed k6 script must pass `k6 inspect` and keep its load model before it replaces the original.

    check_healed_script(k6, script, healed_text, changes)   # raises; nothing written either way

The healed text is written to a hidden temporary file beside the script (so its relative
imports and `open()` calls resolve as they do for the original), and k6 inspects both. The
check passes when k6 accepts the healed file and its options (as k6 reads them) equal the original's
in everything but the threshold expressions the plan changed, each replaced by its new text.
The temporary file is always removed; the original is never touched here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from perfgate.adapters.k6_inspect import run_k6_inspect
from perfgate.errors import InputDataError
from perfgate.models import ThresholdChange


def inspect_options(k6: Path, script: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The script's own options as k6 reads them (`k6 inspect`), or InputDataError with k6's message."""
    return run_k6_inspect(k6, script, env=env, consolidated=False, refusal="k6 inspect rejects it")


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
