"""The OpenAI-compatible chat-completions service behind `--explain` (the official `openai` client).

`Explainer(client, model).explain(messages, reply_type)` asks for one JSON object
(`response_format={"type": "json_object"}`; if the server rejects that, it asks again without it
and takes the first JSON object in the text), validates it against the pydantic `reply_type`,
retries an invalid reply once with the validation error appended, then drops it. Timeouts,
connection errors, 429 and 5xx are retried here (the client's own `max_retries` is the bound)
within ONE time budget for the whole step (`budget_s`): every request gets only the time left,
so a slow server costs at most the budget, never budget x attempts. Nothing is raised for a
failed service (an HTTP error, a timeout, a truncated or garbage body with HTTP 200): the result
carries `reply=None` and a notice. The key comes only from settings
and is never logged or put in a notice; notices name the failure, never the server's text.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, cast

import httpx
import openai
from pydantic import BaseModel, ValidationError

from perfgate.settings import Settings

ReplyT = TypeVar("ReplyT", bound=BaseModel)

_log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
_MAX_REPLY_CHARS: Final = 20_000
_MAX_ECHO_CHARS: Final = 4_000
DEFAULT_BUDGET_S: Final = 20.0
_BACKOFF_S: Final = 0.5
_MIN_ATTEMPT_S: Final = 0.1  # not worth another request with less time than this left
_TRANSIENT = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
)


@dataclass(frozen=True)
class ExplainResult(Generic[ReplyT]):
    """A validated reply, or None and why (a notice safe to show: no key, no server text)."""

    reply: ReplyT | None
    notice: str | None = None
    attempts: int = 0


class OutOfTime(Exception):
    """The step's time budget is spent."""


class InvalidReply(ValueError):
    """The model's text is not a JSON object of the asked shape; the message says what is wrong."""


def extract_json_object(text: str) -> dict[str, Any]:
    """The reply as a JSON object: the whole text, else the first `{...}` object inside it."""
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        whole = None
    if isinstance(whole, dict):
        return whole
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            found, _ = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            found = None
        if isinstance(found, dict):
            return found
        start = text.find("{", start + 1)
    raise InvalidReply("the reply is not a JSON object")


def _validation_summary(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_url=False, include_input=False)[:20]:
        where = ".".join(str(part) for part in item["loc"]) or "(reply)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def _service_failure(error: openai.APIError) -> str:
    if isinstance(error, openai.APITimeoutError):
        return "the explanation service timed out"
    if isinstance(error, openai.APIConnectionError):
        return "could not connect to the explanation service"
    if isinstance(error, openai.APIStatusError):
        return f"the explanation service answered HTTP {error.status_code}"
    return "the explanation service sent a response that is not a chat completion"


class Explainer:
    """Chat completions with a JSON reply, validated; the client is injected (and closed by `close`)."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        *,
        budget_s: float = DEFAULT_BUDGET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.model = model
        self.budget_s = budget_s
        self.retries = client.max_retries
        self._clock = clock
        self._deadline = math.inf
        self._json_mode = True

    def __enter__(self) -> Explainer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def explain(
        self, messages: Sequence[Mapping[str, str]], reply_type: type[ReplyT]
    ) -> ExplainResult[ReplyT]:
        """One reply of `reply_type`, asking at most twice; None and a notice when there is none."""
        conversation = [dict(message) for message in messages]
        self._deadline = self._clock() + self.budget_s
        problem = ""
        for attempt in (1, 2):
            try:
                text = self._complete_with_retries(conversation)
            except openai.APIError as error:
                return ExplainResult(None, _service_failure(error), attempt)
            except OutOfTime:
                return ExplainResult(
                    None,
                    f"the explanation service timed out (time budget {self.budget_s:g} s spent)",
                    attempt,
                )
            except (httpx.HTTPError, ValueError, RecursionError) as error:  # a truncated/deep body, HTTP 200
                _log.debug("explainer response unreadable: %s", type(error).__name__)
                return ExplainResult(None, "the explanation service sent an unreadable response", attempt)
            try:
                return ExplainResult(self._parse(text, reply_type), None, attempt)
            except InvalidReply as error:
                problem = str(error)
            conversation += [
                {"role": "assistant", "content": text[:_MAX_ECHO_CHARS]},
                {
                    "role": "user",
                    "content": f"That reply is invalid: {problem}. "
                    "Reply again with only the JSON object, exactly in the requested shape.",
                },
            ]
        _log.debug("explainer reply dropped: %s", problem)
        return ExplainResult(None, "the model's reply was not valid, also when asked again; dropped", 2)

    def _complete_with_retries(self, conversation: list[dict[str, str]]) -> str:
        """`_complete`, again after a transient failure while the budget lasts."""
        for retry in range(self.retries + 1):
            try:
                return self._complete(conversation)
            except _TRANSIENT as error:
                left = self._deadline - self._clock()
                pause = min(_BACKOFF_S * 2**retry, left)
                if left <= 0:
                    raise OutOfTime from error
                if retry == self.retries or left - pause < _MIN_ATTEMPT_S:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _client(self) -> openai.OpenAI:
        left = self._deadline - self._clock()
        if left <= 0:
            raise OutOfTime
        own = self.client.timeout
        timeout = min(float(own), left) if isinstance(own, int | float) else left
        return self.client.with_options(timeout=timeout, max_retries=0)

    def _complete(self, conversation: list[dict[str, str]]) -> str:
        messages = cast(Any, conversation)
        if self._json_mode:
            try:
                response = self._client().chat.completions.create(
                    model=self.model, messages=messages, response_format={"type": "json_object"}
                )
            except openai.BadRequestError:
                self._json_mode = False  # a server without JSON mode: ask for plain text, extract
                return self._complete(conversation)
        else:
            response = self._client().chat.completions.create(model=self.model, messages=messages)
        choices = getattr(response, "choices", None)
        if not choices:
            return ""
        content = getattr(getattr(choices[0], "message", None), "content", None)
        return content if isinstance(content, str) else ""

    @staticmethod
    def _parse(text: str, reply_type: type[ReplyT]) -> ReplyT:
        if not text.strip():
            raise InvalidReply("the reply is empty")
        if len(text) > _MAX_REPLY_CHARS:
            raise InvalidReply(f"the reply is longer than {_MAX_REPLY_CHARS} characters")
        data = extract_json_object(text)
        try:
            return reply_type.model_validate_json(json.dumps(data))
        except ValidationError as error:
            raise InvalidReply(_validation_summary(error)) from None


def make_explainer(settings: Settings, http_client: httpx.Client | None = None) -> Explainer | None:
    """An `Explainer` from settings, or None without an API key (then perfgate explains itself)."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key is not None else ""
    if not key:
        return None
    client = openai.OpenAI(
        api_key=key,
        base_url=settings.llm_base_url or DEFAULT_BASE_URL,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        # openai 1.x types this as httpx.Client; newer releases as httpx2.Client and accept both
        http_client=cast(Any, http_client),
    )
    return Explainer(client, settings.llm_model, budget_s=settings.llm_timeout_s)
