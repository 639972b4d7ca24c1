"""A database briefly down: the resident gets a polite answer, nothing half-done is kept,
and the conversation carries on when the database is back."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Person
from tests.support import Chat, make_app


async def test_database_down_gets_a_polite_answer_and_loses_nothing(sqlite_url, tmp_path, clock):
    app = await make_app(sqlite_url, tmp_path, clock)
    try:
        chat = Chat(app)
        await chat.start()
        healthy = app.engine.database
        # Nothing listens on port 9: every connection attempt fails at once.
        app.engine.database = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
        reply = await chat.choose("agree")
        assert len(reply.messages) == 1
        assert "bận" in reply.messages[0].text and "Traceback" not in reply.messages[0].text
        await app.engine.database.dispose()
        app.engine.database = healthy
        async with app.database.session() as session:
            assert await session.scalar(select(func.count()).select_from(Person)) == 0
        # The same press, once the database is back, goes through.
        await chat.choose("agree")
        async with app.database.session() as session:
            assert await session.scalar(select(func.count()).select_from(Person)) == 1
    finally:
        await app.close()


async def test_unexpected_error_in_a_screen_never_reaches_the_resident(
    sqlite_url, tmp_path, clock, monkeypatch
):
    app = await make_app(sqlite_url, tmp_path, clock)
    try:
        chat = Chat(app)
        await chat.onboard()
        screens = app.engine.screens

        async def broken(ctx, args):
            raise RuntimeError("bug")

        monkeypatch.setattr(screens["catalogue"], "render", broken)
        reply = await chat.choose("catalogue")
        assert reply.messages and "Traceback" not in reply.messages[-1].text
        assert "lỗi" in reply.messages[-1].text
    finally:
        await app.close()


async def test_two_first_messages_at_once_both_get_an_answer(db_url, tmp_path, clock):
    """A new resident taps twice quickly: both updates race to create the account. The
    loser must not be mistaken for a duplicate (silence) nor fail (an apology)."""
    import asyncio

    from bot.core.messages import Inbound, Kind
    from storage.models import ChannelAccount

    app = await make_app(db_url, tmp_path, clock)
    try:
        texts = app.engine.services.texts

        async def at_once(user: str):  # noqa: ANN202
            return await asyncio.gather(
                *(
                    app.engine.handle(Inbound("telegram", user, Kind.TEXT, text=t, update_key=k))
                    for t, k in (("/start", f"{user}:1"), ("xin chào", f"{user}:2"))
                )
            )

        await at_once("warm-up")  # the pool now holds two connections, as in service
        replies = await at_once("new-1")
        for reply in replies:
            assert reply.messages and not reply.duplicate
            assert all(texts("common.error") != m.text for m in reply.messages)
        async with app.database.session() as session:
            accounts = await session.scalar(
                select(func.count()).where(ChannelAccount.external_id == "new-1")
            )
        assert accounts == 1
    finally:
        await app.close()
