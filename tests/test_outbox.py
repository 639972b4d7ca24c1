"""The durable outbox on SQLite and PostgreSQL: once per recipient, throttled,
blocked recipients skipped, failures retried later, claims released on stop."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.channels.base import SendResult
from bot.core.messages import Outbound
from bot.outbox import ChannelThrottle, OutboxWorker
from config.settings import OutboxSettings
from storage import outbox
from storage.delivery_models import OutboxMessage
from storage.models import ChannelAccount
from tests.support import make_app


class RecordingChannel:
    """A stand-in messenger that records what reaches each chat."""

    name = "telegram"

    def __init__(self, blocked: set[str] = frozenset(), failing: set[str] = frozenset()):
        self.received: list[tuple[str, str]] = []
        self.blocked, self.failing = set(blocked), set(failing)
        self.times: list[float] = []

    def routes(self):
        return []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        if external_id in self.blocked:
            return SendResult.BLOCKED
        if external_id in self.failing:
            return SendResult.FAILED
        self.times.append(time.monotonic())
        self.received += [(external_id, m.text) for m in messages]
        return SendResult.SENT


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def queue(app, clock, recipients, kind="broadcast", tag="b1"):
    async with app.database.transaction() as session:
        added = 0
        for external_id in recipients:
            added += await outbox.enqueue(
                session,
                dedupe_key=f"{tag}:{external_id}",
                kind=kind,
                channel="telegram",
                external_id=external_id,
                messages=[Outbound(f"Thông báo cho {external_id}")],
                now=clock(),
            )
    return added


def worker(app, channel, clock, name="w1", rate=1000.0, **kw):
    settings = OutboxSettings(**kw)
    throttle = {"telegram": ChannelThrottle(rate, None)}
    return OutboxWorker(
        app.database, {"telegram": channel}, throttle, settings, name=name, clock=clock
    )


def night_aware_worker(app, channel, clock, held_kinds) -> OutboxWorker:
    """A worker as the service builds it: holding some kinds back in quiet hours."""
    throttle = {"telegram": ChannelThrottle(1000.0, None)}
    return OutboxWorker(
        app.database,
        {"telegram": channel},
        throttle,
        OutboxSettings(),
        clock=clock,
        held_kinds=held_kinds,
    )


async def statuses(app) -> Counter:
    async with app.database.session() as session:
        return Counter(await session.scalars(select(OutboxMessage.status)))


async def test_each_recipient_once_even_if_enqueued_twice(app, clock):
    assert await queue(app, clock, [f"c{n}" for n in range(50)]) == 50
    assert await queue(app, clock, [f"c{n}" for n in range(50)]) == 0  # same dedupe keys
    channel = RecordingChannel()
    w = worker(app, channel, clock, batch_size=20)
    while await w.drain_once():
        pass
    assert sorted(chat for chat, _ in channel.received) == sorted(f"c{n}" for n in range(50))
    assert await statuses(app) == Counter({"sent": 50})


async def test_blocked_recipients_are_skipped_and_counted(app, clock):
    await queue(app, clock, ["a", "b", "c"])
    async with app.database.transaction() as session:
        session.add(
            ChannelAccount(
                channel="telegram",
                external_id="b",
                screen={},
                active=False,
                created_at=clock(),
                last_seen_at=clock(),
            )
        )
    async with app.database.transaction() as session:
        session.add(
            ChannelAccount(
                channel="telegram",
                external_id="c",
                screen={},
                active=True,
                created_at=clock(),
                last_seen_at=clock(),
            )
        )
    channel = RecordingChannel(blocked={"c"})
    await worker(app, channel, clock).drain_once()
    assert [chat for chat, _ in channel.received] == ["a"]
    assert await statuses(app) == Counter({"sent": 1, "blocked": 2})
    async with app.database.session() as session:
        newly_blocked = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == "c")
        )
        assert newly_blocked.active is False  # nothing more goes to them


async def test_failures_are_retried_later_then_given_up(app, clock):
    await queue(app, clock, ["x"])
    channel = RecordingChannel(failing={"x"})
    w = worker(app, channel, clock)
    await w.drain_once()
    assert await statuses(app) == Counter({"pending": 1})
    assert await w.drain_once() == 0  # backing off: not due yet
    for _ in range(outbox.MAX_ATTEMPTS):
        clock.advance(hours=2)
        await w.drain_once()
    assert await statuses(app) == Counter({"failed": 1})


async def test_a_crashed_workers_claims_are_taken_over_after_the_lease(app, clock):
    await queue(app, clock, ["p", "q"])
    async with app.database.transaction() as session:
        taken = await outbox.claim(
            session,
            channel="telegram",
            worker="dead",
            now=clock(),
            lease=timedelta(seconds=60),
            limit=10,
        )
    assert len(taken) == 2
    channel = RecordingChannel()
    w = worker(app, channel, clock, name="alive")
    assert await w.drain_once() == 0  # still leased to the dead worker
    clock.advance(seconds=61)
    assert await w.drain_once() == 2
    assert sorted(chat for chat, _ in channel.received) == ["p", "q"]


async def test_stopping_releases_unsent_claims(app, clock):
    await queue(app, clock, ["r"])
    async with app.database.transaction() as session:
        await outbox.claim(
            session,
            channel="telegram",
            worker="w1",
            now=clock(),
            lease=timedelta(seconds=600),
            limit=10,
        )
    stop = asyncio.Event()
    stop.set()
    await worker(app, RecordingChannel(), clock).run(stop)
    assert await statuses(app) == Counter({"pending": 1})


async def test_two_workers_share_the_queue_without_overlap(app, clock):
    await queue(app, clock, [f"m{n}" for n in range(120)])
    channel = RecordingChannel()
    w1 = worker(app, channel, clock, name="w1", batch_size=15)
    w2 = worker(app, channel, clock, name="w2", batch_size=15)

    async def drain(w):
        while await w.drain_once():
            pass

    await asyncio.gather(drain(w1), drain(w2))
    chats = Counter(chat for chat, _ in channel.received)
    assert len(chats) == 120 and set(chats.values()) == {1}


async def test_throttle_keeps_to_the_configured_rate(app, clock):
    await queue(app, clock, [f"t{n}" for n in range(21)])
    channel = RecordingChannel()
    await worker(app, channel, clock, rate=50.0).drain_once()
    elapsed = channel.times[-1] - channel.times[0]
    assert elapsed >= 20 / 50 * 0.9  # 21 sends at 50/s take at least ~0.4 s


async def test_stop_mid_batch_sends_no_more_and_gives_the_rest_back(app, clock):
    await queue(app, clock, [f"s{n}" for n in range(10)])
    stop = asyncio.Event()

    class StoppingChannel(RecordingChannel):
        async def send(self, external_id, messages):
            stop.set()  # SIGTERM arrives while the first message goes out
            return await super().send(external_id, messages)

    channel = StoppingChannel()
    await worker(app, channel, clock, concurrency=1).run(stop)
    assert len(channel.received) == 1
    assert await statuses(app) == Counter({"sent": 1, "pending": 9})


async def test_unasked_messages_wait_for_the_morning_answers_do_not(app, clock):
    """At 22:00 local an announcement waits until quiet hours end at 07:00; the answer to
    a resident's question goes at once."""
    from zoneinfo import ZoneInfo

    from bot.outbox import quiet_hours_hold
    from config.settings import SchedulerSettings

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    clock.now = datetime(2026, 11, 20, 22, 0, tzinfo=tz).astimezone(UTC)
    await queue(app, clock, ["a", "b"], kind="broadcast", tag="bc")
    await queue(app, clock, ["c"], kind="relay", tag="answer")
    channel = RecordingChannel()
    w = night_aware_worker(app, channel, clock, quiet_hours_hold(SchedulerSettings(), tz))
    assert await w.drain_once() == 1
    assert [chat for chat, _ in channel.received] == ["c"]
    clock.now = datetime(2026, 11, 21, 6, 59, tzinfo=tz).astimezone(UTC)
    assert await w.drain_once() == 0
    clock.now = datetime(2026, 11, 21, 7, 0, tzinfo=tz).astimezone(UTC)
    assert await w.drain_once() == 2
    assert sorted(chat for chat, _ in channel.received) == ["a", "b", "c"]
    assert await statuses(app) == Counter({"sent": 3})


async def test_an_expired_message_is_never_sent(app, clock):
    async with app.database.transaction() as session:
        for external_id, minutes in (("late", 5), ("fresh", 60)):
            await outbox.enqueue(
                session,
                dedupe_key=f"n:{external_id}",
                kind="nudge",
                channel="telegram",
                external_id=external_id,
                messages=[Outbound("Mời bạn học tiếp")],
                now=clock(),
                expires_at=clock() + timedelta(minutes=minutes),
            )
    clock.advance(minutes=10)
    channel = RecordingChannel()
    assert await worker(app, channel, clock).drain_once() == 1
    assert [chat for chat, _ in channel.received] == ["fresh"]
    assert await statuses(app) == Counter({"sent": 1, "expired": 1})
