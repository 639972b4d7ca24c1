"""Core `Outbound` messages -> what Telegram is asked to show (pure; no network).

Choices become an inline keyboard whose callback data is the choice id. Phones cut
button labels after about 30 characters, so when any label is longer the options are
written as numbered lines in the text and the buttons are just "1", "2", ... Typing the
number works too: the engine matches it against the offered choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.messages import Choice, Document, Outbound

MAX_TEXT = 4096  # sendMessage text
MAX_CAPTION = 1024  # sendPhoto caption
MAX_CALLBACK_BYTES = 64
LONG_LABEL = 30  # characters a phone shows on a button before cutting it
MAX_ROW = 8  # buttons Telegram puts in one row


@dataclass(frozen=True)
class TelegramMessage:
    """One sendMessage, or one sendPhoto when `photo` is set (then `text` is the caption),
    or one sendDocument when `document` is set (likewise).

    `photo` is a local file to upload or an https URL that Telegram fetches itself."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: Path | str | None = None
    document: Document | None = None


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def callback_data(choice: Choice) -> str:
    if not choice.id or len(choice.id.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"choice id {choice.id!r} does not fit Telegram's 64-byte callback data")
    return choice.id


def needs_numbers(choices: tuple[Choice, ...]) -> bool:
    return any(len(choice.label) > LONG_LABEL for choice in choices)


def layout(message: Outbound) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text to show and its keyboard (None without choices)."""
    choices = message.choices
    if not choices:
        return message.text, None
    if needs_numbers(choices):
        lines = [f"{n}. {choice.label}" for n, choice in enumerate(choices, start=1)]
        text = message.text + "\n\n" + "\n".join(lines)
        buttons = [
            InlineKeyboardButton(text=str(n), callback_data=callback_data(choice))
            for n, choice in enumerate(choices, start=1)
        ]
        return text, _rows(buttons, MAX_ROW)
    buttons = [
        InlineKeyboardButton(text=choice.label, callback_data=callback_data(choice))
        for choice in choices
    ]
    return message.text, _rows(buttons, min(max(message.columns, 1), MAX_ROW))


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> InlineKeyboardMarkup:
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit`, cut at a paragraph break, else a line, else a space."""
    pieces: list[str] = []
    rest = text.strip()
    while tg_len(rest) > limit:
        window = _prefix(rest, limit)
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0)
        cut = cut or max(window.rfind(" "), 0) or len(window)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _prefix(text: str, limit: int) -> str:
    """The longest prefix of `text` that Telegram counts as at most `limit`."""
    prefix = text[:limit]
    while tg_len(prefix) > limit:
        prefix = prefix[: -max(1, (tg_len(prefix) - limit) // 2)]
    return prefix


def render(message: Outbound, lessons_dir: Path) -> list[TelegramMessage]:
    """Telegram messages for one core message, the keyboard on the last one.

    An image is sent as a photo with the text as caption when it fits in 1024
    characters, else as a photo followed by the text. A missing image file is skipped
    (the loader checks lesson images at start, so only files that vanished later).
    """
    text, keyboard = layout(message)
    if message.document is not None:
        return with_document(text, keyboard, message.document)
    photo = photo_source(message.image, lessons_dir)
    if photo is not None and tg_len(text) <= MAX_CAPTION:
        return [TelegramMessage(text, keyboard, photo)]
    parts = split_text(text)
    if not parts and keyboard is not None:
        parts = ["👇"]  # a keyboard needs a message to hang on
    out = [TelegramMessage("", None, photo)] if photo is not None else []
    out += [TelegramMessage(part) for part in parts]
    if keyboard is not None:
        out[-1] = TelegramMessage(out[-1].text, keyboard, out[-1].photo)
    return out


def with_document(
    text: str, keyboard: InlineKeyboardMarkup | None, document: Document
) -> list[TelegramMessage]:
    """A document with the text as caption when it fits, else the text then the file."""
    if tg_len(text) <= MAX_CAPTION:
        return [TelegramMessage(text, keyboard, document=document)]
    out = [TelegramMessage(part) for part in split_text(text)]
    return [*out, TelegramMessage("", keyboard, document=document)]


def photo_source(image: str | None, lessons_dir: Path) -> Path | str | None:
    """Where `Outbound.image` points: an https URL (broadcasts), an absolute file made
    by the bot (a team's QR code), or a lesson image relative to lessons/."""
    if not image:
        return None
    if image.startswith("https://"):
        return image
    if Path(image).is_absolute():
        path = Path(image)
    else:
        path = (lessons_dir / image).resolve()
        if not path.is_relative_to(lessons_dir.resolve()):
            return None
    return path if path.is_file() else None
