"""The OpenAI-compatible chat-completions service behind `--explain` (the official `openai` client).

`Explainer(client, model).explain(messages, reply_type)` asks for one JSON object
(`response_format={"type": "json_object"}`; if the server rejects that, it asks again without it
and takes the first JSON object in the text), validates it against the pydantic `reply_type`,
retries an invalid reply once with the validation error appended, then drops it. Timeouts, 429
and 5xx are retried by the client itself (`max_retries`, bounded). Nothing is raised for a
failed service: the result carries `reply=None` and a notice. The key comes only from settings
and is never logged or put in a notice; notices name the failure, never the server's text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True)
class ExplainResult(Generic[ReplyT]):
    """A validated reply, or None and why (a notice safe to show: no key, no server text)."""

    reply: ReplyT | None
    notice: str | None = None
    attempts: int = 0


class InvalidReply(ValueError):
    """The model's text is not a JSON object of the asked shape; the message says what is wrong."""


def extract_json_object(text: str) -> dict[str, Any]:
    """The reply as a JSON object: the whole text, else the first `{...}` object inside it."""
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        return whole
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            found, _ = decoder.raw_decode(text, start)
        except ValueError:
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

    def __init__(self, client: openai.OpenAI, model: str) -> None:
        self.client = client
        self.model = model
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
        problem = ""
        for attempt in (1, 2):
            try:
                text = self._complete(conversation)
            except openai.APIError as error:
                return ExplainResult(None, _service_failure(error), attempt)
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

    def _complete(self, conversation: list[dict[str, str]]) -> str:
        messages = cast(Any, conversation)
        if self._json_mode:
            try:
                response = self.client.chat.completions.create(
                    model=self.model, messages=messages, response_format={"type": "json_object"}
                )
            except openai.BadRequestError:
                self._json_mode = False  # a server without JSON mode: ask for plain text, extract
                return self._complete(conversation)
        else:
            response = self.client.chat.completions.create(model=self.model, messages=messages)
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
    return Explainer(client, settings.llm_model)
