"""The outbox worker: drains queued messages through each channel, throttled so the
platforms never have to say 429, and resumable after a crash or restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.channels.base import Channel, SendResult, mark_blocked
from bot.core import channel_traits
from bot.core.context import utc_now
from bot.ratelimit import KeyedBuckets, TokenBucket
from config.settings import OutboxSettings, SchedulerSettings, Settings
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)


# Unasked-for messages wait for the morning: nobody is woken by an announcement, a
# reminder or a digest. Answers to what someone asked (relays, reports) still go.
HELD_IN_QUIET_HOURS = ("broadcast", "nudge", "digest", "verify")


def quiet_hours_hold(
    settings: SchedulerSettings, tz: ZoneInfo
) -> Callable[[datetime], tuple[str, ...]]:
    """The kinds to hold back at a given time: those above during quiet hours."""

    def held(now: datetime) -> tuple[str, ...]:
        return HELD_IN_QUIET_HOURS if settings.is_quiet(now.astimezone(tz).hour) else ()

    return held


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ChannelThrottle:
    """Overall messages per second for a channel, and per chat where the platform says."""

    def __init__(self, per_second: float, per_chat_per_second: float | None) -> None:
        self.overall = TokenBucket(per_second, burst=1)
        self.per_chat = KeyedBuckets(per_chat_per_second) if per_chat_per_second else None

    async def wait(self, chat: str, messages: int) -> None:
        for _ in range(messages):
            if self.per_chat is not None:
                await self.per_chat.acquire(chat)
            await self.overall.acquire()


class OutboxWorker:
    def __init__(
        self,
        database: Database,
        channels: Mapping[str, Channel],
        throttles: Mapping[str, ChannelThrottle],
        settings: OutboxSettings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        held_kinds: Callable[[datetime], tuple[str, ...]] = lambda _now: (),
    ) -> None:
        self.database = database
        self.channels = channels
        self.throttles = throttles
        self.settings = settings
        self.name = name or worker_name()
        self.clock = clock
        self.held_kinds = held_kinds
        self.sent = 0
        self.blocked = 0
        self.failed = 0
        self._stop: asyncio.Event | None = None

    async def drain_once(self) -> int:
        """Claim and send one batch per channel; returns how many rows were handled."""
        handled = 0
        for name, channel in self.channels.items():
            handled += await self._drain_channel(name, channel)
        return handled

    async def _drain_channel(self, name: str, channel: Channel) -> int:
        now = self.clock()
        async with self.database.transaction() as session:
            rows = await outbox.claim(
                session,
                channel=name,
                worker=self.name,
                now=now,
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch_size,
                held_kinds=self.held_kinds(now),
            )
            inactive = await outbox.inactive_accounts(session, name, [r.external_id for r in rows])
        semaphore = asyncio.Semaphore(self.settings.concurrency)

        async def deliver(row_id: int, external_id: str, payload: dict, attempts: int) -> None:
            if external_id in inactive:  # blocked the bot earlier: skip and count
                await self._mark(row_id, SendResult.BLOCKED, attempts)
                return
            messages = outbox.decode(payload)
            async with semaphore:
                await self.throttles[name].wait(external_id, len(messages))
                if self._stop is not None and self._stop.is_set():
                    return  # shutting down: left claimed, released below in run()
                result = await channel.send(external_id, messages)
            if result is SendResult.BLOCKED:  # newly blocked: send them nothing more
                await mark_blocked(self.database, name, external_id)
            await self._mark(row_id, result, attempts)

        await asyncio.gather(*(deliver(r.id, r.external_id, r.payload, r.attempts) for r in rows))
        return len(rows)

    async def _mark(self, row_id: int, result: SendResult, attempts: int) -> None:
        now = self.clock()
        async with self.database.transaction() as session:
            if result is SendResult.SENT:
                self.sent += 1
                await outbox.mark(session, row_id, status="sent", now=now)
            elif result is SendResult.BLOCKED:
                self.blocked += 1
                await outbox.mark(session, row_id, status="blocked", now=now)
            elif attempts + 1 >= outbox.MAX_ATTEMPTS:
                self.failed += 1
                await outbox.mark(session, row_id, status="failed", now=now, error="gave up")
            else:  # try again later, backing off
                retry = now + timedelta(seconds=30 * 2**attempts)
                await outbox.mark(session, row_id, status="pending", now=now, retry_at=retry)

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set; on the way out give back what was not sent."""
        self._stop = stop
        try:
            while not stop.is_set():
                try:
                    handled = await self.drain_once()
                except Exception:  # the database may be briefly down: wait and retry
                    log.exception("outbox batch failed; retrying")
                    handled = 0
                if handled == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)
        finally:
            async with self.database.transaction() as session:
                released = await outbox.release(session, self.name)
            if released:
                log.info("outbox: released %d claimed messages", released)


def throttles_from_settings(settings: Settings) -> dict[str, ChannelThrottle]:
    """A throttle for every declared channel and every bot that has a sending limit (its
    declaration reads the figure from the settings). One per bot: Telegram's limits are
    per bot token, and each Zalo bot has its own `messages_per_second`."""
    throttles = {}
    every = {**channel_traits.declared(), **channel_traits.bots()}
    for name, traits in every.items():
        rate = traits.rate(settings)
        if rate is not None:
            throttles[name] = ChannelThrottle(rate, traits.per_chat_rate(settings))
    return throttles


async def run_outbox(app, channels: list[Channel], stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    """Service worker: drain the outbox through the channels this process serves."""
    if not channels:
        return
    worker = OutboxWorker(
        app.database,
        {c.name: c for c in channels},
        throttles_from_settings(app.settings),
        app.settings.outbox,
        clock=app.engine.services.clock,  # the same "now" as the jobs that queue
        held_kinds=quiet_hours_hold(app.settings.scheduler, app.engine.services.tz),
    )
    await worker.run(stop)
