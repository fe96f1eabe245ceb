"""Environment settings (interface.md): secrets and deployment knobs only.

Secrets are SecretStr so that a repr or a log line never shows them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import SettingsError as SettingsError

# values safe to repeat in a message (the others may hold a password or a token)
_SHOWN = {"port", "host"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///kpibot.db"
    kpibot_config: Path | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    host: str = "127.0.0.1"  # 0.0.0.0 in a container or behind a proxy on another machine
    port: int = Field(3000, ge=0, le=65535)  # 0: any free port

    @field_validator("kpibot_config", "slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, v):
        # `KPIBOT_CONFIG=` is how a .env template leaves a setting out; read as it is, "" would be the
        # working folder (a config "file" that is a folder) or a token Slack can only refuse
        return None if isinstance(v, str) and not v.strip() else v

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        value = f" {first['input']!r}" if name in _SHOWN else ""
        raise SettingsError(f"{name.upper()}{value} (environment or .env): {first['msg']}") from None
