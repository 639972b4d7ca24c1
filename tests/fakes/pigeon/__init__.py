"""A third messenger that exists only in tests: "pigeon" has no buttons and sends no
files, and a resident can link it with /lienket. It is the whole of what a new
messenger needs: this package and its declaration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.channels.base import SendResult
from bot.channels.numbered import render_plain
from bot.core.channel_traits import ChannelTraits, declare
from bot.core.messages import Outbound

TRAITS = ChannelTraits(
    name="pigeon",
    buttons=False,
    files=False,
    images_by_url=False,
    max_text=500,
    linkable=True,
    redelivers_on_5xx=False,
    rate=lambda settings: 2.5,
    configured=lambda settings: True,
    factory="tests.fakes.pigeon:create",
)


class PigeonChannel:
    name = TRAITS.name

    def __init__(self, app: Any) -> None:
        self.texts = app.engine.services.texts
        self.sent: list[tuple[str, str]] = []  # (account, text) as the resident reads it

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        for message in messages:
            self.sent.append((external_id, render_plain(self.name, message, self.texts)))
        return SendResult.SENT


def create(app: Any) -> PigeonChannel:
    return PigeonChannel(app)


def register() -> None:
    """Declare it (tests undo this, so other tests see the shipped messengers only)."""
    declare(TRAITS)
