"""A database that cannot record steps for a while (PostgreSQL cut at the network, a
read-only SQLite file): the webhook answers 5xx, Telegram delivers again, and once
the database is back every step is recorded exactly once and every resident answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.core.messages import Inbound, Kind
from config.settings import FairUseSettings
from storage.db import Database
from storage.models import ChannelAccount, ParticipationEvent, ProcessedUpdate
from tests.conftest import _reset_pg, pg_url
from tests.crowd import Crowd, WallClock
from tests.fakes.tcp_proxy import TcpProxy
from tests.support import make_app
from tests.test_telegram_e2e import first_lesson, running

RESIDENTS = 50
FIRST = 7_700_001


async def count(app, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def walk_through_an_outage(bot, crowd: Crowd, break_it, mend_it) -> None:
    """50 residents start a lesson; when a third of their steps are in, the database
    breaks for 2 s, then comes back."""
    lesson = first_lesson(bot.app)
    total = RESIDENTS * crowd.steps_per_lesson(lesson)
    residents = [
        asyncio.create_task(crowd.lesson(FIRST + n, lesson, think=0.05)) for n in range(RESIDENTS)
    ]
    while len(crowd.latencies) < total // 3:  # noqa: ASYNC110  (a plain progress count)
        await asyncio.sleep(0.01)
    await break_it()
    await asyncio.sleep(2.0)
    await mend_it()
    await asyncio.gather(*residents)


async def assert_each_step_once(bot, crowd: Crowd) -> None:
    lesson = first_lesson(bot.app)
    steps = crowd.steps_per_lesson(lesson)
    assert crowd.redeliveries > 0, "the outage refused nothing: it did not happen"
    assert await count(bot.app, ProcessedUpdate) == RESIDENTS * steps
    assert await count(bot.app, ChannelAccount) == RESIDENTS
    async with bot.app.database.session() as session:
        rows = (await session.execute(select(ParticipationEvent.kind))).scalars().all()
    kinds = Counter(rows)
    assert kinds["registered"] == kinds["consented"] == kinds["lesson_started"] == RESIDENTS
    assert kinds["lesson_completed"] == RESIDENTS
    # Every resident saw the same conversation: nothing missing, nothing twice.
    t = bot.texts
    first = bot.fake.texts(FIRST)
    assert f"({len(lesson.cards)}/{len(lesson.cards)})" in first[-1]  # the last card
    for n in range(RESIDENTS):
        seen = bot.fake.texts(FIRST + n)
        assert seen == first, f"resident {n} saw a different conversation"
        assert t("common.db_down") not in seen  # Telegram redelivers: no apology needed
    bot.fake.assert_no_violations()


@pytest.mark.slow
async def test_postgresql_cut_mid_lesson_loses_and_doubles_nothing(
    tmp_path: Path, clock, caplog
) -> None:
    url = await pg_url()
    await _reset_pg(url)
    target = make_url(url)
    async with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        through = target.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        wall = WallClock(clock.now)
        async with running(through, tmp_path, wall, "webhook", rate_limits=False) as bot:
            crowd = Crowd(bot.fake, bot.texts)
            caplog.set_level(logging.WARNING)

            async def cut() -> None:
                proxy.cut()

            async def restore() -> None:
                proxy.restore()

            await walk_through_an_outage(bot, crowd, cut, restore)
            await assert_each_step_once(bot, crowd)
            print(f"\nPostgreSQL cut 2 s: {crowd.redeliveries} redeliveries, {crowd.statuses}")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def test_read_only_sqlite_refuses_then_records_each_step_once(
    sqlite_url: str, tmp_path: Path, clock, caplog
) -> None:
    wall = WallClock(clock.now)
    async with running(sqlite_url, tmp_path, wall, "webhook", rate_limits=False) as bot:
        crowd = Crowd(bot.fake, bot.texts)
        engine = bot.app.engine
        healthy = engine.database
        path = make_url(sqlite_url).database
        read_only = Database(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
        caplog.set_level(logging.WARNING)

        async def freeze() -> None:  # as a file system remounted read-only would
            engine.database = read_only

        async def thaw() -> None:
            engine.database = healthy
            await read_only.engine.dispose()

        await walk_through_an_outage(bot, crowd, freeze, thaw)
        await assert_each_step_once(bot, crowd)
        print(f"\nSQLite read-only 2 s: {crowd.redeliveries} redeliveries, {crowd.statuses}")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and all("Traceback" not in w for w in warnings)


async def test_where_nothing_redelivers_the_resident_is_told_once(
    sqlite_url: str, tmp_path: Path, clock
) -> None:
    """The console (and Zalo polling) cannot have a step sent again: the apology is
    the reply, and the step is simply not recorded."""
    app = await make_app(sqlite_url, tmp_path, clock, fair_use=FairUseSettings())
    try:
        healthy = app.engine.database
        app.engine.database = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
        reply = await app.engine.handle(Inbound("console", "u1", Kind.START, update_key="k1"))
        assert reply.retry
        assert [m.text for m in reply.messages] == [app.engine.services.texts("common.db_down")]
        await app.engine.database.dispose()
        app.engine.database = healthy
        reply = await app.engine.handle(Inbound("console", "u1", Kind.START, update_key="k1"))
        assert not reply.retry and not reply.duplicate and reply.messages
        assert await count(app, ProcessedUpdate) == 1
    finally:
        await app.close()


BROKEN = "postgresql+asyncpg://nobody@127.0.0.1:9/none"  # nothing listens: refused at once


async def test_telegram_polling_keeps_its_offset_until_the_step_is_recorded(
    db_url: str, tmp_path: Path, clock, monkeypatch
) -> None:
    from bot.channels.telegram import channel as telegram_channel
    from tests.test_telegram_e2e import CHAT, until

    monkeypatch.setattr(telegram_channel, "BACKOFF_INITIAL", 0.05)
    async with running(db_url, tmp_path, clock, "polling") as bot:
        engine = bot.app.engine
        healthy, engine.database = engine.database, Database(BROKEN)
        asked = len(bot.fake.calls_to("getUpdates"))
        update = bot.fake.feed(bot.fake.message_update(CHAT, "/start"))
        await until(lambda: len(bot.fake.calls_to("getUpdates")) >= asked + 3)
        assert update["update_id"] in [u["update_id"] for u in bot.fake.pending_updates]
        assert bot.fake.sent_messages(CHAT) == []  # no apology: Telegram hands it back

        await engine.database.dispose()
        engine.database = healthy
        await until(lambda: bool(bot.fake.sent_messages(CHAT)))
        await until(lambda: not bot.fake.pending_updates)
        assert await count(bot.app, ProcessedUpdate) == 1
        assert sum(bot.texts("consent.welcome") in t for t in bot.fake.texts(CHAT)) == 1
        bot.fake.assert_no_violations()


async def test_zalo_webhook_answers_503_then_records_the_redelivery_once(
    db_url: str, tmp_path: Path
) -> None:
    from tests.fakes.zalo_api import FakeZaloAPI
    from tests.test_zalo_e2e import run_zalo

    async with FakeZaloAPI(long_poll_cap=0.2) as api:
        served, close = await run_zalo(api, db_url, tmp_path, "webhook")
        try:
            engine = served.app.engine
            healthy, engine.database = engine.database, Database(BROKEN)
            update = api.build_update("xin chào", user_id="zu-9", message_id="m-outage")
            status, _ = await api.deliver(update)
            assert status == 503 and api.sent_texts("zu-9") == []
            await engine.database.dispose()
            engine.database = healthy
            status, _ = await api.deliver(update)  # delivered again
            assert status == 200
            await served.channel.intake.drain(5)
            assert len(api.sent_texts("zu-9")) >= 1
            assert served.app.engine.services.texts("common.db_down") not in api.sent_texts("zu-9")
            status, _ = await api.deliver(update)  # and once more: a duplicate
            assert status == 200
            assert await count(served.app, ProcessedUpdate) == 1
        finally:
            await close()


async def test_zalo_polling_cannot_redeliver_so_the_resident_is_told_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tests.fakes.zalo_api import FakeZaloAPI
    from tests.test_zalo_e2e import run_zalo, until

    async with FakeZaloAPI(long_poll_cap=0.2) as api:
        served, close = await run_zalo(api, sqlite_url, tmp_path, "polling")
        try:
            engine = served.app.engine
            healthy, engine.database = engine.database, Database(BROKEN)
            api.feed_raw(api.build_update("xin chào", user_id="zu-8", message_id="m-poll"))
            await until(lambda: bool(api.sent_texts("zu-8")))
            await served.channel.intake.drain(5)
            assert api.sent_texts("zu-8") == [engine.services.texts("common.db_down")]
            await engine.database.dispose()
            engine.database = healthy
            assert await count(served.app, ProcessedUpdate) == 0
        finally:
            await close()
