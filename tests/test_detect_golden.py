"""Golden Detection JSON, one file per verdict kind, from fixed synthetic inputs.

Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_detect_golden.py` (never by hand) and review
the diff. Floats are compared at 6 significant digits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_detect_synth import synth_run

from perfgate.core.detect import Detection, detect_regressions
from perfgate.models import Acknowledgement, Policy, RunRecord

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 3, 1)
ACK = Acknowledgement(
    metric="http_req_duration{name:search_notes}", until=TODAY, reason="JIRA-7 bigger index"
)

Case = Callable[[np.random.Generator], RunRecord]
CASES: dict[str, tuple[int, Case, Policy]] = {
    "pass": (30, lambda rng: synth_run(rng), Policy()),
    "improvement": (30, lambda rng: synth_run(rng, endpoint_scale={"search_notes": 0.6}), Policy()),
    "noise": (30, lambda rng: synth_run(rng, runner=1.35), Policy()),
    "warn": (
        30,
        lambda rng: synth_run(rng, endpoint_scale={"search_notes": 1.5}),
        Policy(acknowledgements=[ACK]),
    ),
    "regression": (30, lambda rng: synth_run(rng, endpoint_scale={"update_note": 1.4}), Policy()),
    "no_baseline": (3, lambda rng: synth_run(rng), Policy()),
}


def _detect(kind: str) -> Detection:
    runs, make, policy = CASES[kind]
    rng = np.random.default_rng(2026)
    history = [synth_run(rng) for _ in range(runs)]
    return detect_regressions(make(rng), history, policy, today=TODAY, random_state=0)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize("kind", sorted(CASES))
def test_golden_verdict(kind: str) -> None:
    detection = _detect(kind)
    assert detection.verdict == kind
    path = GOLDEN / f"verdict-{kind}.json"
    actual = _rounded(json.loads(detection.model_dump_json()))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(
            json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected
