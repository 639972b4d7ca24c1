"""Screens and the registries that plug features into the engine.

A screen renders one message with its choices and handles those choices. Its state is
`{name, args}` on the channel account, so any screen can be shown again from the
database alone (after a restart, or when input was not understood).

Feature modules in this package register themselves when imported:
- `@screen` classes, by name;
- `command(...)`: a `/command` that opens a screen, optionally behind a guard;
- `@text_hook`: a function that may claim typed text before choice matching (codes);
- `@start_hook(prefix)`: a handler for a deep-link payload such as `inv_...`;
- `menu_entry(...)`: an extra main-menu entry for those a guard allows.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.context import Context
from bot.core.messages import Outbound


class Screen(Protocol):
    name: str

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound: ...

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None: ...


@dataclass(frozen=True)
class Redirect:
    """Where to go instead of a stored screen whose content changed or disappeared,
    with the catalog key of the one sentence that tells the resident why."""

    notice_key: str
    name: str
    args: dict[str, Any]


async def stale_redirect(ctx: Context, name: str, args: dict[str, Any]) -> Redirect | None:
    """A screen built on content (a lesson card, a quiz question) may define
    `stale(ctx, args) -> Redirect | None`; the engine asks it before acting on a stored
    screen and before showing one, so edited content never meets an old position."""
    check = getattr(REGISTRY.get(name), "stale", None)
    return await check(ctx, args) if check is not None else None


Guard = Callable[[Context], Awaitable[bool]]
TextHook = Callable[[Context, str, dict[str, Any]], Awaitable[bool]]
StartHook = Callable[[Context, str], Awaitable[bool]]
# What a command does with words typed after it ("/nhacnho 9 giờ tối").
CommandText = Callable[[Context, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    screen: str
    args: dict[str, Any]
    needs_person: bool = False
    guard: Guard | None = None  # checked in the core: hiding a menu entry is not enough
    denied_key: str = "common.not_allowed"
    typed: CommandText | None = None  # None: words after the command are ignored


@dataclass(frozen=True)
class MenuEntry:
    """An extra main-menu entry shown only to those `visible` allows (e.g. staff tools)."""

    id: str
    label_key: str
    screen: str
    visible: Guard


REGISTRY: dict[str, Screen] = {}
MENU_ENTRIES: list[MenuEntry] = []
COMMANDS: dict[str, Command] = {}
TEXT_HOOKS: list[TextHook] = []
START_HOOKS: dict[str, StartHook] = {}


def screen(cls: type) -> type:
    """Class decorator: register one instance of the screen under its name."""
    instance = cls()
    REGISTRY[instance.name] = instance
    return cls


def command(
    name: str,
    screen_name: str,
    *,
    needs_person: bool = False,
    guard: Guard | None = None,
    denied_key: str = "common.not_allowed",
    typed: CommandText | None = None,
    **args: Any,
) -> None:
    COMMANDS[name] = Command(screen_name, args, needs_person, guard, denied_key, typed)


def menu_entry(choice_id: str, label_key: str, screen_name: str, visible: Guard) -> None:
    MENU_ENTRIES.append(MenuEntry(choice_id, label_key, screen_name, visible))


def text_hook(fn: TextHook) -> TextHook:
    TEXT_HOOKS.append(fn)
    return fn


def last_text_hook(fn: TextHook) -> TextHook:
    """A text hook that takes whatever the others left (a name searched for): it runs
    after every `text_hook`, so a code typed there is still read as a code."""
    fn._runs_last = True  # type: ignore[attr-defined]
    TEXT_HOOKS.append(fn)
    return fn


def start_hook(prefix: str) -> Callable[[StartHook], StartHook]:
    def register(fn: StartHook) -> StartHook:
        START_HOOKS[prefix] = fn
        return fn

    return register


def load_all() -> dict[str, Screen]:
    """Import every module of this package so that each registers what it offers."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    TEXT_HOOKS.sort(key=lambda hook: getattr(hook, "_runs_last", False))  # stable
    return REGISTRY
