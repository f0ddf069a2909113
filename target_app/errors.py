"""Every error is answered as JSON: {"error": "<what>", ...}.

    HTTPException (werkzeug)
    ├── BadRequest 400            malformed JSON, not JSON       {"error", "detail"}
    ├── NotFound 404, MethodNotAllowed 405 (keeps Allow), RequestEntityTooLarge 413, ...
    ├── InvalidInput 422          pydantic refused the input     {"error": "validation", "fields"}
    └── InternalServerError 500   a bug; Flask logs it           {"error": "internal server error"}

Injected faults are not errors: the injector returns 500 {"error": "injected fault"} itself.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, UnprocessableEntity


class InvalidInput(UnprocessableEntity):
    """The request parsed but pydantic refused it; carries one entry per bad field."""

    def __init__(self, exc: ValidationError) -> None:
        super().__init__("validation")
        self.fields: list[dict[str, Any]] = [
            {"loc": list(error["loc"]), "msg": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False, include_context=False)
        ]


def json_error(status: int, error: str, **extra: Any) -> Response:
    response = jsonify(error=error, **extra)
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    response = exc.get_response()  # keeps status and headers such as Allow on a 405
    if isinstance(exc, InvalidInput):
        body = jsonify(error="validation", fields=exc.fields)
    else:
        body = jsonify(error=(exc.name or "error").lower(), detail=exc.description)
    response.set_data(body.get_data())
    response.content_type = body.content_type
    return response


def register_error_handlers(app: Flask) -> None:
    # The InternalServerError handler also receives unhandled exceptions (original_exception),
    # after Flask has logged them; nothing is swallowed.
    app.register_error_handler(HTTPException, _http_error)
