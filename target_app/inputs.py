"""Turn the request's JSON body or query string into a pydantic model, or raise 400/422."""

from __future__ import annotations

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest

from target_app.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """400 unless the body is JSON (by Content-Type and by content); 422 if `model` refuses it."""
    if not request.is_json:
        raise BadRequest("expected a JSON body with Content-Type: application/json")
    try:
        data = json.loads(request.get_data(cache=False))  # over MAX_CONTENT_LENGTH: 413
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequest(f"malformed JSON: {type(exc).__name__}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(exc) from None


def parse_query(model: type[M]) -> M:
    """422 if `model` refuses the query string (first value of each parameter)."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise InvalidInput(exc) from None
