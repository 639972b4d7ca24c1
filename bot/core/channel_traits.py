"""What each messenger can do, declared once per channel and read everywhere else.

A channel package declares its `ChannelTraits` in its `__init__.py` (no SDK import
there: declaring Telegram must not load aiogram). The core, the outbox, /lienket,
report delivery and the channel registry read these declarations instead of testing
channel names, so a new messenger is one package and one declaration.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import Settings

# The channel packages shipped with the bot; `declared()` imports them on first use.
# Zalo first: the order /lienket names the other messengers in.
BUILTIN = ("bot.channels.zalo", "bot.channels.telegram", "bot.channels.console")


def _never(_settings: Settings) -> bool:
    return False


def _no_rate(_settings: Settings) -> float | None:
    return None


@dataclass(frozen=True)
class ChannelTraits:
    name: str  # recorded on accounts and events
    buttons: bool  # inline buttons; without them choices are numbered lines
    files: bool  # the bot API sends documents (else a report goes as a download link)
    images_by_url: bool  # a lesson image is sent as a public URL, not uploaded
    max_text: int  # characters in one message; longer texts are split by the channel
    linkable: bool  # a resident can join it to another messenger with /lienket
    redelivers_on_5xx: bool  # a failed webhook answer makes the platform send it again
    # Sending outside a conversation (outbox), messages a second: overall, per chat.
    # Functions of the settings, so the limits stay configurable where they are today.
    rate: Callable[[Settings], float | None] = _no_rate
    per_chat_rate: Callable[[Settings], float | None] = _no_rate
    # Whether this process should serve it, and how to build it (imported only then,
    # "package.module:function" taking the App).
    configured: Callable[[Settings], bool] = _never
    factory: str | None = None

    def create(self, app: Any) -> Any:
        if self.factory is None:
            raise LookupError(f"channel {self.name!r} cannot be served by `hocvuso run`")
        module, _, function = self.factory.partition(":")
        return getattr(importlib.import_module(module), function)(app)


_DECLARED: dict[str, ChannelTraits] = {}
_loaded = False


def declare(traits: ChannelTraits) -> ChannelTraits:
    """Register a channel's traits (called from its package's `__init__`)."""
    _DECLARED[traits.name] = traits
    return traits


def declared() -> dict[str, ChannelTraits]:
    """Every declared channel by name, the built-in ones first."""
    global _loaded
    if not _loaded:
        for package in BUILTIN:
            importlib.import_module(package)
        _loaded = True
    return _DECLARED


def traits_of(name: str) -> ChannelTraits | None:
    """The declaration of `name`; None for a name nothing declares (old rows, tests)."""
    return declared().get(name)


def has_buttons(name: str) -> bool:
    traits = traits_of(name)
    return traits is not None and traits.buttons


def sends_files(name: str) -> bool:
    traits = traits_of(name)
    return traits is None or traits.files


def linkable() -> tuple[str, ...]:
    return tuple(name for name, traits in declared().items() if traits.linkable)
