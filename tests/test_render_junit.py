"""JUnit XML: one test case per gated metric, parsed back with ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from test_render_cases import KINDS, finding, make_verdict

from perfgate.core.render import render_junit
from perfgate.models import VerdictKind


def _parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def _props(element: ET.Element) -> dict[str, str]:
    found = element.find("properties")
    assert found is not None
    return {p.attrib["name"]: p.attrib["value"] for p in found.iter("property")}


@pytest.mark.parametrize("kind", KINDS)
def test_every_verdict_is_valid_junit(kind: VerdictKind) -> None:
    verdict = make_verdict(kind)
    root = _parse(render_junit(verdict))
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and suite is not None
    cases = suite.findall("testcase")
    assert (
        len(cases) == max(len(verdict.findings), 1) == int(suite.attrib["tests"]) == int(root.attrib["tests"])
    )
    assert _props(suite)["verdict"] == kind
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert int(suite.attrib["failures"]) == len(failures)
    assert int(suite.attrib["skipped"]) == len(skipped)
    assert bool(failures) == (kind in ("regression", "broken"))
    assert (len(skipped) == len(cases)) == (kind == "no_baseline")


def test_a_broken_run_carries_k6s_last_log_lines() -> None:
    suite = _parse(render_junit(make_verdict("broken"))).find("testsuite")
    assert suite is not None
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.attrib["type"] == "broken"
    assert "k6 exited 107" in failure.attrib["message"] and "boom in init" in (failure.text or "")


def test_regression_case_carries_its_evidence() -> None:
    suite = _parse(render_junit(make_verdict("regression"))).find("testsuite")
    assert suite is not None
    case = next(c for c in suite.iter("testcase") if c.find("failure") is not None)
    assert case.attrib["name"] == "http_req_duration{name:search_notes} p(95)"
    assert case.attrib["classname"] == "perfgate.notes-smoke.search_notes"
    props = _props(case)
    assert props["baseline"] == "45" and props["observed"] == "65.25"
    assert props["change"] == "+45.0 %" and props["confidence"] == "0.99"
    failure = case.find("failure")
    assert failure is not None and failure.attrib["type"] == "regression"


def test_no_baseline_findings_are_skipped() -> None:
    verdict = make_verdict("pass").model_copy(
        update={"findings": [finding("new", "p(95)", None, 12.0, "no_baseline")]}
    )
    case = _parse(render_junit(verdict)).find("testsuite/testcase")
    assert case is not None and case.find("skipped") is not None
    assert _props(case)["baseline"] == ""


def test_hostile_metric_names_survive_the_round_trip() -> None:
    hostile = "a<b>&c\"d'e]]><!--"
    verdict = make_verdict("regression").model_copy(
        update={
            "findings": [
                finding(hostile, "p(95)", 1.0, 2.0, "regression", reason=hostile + "\x00\x1b\ud800")
            ],
            "scenario": hostile,
            "reason": hostile,
        }
    )
    text = render_junit(verdict)
    root = _parse(text)
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.attrib["name"] == f"http_req_duration{{name:{hostile}}} p(95)"
    failure = case.find("failure")
    assert failure is not None and failure.attrib["message"] == hostile + "\ufffd\ufffd\ufffd"
    assert _props(root.findall("testsuite")[0])["reason"] == hostile
