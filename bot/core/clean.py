"""What people type and what messengers call them, made safe to store and show.

Applied to every `Inbound` as it is built (bot/core/messages.py), so every channel gets
it before the engine or the database sees a character: NFC (the same Vietnamese word
typed on two keyboards compares and stores alike), no lone surrogates (not encodable as
UTF-8, so every write failed), no NUL (PostgreSQL refuses it in text) nor other control
characters, and a length cap.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 64  # people.display_name
MAX_TEXT = 4096  # Telegram's own limit for one message
MAX_TOKEN = 256  # choice ids, deep-link payloads, ids: all far shorter when genuine
KEEP_IN_TEXT = frozenset("\n\t")


def _drop_unsafe(value: str, keep: frozenset[str]) -> str:
    return "".join(ch for ch in value if ch in keep or unicodedata.category(ch) not in ("Cc", "Cs"))


def clean_text(value: str | None, limit: int = MAX_TEXT) -> str | None:
    """Typed text: line breaks and tabs stay, other control characters go."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", _drop_unsafe(value, KEEP_IN_TEXT))
    return text[:limit]


def clean_name(value: str | None, limit: int = MAX_NAME) -> str | None:
    """A display name on one line, spaces collapsed; None when nothing is left."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", _drop_unsafe(value.replace("\n", " "), frozenset()))
    return " ".join(text.split())[:limit].strip() or None


# What a channel may send when it knows no name (the console's default): a form of
# address, not a name, so it is neither stored nor used to greet ("Chào mừng Bạn").
_NOT_NAMES = frozenset({"bạn", "ban"})


def shown_name(value: str | None) -> str | None:
    """A display name fit to greet someone with; None for none or a placeholder."""
    name = clean_name(value)
    return None if name is None or name.casefold() in _NOT_NAMES else name


def clean_token(value: str | None, limit: int = MAX_TOKEN) -> str | None:
    """Ids and payloads: never legitimately anything but printable text."""
    if value is None:
        return None
    return _drop_unsafe(value, frozenset())[:limit]
