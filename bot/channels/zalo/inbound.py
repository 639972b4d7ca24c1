"""A parsed Zalo update as the core's channel-neutral `Inbound`."""

from __future__ import annotations

import hashlib

from bot.channels.zalo.updates import ZaloUpdate
from bot.core.messages import Inbound, Kind

CHANNEL = "zalo"
MAX_KEY = 64  # processed_updates.update_key and channel_accounts.external_id


def is_private(update: ZaloUpdate) -> bool:
    """Groups are "coming soon" on Zalo; a missing chat type means a private chat."""
    return update.chat_type is None or update.chat_type.upper() == "PRIVATE"


def update_key(update: ZaloUpdate) -> str:
    """De-duplication key: the message id (hashed only if it would not fit the column)."""
    if len(update.message_id) <= MAX_KEY:
        return update.message_id
    return hashlib.sha256(update.message_id.encode()).hexdigest()


def to_inbound(update: ZaloUpdate, channel: str = CHANNEL) -> Inbound:
    """Text stays text (numbers, labels, codes, /commands); anything else is media.
    `channel`: the bot's name (the legacy bot is "zalo")."""
    common = {
        "channel": channel,
        "user_id": update.user_id,
        "display_name": update.display_name,
        "update_key": update_key(update),
    }
    if update.kind == "text":
        return Inbound(kind=Kind.TEXT, text=update.text or "", **common)
    return Inbound(kind=Kind.MEDIA, payload=update.kind, **common)
