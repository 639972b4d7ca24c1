"""SQLite through one thread hand-over per statement (storage/sqlite_onehop.py): the
results SQLAlchemy reads are the driver's own, and transactions still commit and roll
back."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.sqlite_onehop import OneHopConnection


@pytest.fixture
async def database(sqlite_url):
    db = Database(sqlite_url)
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield db
    await db.dispose()


async def test_rows_counts_and_ids_are_the_drivers(database) -> None:
    async with database.engine.begin() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneHopConnection)
        inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert inserted.lastrowid == 1
        many = await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])
        assert many.rowcount == 2
        returned = await conn.execute(text("INSERT INTO t (v) VALUES ('d') RETURNING id, v"))
        assert returned.all() == [(4, "d")]
        updated = await conn.execute(text("UPDATE t SET v = 'x' WHERE id > 2"))
        assert updated.rowcount == 2
        none = await conn.execute(text("UPDATE t SET v = 'y' WHERE id > 99"))
        assert none.rowcount == 0
        rows = await conn.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert rows.first() == (1, "a")  # the rest stay readable one by one
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 4


async def test_a_failed_transaction_leaves_nothing(database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t (v) VALUES ('gone')"))
            raise RuntimeError
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    async with database.session() as session:
        assert list(await session.scalars(text("SELECT v FROM t"))) == ["kept"]


async def test_an_sql_error_is_the_drivers(database) -> None:
    from sqlalchemy.exc import IntegrityError

    async with database.transaction() as session:
        await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'b')"))
