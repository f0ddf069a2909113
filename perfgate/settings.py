"""The only module that reads the environment (prefix `PERFGATE_`; an empty value means unset)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        description="never colour terminal output (NO_COLOR is honoured too)",
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
    llm_timeout_s: float = Field(default=30.0, gt=0, description="per-request timeout for --explain")
    llm_max_retries: int = Field(default=2, ge=0, le=5, description="bounded retries for --explain")

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


def load_settings() -> Settings:
    return Settings()
