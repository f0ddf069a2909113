"""Model bases: strict for files perfgate writes, lenient for what k6 writes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

SAFE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"  # run ids and scenarios: one file-name component


class Strict(BaseModel):
    """Files and outputs perfgate owns: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Lenient(BaseModel):
    """Shapes k6 produces: k6 adds fields between versions, so extra fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class Frozen(BaseModel):
    """A pipeline request or result: immutable, unknown fields an error (a typo is a bug)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
