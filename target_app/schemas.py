"""Request models. Bodies forbid unknown fields; query strings ignore them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


def _encodable(text: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); SQLite stores UTF-8 and would refuse them.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_encodable)]
Body = Annotated[str, Field(max_length=10_000), AfterValidator(_encodable)]
Tag = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_encodable)]
Tags = Annotated[list[Tag], Field(max_length=20)]


class NoteIn(BaseModel):
    """POST /notes and PUT /notes/<id>: the whole note."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body
    tags: Tags = Field(default_factory=list)


class NotePatch(BaseModel):
    """PATCH /notes/<id>: any subset of the fields; an explicit null is refused."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    body: Body | None = None
    tags: Tags | None = None

    @field_validator("title", "body", "tags", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        # Only runs for fields present in the request (defaults are not validated).
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class ListQuery(BaseModel):
    """GET /notes?page=&per_page=&q= (q present and non-empty makes it a search)."""

    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=20, ge=1, le=100)
    q: str | None = Field(default=None, max_length=200)
