"""JUnit XML for CI test reporters: one test case per gated metric (finding).

    <testsuites name="perfgate" tests=… failures=… skipped=…>
      <testsuite name="perfgate.<scenario>" …>
        <properties> verdict, reason, history_runs, source </properties>
        <testcase classname="perfgate.<scenario>.<endpoint | whole run>" name="<metric> <stat>">
          <properties> baseline, observed, change, change_ratio, confidence, classification, … </properties>
          <failure type="regression" message="<reason>"/>     regression
          <skipped message="no baseline: …"/>                  no_baseline (or the whole verdict has none)
          <system-out>warn: …</system-out>                     warn / noise / improvement: passes, with a note

Built with ElementTree (it escapes `<&"'`); characters XML 1.0 cannot carry are replaced first.
A verdict without findings still yields one test case, so reporters never see an empty suite.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from perfgate.core.render.formatting import RUN_LEVEL, fmt_arrow, fmt_change, one_line
from perfgate.models import Finding, Verdict

# Outside XML 1.0's Char production even after `one_line` (surrogates, U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", one_line(text))


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=_x(value))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _finding_properties(finding: Finding) -> dict[str, str]:
    return {
        "metric": finding.metric,
        "stat": finding.stat,
        "unit": finding.unit,
        "direction": finding.direction,
        "baseline": _number(finding.baseline),
        "observed": _number(finding.observed),
        "change": fmt_change(finding),
        "change_ratio": _number(finding.change_ratio),
        "confidence": f"{finding.confidence:.4g}",
        "classification": finding.classification,
        "detectors": ",".join(finding.detectors),
    }


def _outcome(case: ET.Element, finding: Finding, verdict: Verdict) -> bool | None:
    """Adds failure/skipped/system-out; returns True for a failure, False for skipped, None for a pass."""
    kind = finding.classification
    detail = _x(
        f"{finding.metric} {finding.stat}: {fmt_arrow(finding)} ({fmt_change(finding)}). {finding.reason}"
    )
    if kind == "regression" and verdict.verdict == "regression":
        failure = ET.SubElement(case, "failure", type="regression", message=_x(finding.reason or detail))
        failure.text = detail
        return True
    if kind == "no_baseline" or verdict.verdict == "no_baseline":
        ET.SubElement(case, "skipped", message=_x(f"no baseline: {verdict.reason}"))
        return False
    if kind != "pass":
        ET.SubElement(case, "system-out").text = f"{kind}: {detail}"
    return None


def _testcase(suite: ET.Element, finding: Finding, verdict: Verdict) -> bool | None:
    where = finding.endpoint if finding.endpoint is not None else RUN_LEVEL
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_x(f"perfgate.{verdict.scenario}.{where}"),
        name=_x(f"{finding.metric} {finding.stat}"),
        time="0",
    )
    _properties(case, _finding_properties(finding))
    return _outcome(case, finding, verdict)


def _placeholder(suite: ET.Element, verdict: Verdict) -> bool | None:
    """The one test case of a verdict without findings: skipped without a baseline, else passed."""
    case = ET.SubElement(
        suite, "testcase", classname=_x(f"perfgate.{verdict.scenario}"), name="verdict", time="0"
    )
    if verdict.verdict == "no_baseline":
        ET.SubElement(case, "skipped", message=_x(verdict.reason))
        return False
    if verdict.verdict == "broken":
        failure = ET.SubElement(case, "failure", type="broken", message=_x(verdict.reason))
        failure.text = "\n".join(_x(line) for line in verdict.k6.log_tail) or None  # k6's own last lines
        return True
    ET.SubElement(case, "system-out").text = _x(f"{verdict.verdict}: {verdict.reason}")
    return None


def _k6_thresholds(suite: ET.Element, verdict: Verdict) -> bool | None:
    """k6's crossed thresholds as one test case: a failure unless the policy makes them advisory."""
    case = ET.SubElement(
        suite, "testcase", classname=_x(f"perfgate.{verdict.scenario}"), name="k6 thresholds", time="0"
    )
    text = _x("; ".join(f"{c.metric}: {c.expression}" for c in verdict.k6.crossed))
    if verdict.k6.gating:
        ET.SubElement(case, "failure", type="k6_threshold", message=f"k6 thresholds crossed: {text}")
        return True
    ET.SubElement(case, "system-out").text = f"advisory: k6 thresholds crossed: {text}"
    return None


def render_junit(verdict: Verdict) -> str:
    """The verdict as a JUnit XML document (UTF-8 declaration, indented)."""
    root = ET.Element("testsuites", name="perfgate")
    suite = ET.SubElement(root, "testsuite", name=_x(f"perfgate.{verdict.scenario}"), time="0")
    _properties(
        suite,
        {
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "history_runs": str(verdict.history_runs),
            "source": verdict.source,
        },
    )
    if verdict.findings:
        outcomes = [_testcase(suite, finding, verdict) for finding in verdict.findings]
    else:
        outcomes = [_placeholder(suite, verdict)]
    if verdict.k6.crossed:
        outcomes.append(_k6_thresholds(suite, verdict))
    counts = {
        "tests": str(len(outcomes)),
        "failures": str(sum(o is True for o in outcomes)),
        "errors": "0",
        "skipped": str(sum(o is False for o in outcomes)),
    }
    for element in (root, suite):
        element.attrib.update(counts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
