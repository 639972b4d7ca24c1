"""Parse Zalo Bot Platform updates (webhook bodies and getUpdates results).

The shape, from the reference::

    {"ok": true, "result": {
      "event_name": "message.text.received",
      "message": {
        "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": false},
        "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
        "text": "Xin chào", "message_id": "2d758cb5e222177a4e35", "date": 1750316131602}}}

Some senders deliver the bare ``{"event_name", "message"}`` object; both are accepted.
Parsing never raises: anything malformed yields ``None`` so a webhook handler can simply
acknowledge and drop it. Redelivery is undocumented, so callers should deduplicate on
``message_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["KINDS", "ZaloUpdate", "parse_update"]

#: ``event_name`` → ``ZaloUpdate.kind``. Anything else (e.g. the newer
#: ``message.voice.received``) is ``"other"``.
_KIND_BY_EVENT: Final[dict[str, str]] = {
    "message.text.received": "text",
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.unsupported.received": "unsupported",
}
KINDS: Final = frozenset({*_KIND_BY_EVENT.values(), "other"})


@dataclass(frozen=True)
class ZaloUpdate:
    """One incoming message, reduced to what the bot needs.

    All ids are opaque strings. ``text`` is the message text (or an image caption when
    the platform sends one); ``None`` when absent. ``date_ms`` is the Unix time in
    milliseconds. ``chat_type`` is e.g. ``"PRIVATE"``; groups are "coming soon" on Zalo,
    so callers should decide whether to ignore non-private chats.
    """

    event_name: str
    message_id: str
    user_id: str
    chat_id: str
    display_name: str | None
    text: str | None
    date_ms: int | None
    kind: str
    chat_type: str | None = None


def _nonempty_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_update(body: Any) -> ZaloUpdate | None:
    """Parse a wrapped (``{"ok": true, "result": {...}}``) or bare update body.

    Required (else ``None``): ``event_name`` (str), ``message`` (object),
    ``message.message_id`` (non-empty str), ``message.from.id`` (non-empty str).
    Optional fields of the wrong type are treated as absent. A missing ``chat`` falls
    back to the sender's id (a private chat's id equals the user's id).
    """
    try:
        return _parse(body)
    except Exception:  # defensive: a webhook must never crash on a weird body
        return None


def _parse(body: Any) -> ZaloUpdate | None:
    if not isinstance(body, dict):
        return None

    # Unwrap {"ok": true, "result": {...}}; an ok:false body carries no update.
    if "result" in body and "message" not in body:
        if body.get("ok") is False:
            return None
        body = body["result"]
        if not isinstance(body, dict):
            return None

    event_name = _nonempty_str(body.get("event_name"))
    message = body.get("message")
    if event_name is None or not isinstance(message, dict):
        return None

    message_id = _nonempty_str(message.get("message_id"))
    sender = message.get("from")
    if message_id is None or not isinstance(sender, dict):
        return None
    user_id = _nonempty_str(sender.get("id"))
    if user_id is None:
        return None

    chat = message.get("chat")
    chat_id: str | None = None
    chat_type: str | None = None
    if isinstance(chat, dict):
        chat_id = _nonempty_str(chat.get("id"))
        chat_type = _optional_str(chat.get("chat_type"))
    elif chat is not None:
        return None  # present but not an object: malformed

    text = _optional_str(message.get("text"))
    if text is None:
        text = _optional_str(message.get("caption"))

    date = message.get("date")
    date_ms: int | None = None
    if isinstance(date, int) and not isinstance(date, bool):
        date_ms = date
    elif isinstance(date, str) and date.isdigit():  # tolerate a stringified timestamp
        date_ms = int(date)

    return ZaloUpdate(
        event_name=event_name,
        message_id=message_id,
        user_id=user_id,
        chat_id=chat_id or user_id,
        display_name=_optional_str(sender.get("display_name")),
        text=text,
        date_ms=date_ms,
        kind=_KIND_BY_EVENT.get(event_name, "other"),
        chat_type=chat_type,
    )
