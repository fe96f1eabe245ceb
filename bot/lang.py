"""Which language to answer a person in: the question's, else their configured one, else their Slack locale."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from config.app_config import AppConfig

log = logging.getLogger(__name__)

# A person rarely changes their Slack language; an hour keeps users.info off the answer's path.
LOCALE_TTL = 3600.0


class LanguageResolver:
    def __init__(self, config: AppConfig, client: WebClient | None, ttl: float = LOCALE_TTL):
        self.config = config
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def for_question(self, question_lang: str, user_id: str | None) -> str:
        """Thai when the question was in Thai or the person prefers Thai; English otherwise."""
        if question_lang == "th":
            return "th"
        return self.for_user(user_id)

    def for_user(self, user_id: str | None) -> str:
        if user_id:
            prefs = self.config.users.get(user_id)
            if prefs is not None and prefs.lang:
                return prefs.lang
            locale = self._locale(user_id)
            if locale:
                return "th" if locale.lower().startswith("th") else "en"
        return self.config.language

    def without_asking(self, user_id: str | None, text: str = "") -> str:
        """The language for a reply made on the request's own thread (an ack): Thai for a question with
        Thai letters, else what is known without calling Slack (preferences, a cached locale)."""
        if any("\u0e00" <= ch <= "\u0e7f" for ch in text):
            return "th"
        if user_id:
            prefs = self.config.users.get(user_id)
            if prefs is not None and prefs.lang:
                return prefs.lang
            with self._lock:
                hit = self._cache.get(user_id)
            if hit is not None and hit[0]:
                return "th" if hit[0].lower().startswith("th") else "en"
        return self.config.language

    def _locale(self, user_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        locale: str | None = None
        if self.client is not None:
            try:
                resp = self.client.users_info(user=user_id, include_locale=True)
                locale = (resp.get("user") or {}).get("locale")
            except (SlackApiError, SlackClientError, OSError) as exc:
                # Unknown user or Slack hiccup: answer in the default language rather than not at all.
                log.info("users.info for %s failed (%s); using the default language", user_id,
                         type(exc).__name__)
        with self._lock:
            self._cache[user_id] = (locale, now + self.ttl)
        return locale
