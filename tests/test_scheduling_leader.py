"""The scheduler lease on SQLite and PostgreSQL: one holder at a time, renewal,
take-over after expiry, hand-back on stop, and stepping down when the lease is lost or
the database cannot confirm it. Plus the scheduler worker end to end, in process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update

from bot.channels.base import SendResult
from bot.core.messages import Outbound
from bot.scheduling.leader import LeaseKeeper
from bot.scheduling.scheduler import run_scheduler
from config.settings import OutboxSettings
from storage import scheduling_repo as repo
from storage.db import Database
from storage.delivery_models import Lease
from tests.support import FakeClock, make_app
from tests.test_scheduling_helpers import (
    app,  # noqa: F401  (fixture)
    local,
    outbox,
    resident,
    sqlite_only,
)

TTL = timedelta(seconds=30)


async def holder(app) -> str | None:  # noqa: F811
    async with app.database.session() as session:
        row = await session.scalar(select(Lease))
        return row.holder if row else None


async def test_one_holder_renewal_expiry_and_hand_back(app, clock):  # noqa: F811
    a = LeaseKeeper(app.database, name="scheduler", ttl=TTL, holder="a", clock=clock)
    b = LeaseKeeper(app.database, name="scheduler", ttl=TTL, holder="b", clock=clock)
    assert await a.acquire() is True
    assert await b.acquire() is False
    clock.advance(seconds=10)
    assert await a.acquire() is True  # renewed until now + 30 s
    clock.advance(seconds=25)
    assert await b.acquire() is False  # still a's
    clock.advance(seconds=10)  # a went silent 35 s ago: expired
    assert await b.acquire() is True and await holder(app) == "b"
    assert await a.acquire() is False  # a learns it lost the lease
    await b.release()
    assert await holder(app) is None
    assert await a.acquire() is True  # free at once after a hand-back


async def test_concurrent_first_takers_get_one_lease(app, clock):  # noqa: F811
    keepers = [
        LeaseKeeper(app.database, name="scheduler", ttl=TTL, holder=f"k{n}", clock=clock)
        for n in range(5)
    ]
    results = await asyncio.gather(*(k.acquire() for k in keepers))
    assert sum(results) == 1
    async with app.database.session() as session:
        assert await repo.lease_holder(session, "scheduler", clock()) == f"k{results.index(True)}"


async def wait_for(predicate, within: float = 5.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < within, "condition not reached in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


class Leader:
    """One process's keeper, its leading work and its stop switch, in this event loop."""

    def __init__(self, database: Database, name: str, ttl: float) -> None:
        self.keeper = LeaseKeeper(
            database, name="scheduler", ttl=timedelta(seconds=ttl), holder=name
        )
        self.stop = asyncio.Event()
        self.leading = False
        self.terms = 0
        self.task = asyncio.create_task(self.keeper.lead_while_held(self.stop, self._lead))

    async def _lead(self, lost: asyncio.Event) -> None:
        self.leading = True
        self.terms += 1
        try:
            await lost.wait()
        finally:
            self.leading = False


@sqlite_only
async def test_a_crashed_leader_is_replaced_within_the_lease_time(app):  # noqa: F811
    a = Leader(app.database, "a", ttl=0.6)
    await wait_for(lambda: a.leading)
    b = Leader(app.database, "b", ttl=0.6)
    await asyncio.sleep(0.5)
    assert not b.leading  # one leader at a time

    async def crash() -> None:  # a dies without handing the lease back
        return None

    a.keeper.release = crash  # type: ignore[method-assign]
    a.stop.set()
    await a.task
    took = await wait_for(lambda: b.leading)
    assert took < 0.6 + 0.2 + 0.3  # lease time + one renewal interval + slack
    b.stop.set()
    await b.task
    assert await holder(app) is None  # b handed it back on stop


@sqlite_only
async def test_losing_the_lease_stops_the_leading_work(app):  # noqa: F811
    a = Leader(app.database, "a", ttl=0.6)
    await wait_for(lambda: a.leading)
    async with app.database.transaction() as session:  # another process took it
        await session.execute(update(Lease).values(holder="intruder"))
    await wait_for(lambda: not a.leading, within=0.2 + 0.3)
    a.stop.set()
    await a.task
    assert await holder(app) == "intruder"  # not ours to release


@sqlite_only
async def test_a_leader_cut_off_from_the_database_steps_down_before_expiry(app):  # noqa: F811
    a = Leader(app.database, "a", ttl=0.9)
    await wait_for(lambda: a.leading)
    a.keeper.database = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    stepped_down = await wait_for(lambda: not a.leading, within=1.5)
    assert stepped_down < 0.9  # before anyone else could take the expired lease
    await a.keeper.database.dispose()
    a.keeper.database = app.database
    await wait_for(lambda: a.leading)  # back once the database answers
    assert a.terms == 2
    a.stop.set()
    await a.task


class RecordingChannel:
    name = "telegram"

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []

    def routes(self):
        return []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        self.received += [(external_id, m.text) for m in messages]
        return SendResult.SENT


@sqlite_only
async def test_the_worker_leads_runs_the_jobs_and_drains_the_outbox(db_url, tmp_path, clock):
    app = await make_app(db_url, tmp_path, clock, outbox=OutboxSettings(poll_seconds=0.05))  # noqa: F811
    try:
        await _worker_journey(app, clock)
    finally:
        await app.close()


async def _worker_journey(app, clock: FakeClock) -> None:  # noqa: F811
    await resident(app, "u1")
    clock.now = local(2026, 11, 21, 19, 5)  # the service starts just after 19:00
    channel, stop = RecordingChannel(), asyncio.Event()
    worker = asyncio.create_task(run_scheduler(app, [channel], stop))
    await wait_for(lambda: channel.received)
    assert [chat for chat, _ in channel.received] == ["u1"]
    for _ in range(100):
        if (await outbox(app, "nudge"))[0].status == "sent":
            break
        await asyncio.sleep(0.02)
    assert (await outbox(app, "nudge"))[0].status == "sent"
    assert (await holder(app)) is not None
    stop.set()
    await asyncio.wait_for(worker, 5)
    assert await holder(app) is None
