"""Rendering choices as numbered lines, for channels without buttons (Zalo, console)."""

from __future__ import annotations

from bot.core.messages import Outbound
from bot.core.texts import Texts


def render_numbered(message: Outbound, texts: Texts) -> str:
    if not message.choices:
        return message.text
    lines = [message.text, ""]
    lines += [f"{n}. {choice.label}" for n, choice in enumerate(message.choices, start=1)]
    lines.append(texts("channels_hint.numbered"))
    return "\n".join(lines)
