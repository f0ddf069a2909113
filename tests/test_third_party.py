"""Real third-party k6 scripts (tests/fixtures/third_party/*/SOURCE): record, analyze, heal.

For each script: synthetic handleSummary runs shaped by its own thresholds and metric
declarations are recorded (`perfgate record`) and a candidate analysed (`perfgate analyze`);
the script is healed against that history (core `propose_heal`: the history is passed by hand,
as the load-model fingerprint from `k6 inspect` is issue 12's other part), rewritten, and the
rewrite checked by the real k6 (`k6 inspect` before and after: only the planned limits may
differ). A script that cannot be healed must be refused with a reason and left byte-identical.

`python tests/test_third_party.py` prints the table healed / refused / why.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perfgate.adapters.baselines import BaselineStore
from perfgate.adapters.k6_results.catalog import BUILTIN_METRICS
from perfgate.adapters.k6_runner import find_k6
from perfgate.adapters.loadtest_files import load_loadtest_file, rewrite_loadtest_file, save_loadtest_file
from perfgate.adapters.loadtest_files.k6_check import check_healed_script
from perfgate.cli.app import main
from perfgate.core.heal import parse_expression, propose_heal
from perfgate.core.heal.targets import threshold_expressions
from perfgate.errors import InputDataError
from perfgate.models import MetricKey, Policy

CORPUS = Path(__file__).resolve().parent / "fixtures" / "third_party"
SCRIPTS = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.js"))
RUNS = 8
_DECLARED = re.compile(r"new\s+(Trend|Counter|Rate|Gauge)\(\s*['\"]([^'\"]+)['\"]\s*(,\s*true)?")
_BROWSER = {"browser_web_vital_cls": ("trend", "default"), "browser_http_req_failed": ("rate", "default")}
_REMOTE = 'k6 inspect rejects it: GoError: The moduleSpecifier "https://jslib.k6.io'

# script → (outcome, words in the reason or notices)
EXPECTED: dict[str, tuple[str, str]] = {
    "community/luketn-ewoks.js": ("refused", "an identifier at line 14 (`target_vus`)"),
    "k6/browser-multiple-scenario.js": ("healed", "'rate==1.0' left as it is"),
    "k6/browser-throttle.js": ("healed", ""),
    "k6/docker-compose-opentelemetry-script.js": ("unchanged", "a Counter"),
    "k6/es6sample.js": ("healed", ""),
    "k6/localhost.js": ("healed", ""),
    "k6/thresholds.js": ("healed", ""),
    "k6/thresholds_readme_example.js": ("healed", ""),
    "quickpizza/browser-03.thresholds.js": ("refused", _REMOTE),
    "quickpizza/browser-05.custom-metrics.js": ("refused", _REMOTE),
    "quickpizza/foundations-05.thresholds.js": ("healed", ""),
    "quickpizza/foundations-06.checks-with-thresholds.js": ("healed", ""),
    "quickpizza/foundations-07.scenarios.js": ("refused", _REMOTE),
    "quickpizza/foundations-08.arrival-rate.js": ("refused", _REMOTE),
}


def metric_types(text: str) -> dict[str, tuple[str, str]]:
    """name → (type, contains) for k6's built-ins, browser metrics and the script's declarations."""
    types = {name: (kind, contains) for name, (kind, contains) in BUILTIN_METRICS.items()}
    for kind, name, is_time in _DECLARED.findall(text):
        types[name] = (kind.lower(), "time" if is_time else "default")
    return types


def _kind(types: dict[str, tuple[str, str]], metric: str) -> tuple[str, str]:
    name = MetricKey.parse(metric).name
    if name in types:
        return types[name]
    if name in _BROWSER:
        return _BROWSER[name]
    return ("trend", "time") if name.startswith("browser_") else ("trend", "default")


def _values(kind: str, expressions: list[str], factor: float) -> dict[str, float]:
    parsed = [e for e in map(parse_expression, expressions) if e is not None]
    uppers = [e.limit for e in parsed if e.upper and e.limit > 0]
    lowers = [e.limit for e in parsed if e.lower]
    if kind == "trend":
        level = (min(uppers) if uppers else 100.0) / 5 * factor
        shape = {"min": 0.1, "med": 0.7, "avg": 0.8, "p(90)": 0.95, "p(95)": 1.0, "p(99)": 1.3, "max": 2.0}
        return {**{stat: level * k for stat, k in shape.items()}, "count": 100.0}
    if kind == "rate":
        rate = (
            min(uppers) / 5 * factor
            if uppers
            else min(1.0, (1 + max(lowers)) / 2 * factor)
            if lowers
            else 1.0
        )
        passes = round(1000 * min(rate, 1.0))
        return {"rate": passes / 1000, "passes": float(passes), "fails": float(1000 - passes)}
    if kind == "counter":
        rate = max(lowers) * 2 * factor if lowers else 10.0 * factor
        return {"count": rate * 10, "rate": rate}
    return {"value": 1.0 * factor, "min": 0.0, "max": 2.0}


def handle_summary(
    options: dict[str, Any], types: dict[str, tuple[str, str]], factor: float
) -> dict[str, Any]:
    """A handleSummary JSON for one run: every thresholded (sub-)metric plus the basics."""
    thresholds: dict[str, list[str]] = {}
    for metric, text in threshold_expressions(options):
        thresholds.setdefault(metric, []).append(text)
    metrics: dict[str, Any] = {}
    for metric in ["http_req_duration", "http_req_failed", "http_reqs", "iterations", *thresholds]:
        kind, contains = _kind(types, metric)
        own = thresholds.get(metric, [])
        values = _values(kind, own, factor)
        if metric == "http_req_failed" and not own:  # no failures: a run with all requests failed is broken
            values = {"rate": 0.0, "passes": 0.0, "fails": 1000.0}
        metrics[metric] = {
            "type": kind,
            "contains": contains,
            "values": values,
            "thresholds": {text: {"ok": True} for text in own},
        }
    return {
        "metrics": metrics,
        "root_group": {
            "name": "",
            "path": "",
            "id": "d41d8cd98f00b204e9800998ecf8427e",
            "groups": [],
            "checks": [],
        },
        "options": {"summaryTrendStats": ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"]},
        "state": {"isStdOutTTY": False, "isStdErrTTY": False, "testRunDurationMs": 10000.0},
    }


@dataclass
class Outcome:
    outcome: str  # healed | unchanged | refused
    why: str
    changes: list[str]
    notices: list[str]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def heal_script(name: str, work: Path) -> Outcome:
    script = work / Path(name).name
    shutil.copy(CORPUS / name, script)
    text = script.read_text(encoding="utf-8")
    try:
        options = load_loadtest_file(script).options
    except InputDataError as error:  # options perfgate cannot rewrite: refused before any run
        return Outcome("refused", error.problem, [], [])
    types, rng = metric_types(text), np.random.default_rng(7)
    baselines = work / "baselines"
    for i in range(RUNS + 1):
        run = work / f"run-{i}.json"
        run.write_text(
            json.dumps(handle_summary(options, types, float(np.exp(0.03 * rng.standard_normal()))))
        )
        if i < RUNS:
            code, _ = run_cli(
                "record", str(run), "--baselines", str(baselines), "--scenario", "s", "--run-id", f"r{i}"
            )
            assert code == 0
    code, out = run_cli(
        "analyze",
        str(work / f"run-{RUNS}.json"),
        "--baselines",
        str(baselines),
        "--scenario",
        "s",
        "--format",
        "json",
    )
    assert code in (0, 1) and json.loads(out)["verdict"] in (
        "pass",
        "noise",
        "improvement",
        "warn",
        "regression",
    )
    history = [stored.record for stored in BaselineStore(baselines).runs("s")]
    plan = propose_heal(
        scenario="s",
        profile_name=script.name,
        options=options,
        history=history,
        verdict=None,
        policy=Policy(),
    )
    changes = [f"{c.metric}: {c.old} → {c.new}" for c in plan.thresholds]
    if not plan.thresholds:
        return Outcome("unchanged", "; ".join(plan.notices), changes, plan.notices)
    rewrite = rewrite_loadtest_file(load_loadtest_file(script), plan)
    try:
        check_healed_script(find_k6(), script, rewrite.text, plan.thresholds)
    except InputDataError as error:
        assert script.read_text(encoding="utf-8") == text, "a refused heal leaves the script untouched"
        return Outcome("refused", error.problem, changes, plan.notices)
    save_loadtest_file(script, rewrite.text)
    return Outcome("healed", "; ".join(plan.notices), changes, plan.notices)


def test_corpus_has_at_least_12_scripts_with_their_sources() -> None:
    assert len(SCRIPTS) >= 12 and sorted(EXPECTED) == SCRIPTS
    for folder in {Path(name).parent for name in SCRIPTS}:
        source = (CORPUS / folder / "SOURCE").read_text(encoding="utf-8")
        assert ("commit: " in source or " @ " in source) and "licence: " in source
        assert all(Path(name).name in source for name in SCRIPTS if Path(name).parent == folder)


@pytest.mark.parametrize("name", SCRIPTS)
def test_third_party_script_heals_or_is_refused_with_a_reason(name: str, tmp_path: Path) -> None:
    result = heal_script(name, tmp_path)
    outcome, words = EXPECTED[name]
    assert result.outcome == outcome, (result.why, result.changes)
    assert words in result.why
    healed = (tmp_path / Path(name).name).read_text(encoding="utf-8")
    original = (CORPUS / name).read_text(encoding="utf-8")
    if outcome != "healed":
        assert healed == original
        return
    for before, after in zip(original.splitlines(), healed.splitlines(), strict=True):
        if before != after:  # only threshold lines change: their limits and perfgate's comment
            assert re.sub(r"[\d.]+", "N", after.split(" // perfgate:")[0]) == re.sub(r"[\d.]+", "N", before)
    for change in result.changes:
        old, new = change.split(": ", 1)[1].split(" → ")
        assert parse_expression(new) is not None and parse_expression(old) is not None


if __name__ == "__main__":
    import tempfile

    for script_name in SCRIPTS:
        with tempfile.TemporaryDirectory() as temp:
            found = heal_script(script_name, Path(temp))
        print(
            f"| {script_name} | {found.outcome} | {len(found.changes)} | {found.why[:300]} |", file=sys.stdout
        )
