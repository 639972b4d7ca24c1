"""Screens that take typed text (a question, an answer, a household code, a note).

The engine matches typed text against the offered choices only, so a screen that wants
free text registers with `@accepts_text` and implements `typed(ctx, args, text)`. Text
that names one of the screen's own choices ("1", "Hủy") still works as that choice.
"""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.matching import match_choice
from bot.core.messages import Choice
from bot.core.screens import REGISTRY, text_hook

INPUT_SCREENS: set[str] = set()
MAX_TYPED_CHARS = 1000


def accepts_text(cls: type) -> type:
    """Class decorator (put it above `@screen`): typed text goes to `cls.typed`."""
    INPUT_SCREENS.add(cls.name)  # type: ignore[attr-defined]
    return cls


def is_input_screen(state: dict[str, Any]) -> bool:
    return state.get("name") in INPUT_SCREENS


@text_hook
async def route_typed_text(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    name = state.get("name")
    if name not in INPUT_SCREENS:
        return False
    offered = [Choice(choice_id, label) for choice_id, label in state.get("offered", [])]
    if match_choice(text, offered, strict=True) is not None:
        return False  # the engine handles it as that choice
    if len(text) > MAX_TYPED_CHARS:
        ctx.say(ctx.t("common.too_long"))
        return True
    await REGISTRY[name].typed(ctx, dict(state.get("args", {})), text)  # type: ignore[attr-defined]
    return True
