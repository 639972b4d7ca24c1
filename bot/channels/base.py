"""What every messenger channel provides to the service, the outbox and the scheduler."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from aiohttp import web
from sqlalchemy import update

from bot.core.engine import Engine
from bot.core.messages import Inbound, Outbound
from storage.db import Database
from storage.models import ChannelAccount

log = logging.getLogger(__name__)


class SendResult(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot: stop sending to them
    FAILED = "failed"  # gave up after retries; the caller may try again later


class Channel(Protocol):
    name: str

    def routes(self) -> list[web.RouteDef]:
        """Webhook routes to mount on the shared web app (empty in polling mode)."""
        ...

    async def start(self) -> None:
        """Begin receiving: start the polling task, or register the webhook."""
        ...

    async def stop(self) -> None:
        """Stop receiving and let in-flight updates finish."""
        ...

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        """Send messages to one person outside a conversation (outbox, reminders)."""
        ...


async def mark_blocked(database: Database, channel: str, external_id: str) -> None:
    """The person blocked the bot: keep their data, send them nothing more."""
    async with database.transaction() as session:
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
            .values(active=False)
        )
    log.info("account marked inactive after a block", extra={"channel": channel})


async def converse(
    engine: Engine,
    inbound: Inbound,
    send: SendFn,
) -> SendResult | None:
    """Handle one inbound event, then send the reply. The engine has committed before
    anything is sent, so a failed send never loses the recorded step."""
    reply = await engine.handle(inbound)
    if reply.duplicate or not reply.messages:
        return None
    result = await send(inbound.user_id, reply.messages)
    if result is SendResult.BLOCKED:
        await mark_blocked(engine.database, inbound.channel, inbound.user_id)
    return result


class SendFn(Protocol):
    async def __call__(self, external_id: str, messages: Sequence[Outbound]) -> SendResult: ...
