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
