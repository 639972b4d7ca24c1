"""What each messenger can do, declared once per channel and read everywhere else.

A channel package declares its `ChannelTraits` in its `__init__.py` (no SDK import
there: declaring Telegram must not load aiogram). The core, the outbox, /lienket,
report delivery and the channel registry read these declarations instead of testing
channel names, so a new messenger is one package and one declaration.

A deployment may run several bots of one messenger (`[[bots]]` in the settings, each
recorded under its own name): `use_bots` makes each bot name resolve to its messenger's
declaration, under the bot's name and with the bot's own sending rate.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import BotSettings, Settings

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
    # "package.module:function" taking (App) for the legacy bot of the settings section,
    # or (App, BotSettings) for a `[[bots]]` instance.
    factory: str | None = None
    # A bot instance's own sending limit (e.g. Zalo's messages_per_second); None: `rate`.
    bot_rate: Callable[[BotSettings], float | None] | None = None
    # The declared messenger a bot instance runs on; empty for the declaration itself.
    messenger: str = ""

    @property
    def kind(self) -> str:
        """The messenger: "telegram" for the legacy bot and for every Telegram bot."""
        return self.messenger or self.name

    def create(self, app: Any, bot: BotSettings | None = None) -> Any:
        if self.factory is None:
            raise LookupError(f"channel {self.name!r} cannot be served by `hocvuso run`")
        module, _, function = self.factory.partition(":")
        build = getattr(importlib.import_module(module), function)
        return build(app) if bot is None else build(app, bot)


_DECLARED: dict[str, ChannelTraits] = {}
_BOTS: dict[str, ChannelTraits] = {}  # the deployment's `[[bots]]`, by bot name
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


def use_bots(bots: Iterable[BotSettings]) -> None:
    """The bots this deployment runs (replacing any earlier set): each name resolves to
    its messenger's declaration, named after the bot, sending at the bot's own rate."""
    messengers = declared()
    instances = {}
    for bot in bots:
        base = messengers[bot.messenger]
        rate = base.rate
        if base.bot_rate is not None:
            rate = _fixed_rate(base.bot_rate(bot))
        instances[bot.name] = replace(
            base, name=bot.name, messenger=base.name, rate=rate, configured=_never
        )
    _BOTS.clear()
    _BOTS.update(instances)


def bots() -> dict[str, ChannelTraits]:
    """The bot instances `use_bots` set, by name."""
    return _BOTS


def _fixed_rate(value: float | None) -> Callable[[Settings], float | None]:
    return lambda _settings: value


def traits_of(name: str) -> ChannelTraits | None:
    """The declaration of `name` (a messenger or a bot's name); None for a name nothing
    declares (old rows, tests)."""
    return _BOTS.get(name) or declared().get(name)


def messenger_of(name: str) -> str:
    """The messenger a channel name runs on ("tg-hoaan" -> "telegram"); itself if unknown."""
    traits = traits_of(name)
    return name if traits is None else traits.kind


def label_key(name: str) -> str:
    """The catalog key naming a channel to people: a bot shows its messenger's name."""
    return f"channels.{messenger_of(name)}"


def deliverable() -> tuple[str, ...]:
    """Every channel name queued messages can go to: the declared ones and the bots."""
    return (*declared(), *_BOTS)


def has_buttons(name: str) -> bool:
    traits = traits_of(name)
    return traits is not None and traits.buttons


def sends_files(name: str) -> bool:
    traits = traits_of(name)
    return traits is None or traits.files


def linkable() -> tuple[str, ...]:
    """The messengers a resident can link (named in /lienket), not each bot of them."""
    return tuple(name for name, traits in declared().items() if traits.linkable)
