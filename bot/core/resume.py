"""Pause and resume: the last screen of a lesson, quiz or visit entry, kept per person.

Screens that are steps of a longer activity register here with the slot they pause
in (`lesson:<id>` for a lesson's cards and its quiz, `visit` for a visit entry). The
engine remembers every such screen it shows; the activity's way back in ("Học tiếp",
"Ghi tiếp") reopens it, and finishing or cancelling the activity forgets it. A paused
screen is checked like any stored screen: if its content changed meanwhile, the
resident is told and starts that lesson or quiz again (see `screens.stale_redirect`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.context import Context
from storage import resume as store

SlotOf = Callable[[dict[str, Any]], str | None]
SLOTS: dict[str, SlotOf] = {}


def resumable(screen_name: str, slot_of: SlotOf) -> None:
    """Register `screen_name` as a step to come back to, paused in `slot_of(args)`."""
    SLOTS[screen_name] = slot_of


def lesson_slot(lesson_id: str) -> str:
    return f"lesson:{lesson_id}"[:48]


async def remember(ctx: Context, name: str, args: dict[str, Any]) -> None:
    """Called by the engine for the screen it is about to show."""
    slot_of = SLOTS.get(name)
    if slot_of is None or ctx.person is None:
        return
    slot = slot_of(args)
    if slot:
        await store.save(ctx.session, ctx.person.id, slot, {"name": name, "args": args}, ctx.now)


async def paused(ctx: Context, slot: str) -> tuple[str, dict[str, Any]] | None:
    """The screen paused in `slot`, as (name, args), if any."""
    if ctx.person is None:
        return None
    row = await store.get(ctx.session, ctx.person.id, slot)
    if row is None or not isinstance(row.screen, dict) or row.screen.get("name") not in SLOTS:
        return None
    return str(row.screen["name"]), dict(row.screen.get("args") or {})


async def forget(ctx: Context, slot: str) -> None:
    if ctx.person is not None:
        await store.drop(ctx.session, ctx.person.id, slot)
