"""Settings the team features read from `Services`, with working defaults.

`Services` (bot/core/context.py) does not carry these yet; until the app wires them in
(`data_dir`, `telegram_username`, `questions_escalate_hours`), they are read
defensively so that every feature works on defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_ESCALATE_HOURS = 48.0


def data_dir(services: Any) -> Path:
    """Where generated files (QR codes) go."""
    return Path(getattr(services, "data_dir", None) or "data")


def telegram_username(source: Any) -> str | None:
    """The bot's Telegram username (Services, or Settings.telegram.bot_username)."""
    direct = getattr(source, "telegram_username", None)
    if direct:
        return str(direct).lstrip("@")
    name = getattr(getattr(source, "telegram", None), "bot_username", None)
    return str(name).lstrip("@") if name else None


def telegram_username_in(services: Any, channel: str, commune_id: int) -> str | None:
    """The Telegram bot a deep link made in a chat should name: the bot of this chat if
    it is a Telegram bot, else one serving the commune, else the deployment's."""
    known: dict[str, str] = getattr(services, "telegram_usernames", None) or {}
    if channel in known:
        return known[channel].lstrip("@")
    communes = getattr(services, "communes", None)
    for bot, username in known.items():
        if communes is not None and communes.serves(bot, commune_id):
            return username.lstrip("@")
    return telegram_username(services)


def escalate_hours(source: Any) -> float:
    """Hours before an unanswered question goes to the commune (Services or Settings)."""
    return float(getattr(source, "questions_escalate_hours", None) or DEFAULT_ESCALATE_HOURS)
