"""Outbound messages as Zalo sends: numbered choices, texts split to fit, photos by URL.

Zalo has no buttons, so choices become "1. label" lines with a hint to type the number
(`render_numbered`). sendMessage takes at most 2,000 characters: longer texts are split
at paragraph boundaries, never mid-word (`split_text`). sendPhoto takes a public URL,
so a card's image is sent only when `zalo.media_base_url` says where lessons/ is served.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import quote

from bot.channels.numbered import render_plain
from bot.channels.zalo import TRAITS
from bot.channels.zalo.text import split_text
from bot.core.messages import Outbound
from bot.core.texts import Texts


@dataclass(frozen=True)
class ZaloPart:
    """One API call: a text message, or a photo (URL) without caption."""

    text: str | None = None
    photo: str | None = None


def media_url(base: str, image: str) -> str:
    """The public URL of an image path relative to lessons/ (e.g. media/a b.png)."""
    return f"{base.rstrip('/')}/{quote(image.lstrip('/'))}"


def render_parts(
    messages: Iterable[Outbound], texts: Texts, media_base_url: str | None = None
) -> list[ZaloPart]:
    """Every API call needed for `messages`, in order.

    The photo goes before its text so that the numbered choices stay at the bottom of
    the chat, where the resident types the answer.
    """
    parts: list[ZaloPart] = []
    for message in messages:
        if message.document is not None:  # Zalo's OA API sends no files: say where to get it
            note = texts("report_request.zalo_no_file")
            message = replace(message, text=f"{message.text}\n\n{note}", document=None)
        if message.image and media_base_url:
            parts.append(ZaloPart(photo=media_url(media_base_url, message.image)))
        text = render_plain(TRAITS.name, message, texts)
        parts.extend(ZaloPart(text=chunk) for chunk in split_text(text, TRAITS.max_text))
    return parts
