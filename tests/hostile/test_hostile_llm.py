"""The LLM step against a hostile or slow server (a real local HTTP server, the real openai client).

Every failure degrades to "no explanation" with a notice; the verdict and the exit code never
change; a slow server costs one time budget for the whole step, not one per attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fake_openai import FakeChat, FakeOpenAIServer, Scripted, make_policy, make_verdict
from hostile_world import EXPORT, assert_clean_error, run_cli

from perfgate.adapters.explainer import Explainer
from perfgate.pipeline.explain import explain_verdict

GARBAGE = [
    pytest.param(
        Scripted(raw_body='{"id": "c1", "object": "chat.completion", "choices": [{"mess'),
        id="truncated-json-200",
    ),
    pytest.param(Scripted(raw_body="<html>gateway</html>"), id="html-200"),
    pytest.param(Scripted(raw_body="[" * 5000), id="deep-json-200"),
    pytest.param(Scripted(raw_body='{"choices": "nope"}'), id="wrong-shape-200"),
    pytest.param(Scripted(raw_body=""), id="empty-200"),
    pytest.param(Scripted(status=500, raw_body="{"), id="truncated-500"),
    pytest.param(Scripted(content="{" * 3000), id="deep-content"),
    pytest.param(Scripted(content='{"a":' + "[" * 3000), id="deep-array-content"),
]


@pytest.fixture
def fake() -> FakeChat:
    return FakeChat()


@pytest.fixture
def server(fake: FakeChat) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(fake) as running:
        yield running


@pytest.mark.parametrize("answer", GARBAGE)
def test_a_garbage_answer_is_no_explanation_and_the_same_exit_code(
    answer: Scripted,
    fake: FakeChat,
    server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(EXPORT))
    argv = ["analyze", str(result), "--format", "json"]
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("PERFGATE_LLM_API_KEY", raising=False)
    plain_code, _ = run_cli(argv)
    fake.push(answer, answer)
    monkeypatch.setenv("PERFGATE_LLM_API_KEY", "test")
    monkeypatch.setenv("PERFGATE_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("PERFGATE_LLM_MAX_RETRIES", "0")
    code, stderr = run_cli([*argv, "--explain"])
    assert_clean_error(code, stderr)
    assert code == plain_code


def test_a_slow_server_costs_one_budget_not_one_per_attempt(fake: FakeChat, server: FakeOpenAIServer) -> None:
    """Each answer comes 3 s late; per-request timeouts of 2 s with 3 retries would ask 4 times.
    With a 1.5 s budget for the whole step there is time for one request only."""
    fake.push(*[Scripted(content="{}", delay_s=3.0)] * 4)
    client = openai.OpenAI(base_url=server.base_url, api_key="test", timeout=2.0, max_retries=3)
    verdict = make_verdict()
    with Explainer(client, "m", budget_s=1.5) as explainer:
        explanation = explain_verdict(verdict, None, make_policy(), [], explainer)
    assert explanation.source == "deterministic"
    assert explanation.notice is not None and "time budget" in explanation.notice
    assert len(fake.requests) == 1
    assert verdict == make_verdict()


def test_retries_stop_when_the_budget_is_spent(fake: FakeChat, server: FakeOpenAIServer) -> None:
    fake.push(*[Scripted(status=503)] * 6)
    client = openai.OpenAI(base_url=server.base_url, api_key="test", timeout=2.0, max_retries=5)
    with Explainer(client, "m", budget_s=0.6) as explainer:
        explanation = explain_verdict(make_verdict(), None, make_policy(), [], explainer)
    assert explanation.source == "deterministic"
    assert 1 <= len(fake.requests) < 6
