"""The only module that reads the environment (prefix `PERFGATE_`; an empty value means unset)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from perfgate.errors import UsageError

FORMATS = ("text", "markdown", "json", "junit", "html")  # report formats every command accepts


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
        description="never colour terminal output (NO_COLOR is honoured too): any non-empty value",
    )

    # optional LLM explanation (OpenAI-compatible). The client's own OPENAI_API_KEY / OPENAI_BASE_URL
    # are honoured; these override them when set.
    llm_model: str = Field(default="gpt-4o-mini", description="model name for --explain")
    llm_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PERFGATE_LLM_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible API base URL",
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PERFGATE_LLM_API_KEY", "OPENAI_API_KEY"),
        description="API key for --explain (never logged)",
    )
    llm_timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="total time budget of --explain, all attempts together"
    )
    llm_max_retries: int = Field(
        default=2, ge=0, le=5, description="retries of a timeout/429/5xx for --explain, within the budget"
    )

    # publishing (healing as a commit or a PR) and PR comments
    github_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PERFGATE_GITHUB_TOKEN", "GITHUB_TOKEN"),
        description="token for the GitHub REST API; absent: publishing is skipped with a notice",
    )
    github_repository: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PERFGATE_GITHUB_REPOSITORY", "GITHUB_REPOSITORY"),
        description="owner/name of the repository",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        validation_alias=AliasChoices("PERFGATE_GITHUB_API_URL", "GITHUB_API_URL"),
    )

    @field_validator("no_color", mode="before")
    @classmethod
    def _any_value_means_no_color(cls, value: object) -> bool:
        """no-color.org: present and not empty, whatever the value (`NO_COLOR=please`)."""
        return bool(value) if not isinstance(value, str) else value.strip() != ""


def load_settings() -> Settings:
    """The settings; an invalid variable is a `UsageError` naming it (never its value: it may be a secret)."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        raise UsageError(f"environment variable {_variable(field)}: {error['msg']}") from None


def _variable(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        return " / ".join(str(choice) for choice in alias.choices)
    return f"PERFGATE_{field.upper()}" if field in Settings.model_fields else field
