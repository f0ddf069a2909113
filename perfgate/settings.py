"""The only module that reads the environment (prefix `PERFGATE_`; an empty value means unset)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERFGATE_", env_ignore_empty=True, extra="ignore")

    k6: Path | None = Field(default=None, description="path of the k6 binary (default: PATH, then the venv)")
    baselines: Path | None = Field(
        default=None, description="history directory used when --baselines is absent"
    )
    policy: Path | None = Field(default=None, description="policy file used when --policy is absent")
    no_color: bool = Field(
        default=False,
        validation_alias=AliasChoices("PERFGATE_NO_COLOR", "NO_COLOR"),
        description="never colour terminal output (NO_COLOR is honoured too)",
    )


def load_settings() -> Settings:
    return Settings()
