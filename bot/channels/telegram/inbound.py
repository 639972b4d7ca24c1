"""Telegram updates -> core `Inbound` events (pure; no network)."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message, User

from bot.core.messages import Inbound, Kind

CHANNEL = "telegram"

# Content a person sends that the bot cannot read: answered with a friendly hint.
# Service messages (pinned, members joined, ...) and content types unknown to this
# version of aiogram are not in the list and are ignored.
MEDIA_TYPES = frozenset(
    {
        "animation",
        "audio",
        "checklist",
        "dice",
        "document",
        "game",
        "live_photo",
        "location",
        "paid_media",
        "photo",
        "poll",
        "sticker",
        "story",
        "venue",
        "video",
        "video_note",
        "voice",
    }
)


def is_private(message: Message) -> bool:
    return message.chat.type == "private"


def display_name(user: User | None) -> str | None:
    if user is None:
        return None
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return name or None


def start_payload(text: str) -> str | None:
    """`/start` -> "", `/start team_X` -> "team_X"; None when the text is not /start."""
    command, _, rest = text.strip().partition(" ")
    if command.split("@", 1)[0] != "/start":
        return None
    return rest.strip()


def message_to_inbound(message: Message, update_id: int, channel: str = CHANNEL) -> Inbound | None:
    """A private-chat message as an Inbound, or None when there is nothing to answer.
    `channel`: the bot's name (the legacy bot is "telegram")."""
    common = {
        "channel": channel,
        "user_id": str(message.chat.id),
        "display_name": display_name(message.from_user),
        "update_key": str(update_id),
    }
    if message.text is not None:
        payload = start_payload(message.text)
        if payload is not None:
            return Inbound(kind=Kind.START, payload=payload or None, **common)
        return Inbound(kind=Kind.TEXT, text=message.text, **common)
    if message.contact is not None:
        # The number itself is not passed on: nothing in the core asks for it.
        return Inbound(kind=Kind.CONTACT, **common)
    kind = message.content_type.value  # e.g. "sticker"; "unknown" for newer kinds
    if kind in MEDIA_TYPES:
        return Inbound(kind=Kind.MEDIA, payload=kind, **common)
    return None


def callback_to_inbound(
    query: CallbackQuery, update_id: int, channel: str = CHANNEL
) -> Inbound | None:
    """A button press in a private chat as a CHOICE, or None (no data, not private)."""
    if not query.data:
        return None
    if query.message is not None and query.message.chat.type != "private":
        return None
    return Inbound(
        channel=channel,
        user_id=str(query.from_user.id),
        kind=Kind.CHOICE,
        payload=query.data,
        display_name=display_name(query.from_user),
        update_key=str(update_id),
    )
