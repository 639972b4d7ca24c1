"""Checks of the `[[bots]]` settings that need more than one field: names, webhooks,
tokens. Each fault is a `BotConfigError` that `bot.startup.explain` says in one
Vietnamese line (`startup.bots.<key>` in bot/i18n/vi/startup.yaml)."""

from __future__ import annotations

import re
from typing import Any

from config.settings import Settings, SettingsError

# Names the legacy `[telegram]` / `[zalo]` bots and the console are recorded under.
RESERVED = ("telegram", "zalo", "console")
# What each messenger's setWebhook accepts as a secret token.
SECRET_RULES = {
    "telegram": re.compile(r"[A-Za-z0-9_-]{1,256}"),
    "zalo": re.compile(r".{8,256}", re.DOTALL),
}


class BotConfigError(SettingsError):
    """A `[[bots]]` entry that cannot work; `key` and `values` fill the catalog line."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(f"bots: {key} {values}")
        self.key = key
        self.values = values


def check_bots(settings: Settings) -> None:
    """Raise BotConfigError for the first fault: a name used twice or reserved, webhook
    mode without a secret or URL, a secret the messenger refuses, a token used twice."""
    names: set[str] = set()
    tokens: dict[str, str] = {}
    for legacy, section in ((settings.telegram, "telegram"), (settings.zalo, "zalo")):
        if legacy.token is not None:
            tokens[legacy.token.get_secret_value()] = section
    for bot in settings.bots:
        if bot.name in RESERVED:
            raise BotConfigError("reserved", name=bot.name)
        if bot.name in names:
            raise BotConfigError("duplicate", name=bot.name)
        names.add(bot.name)
        token = bot.token.get_secret_value()
        if token in tokens:
            raise BotConfigError("same_token", name=bot.name, other=tokens[token])
        tokens[token] = bot.name
        if bot.mode != "webhook":
            continue
        secret = bot.webhook_secret.get_secret_value() if bot.webhook_secret else ""
        if not secret:
            raise BotConfigError("webhook_secret", name=bot.name)
        if not SECRET_RULES[bot.messenger].fullmatch(secret):
            raise BotConfigError(f"webhook_secret_{bot.messenger}", name=bot.name)
        if not (bot.webhook_url or "").startswith(("https://", "http://")):
            raise BotConfigError("webhook_url", name=bot.name, path=bot.webhook_path)
