"""Channel-neutral inbound events and outbound messages.

Channels turn their platform's updates into `Inbound` and render `Outbound` their own
way: buttons on Telegram, numbered lines on Zalo and the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.clean import clean_text, clean_token, shown_name


class Kind(StrEnum):
    START = "start"  # first contact or /start, with an optional deep-link payload
    TEXT = "text"  # free text; may be a typed answer, a code or a /command
    CHOICE = "choice"  # a button press carrying a choice id
    MEDIA = "media"  # sticker, photo, voice...: anything the bot cannot read
    CONTACT = "contact"  # a phone number shared through the messenger


@dataclass(frozen=True)
class Inbound:
    channel: str  # "telegram" | "zalo" | "console"
    user_id: str  # the platform's opaque id of the person
    kind: Kind
    text: str | None = None
    payload: str | None = None  # start payload, choice id or media kind
    display_name: str | None = None
    update_key: str | None = None  # platform update id, for de-duplication

    def __post_init__(self) -> None:
        """Every channel's input is cleaned here, once, before anything stores it."""
        for name, clean in (
            ("user_id", clean_token),
            ("text", clean_text),
            ("payload", clean_token),
            ("display_name", shown_name),
            ("update_key", clean_token),
        ):
            object.__setattr__(self, name, clean(getattr(self, name)))


@dataclass(frozen=True)
class Choice:
    id: str  # short and opaque; never a label (Telegram callback data is 64 bytes at most)
    label: str


@dataclass(frozen=True)
class Document:
    """A file to hand over (a report). Held in memory: conversation replies only."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Outbound:
    text: str
    choices: tuple[Choice, ...] = ()
    image: str | None = None  # path of an image file to show with the text
    columns: int = 1  # how many buttons per row a channel with buttons should use
    document: Document | None = None


@dataclass
class Reply:
    messages: list[Outbound] = field(default_factory=list)
    duplicate: bool = False  # the update was already processed; nothing to send
    # The step could not be recorded (database unavailable): a channel whose platform
    # redelivers should refuse the update; others show `messages` (a polite apology).
    retry: bool = False
    # `messages` are stored with the step until the channel confirms it sent them.
    stored: bool = False
