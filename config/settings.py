"""Environment settings (interface.md): secrets and deployment knobs only.

Secrets are SecretStr so that a repr or a log line never shows them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///kpibot.db"
    kpibot_config: Path | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    host: str = "127.0.0.1"  # 0.0.0.0 in a container or behind a proxy on another machine
    port: int = 3000

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
