"""Rendering choices as numbered lines, for channels without buttons (Zalo, console,
any channel whose declaration says `buttons=False`)."""

from __future__ import annotations

from bot.core.channel_traits import has_buttons
from bot.core.messages import Outbound
from bot.core.texts import Texts


def render_numbered(message: Outbound, texts: Texts) -> str:
    if not message.choices:
        return message.text
    lines = [message.text, ""]
    lines += [f"{n}. {choice.label}" for n, choice in enumerate(message.choices, start=1)]
    lines.append(texts("channels_hint.numbered"))
    return "\n".join(lines)


def render_plain(channel: str, message: Outbound, texts: Texts) -> str:
    """The text of `message` for `channel`: its choices as numbered lines unless the
    channel shows buttons (then they go as buttons, not in the text)."""
    return message.text if has_buttons(channel) else render_numbered(message, texts)
