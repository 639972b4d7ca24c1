"""Hot-path writes compiled once and, on SQLite, run straight on the driver.

Every step of the engine runs the same few Core writes (claim the update key, store
its reply, keep the resume point, advance a card). Through SQLAlchemy each costs a
cache lookup, an execution context, a result object and two greenlet switches: more
CPU than SQLite takes to run it (bench/engine.py under cProfile). On aiosqlite with
one-hop cursors (`storage/sqlite_onehop.py`) a `Prepared` statement is compiled once
to its SQL and bind processors (the same ones SQLAlchemy would apply: UTC datetimes,
JSON) and run on the step's own DBAPI connection, inside the step's transaction, in
one hand-over to the driver's thread. Driver errors come back wrapped as SQLAlchemy's
(IntegrityError, OperationalError...), so callers and `storage/outage.py` see the
same exceptions either way. Elsewhere (PostgreSQL) it is an ordinary
`connection.execute`.

`executed` counts the statements run the direct way, for bench/engine.py (they do not
pass through SQLAlchemy's cursor events).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from storage.sqlite_onehop import OneHopConnection

executed = 0  # statements run straight on the driver (see the module notes)


def dialect_of(session: AsyncSession) -> str:
    """ "postgresql" or "sqlite": which of a pair of dialect-specific statements to run."""
    bind = session.bind
    return "postgresql" if bind is not None and bind.dialect.name == "postgresql" else "sqlite"


class Prepared:
    """A Core DML statement with named bind parameters, compiled once (for SQLite)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sqlite: tuple[str, tuple[tuple[str, Any, Any], ...]] | None = None

    def _compiled_for(self, dialect: Dialect) -> tuple[str, tuple[tuple[str, Any, Any], ...]]:
        """The SQL and, in order, each parameter's name, bind processor (what SQLAlchemy
        applies itself) and value when the statement fixes it (`.values(active=True)`)."""
        if self._sqlite is None:
            compiled = self.statement.compile(dialect=dialect)
            processors = compiled._bind_processors
            fixed = compiled.construct_params(_check=False)
            order = compiled.positiontup or []
            binds = tuple((key, processors.get(key), fixed.get(key)) for key in order)
            self._sqlite = (compiled.string, binds)
        return self._sqlite

    async def run(self, session: AsyncSession, params: Mapping[str, Any]) -> int:
        """Execute in the session's transaction; the number of rows it touched. Rows
        added to the session and not yet flushed are flushed first (they may be what
        this statement refers to); changed ones are not (they flush at commit)."""
        if session.new:
            await session.flush()
        # The DBAPI connection under the session's transaction, asked each time: a
        # session may hold another connection in its next transaction.
        connection = _open_connection(session) or (await session.connection()).sync_connection
        driver = connection.connection.driver_connection
        if not isinstance(driver, OneHopConnection):
            result = await (await session.connection()).execute(self.statement, dict(params))
            return int(result.rowcount)
        sql, binds = self._compiled_for(connection.dialect)
        values = []
        for key, process, fixed in binds:
            value = params.get(key, fixed)
            values.append(value if process is None else process(value))
        global executed
        executed += 1
        try:
            cursor = driver.cursor()
            await cursor.execute(sql, values)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                sql, values, exc, sqlite3.Error, hide_parameters=True, dialect=connection.dialect
            ) from exc
        return int(cursor.rowcount)


def _open_connection(session: AsyncSession) -> Connection | None:
    """The connection the session's transaction already holds, without the greenlet
    round trip of `session.connection()` (which is needed only to open one)."""
    transaction = session.sync_session.get_transaction()
    if transaction is None or not transaction.is_active:
        return None
    held = getattr(transaction, "_connections", None)
    if not held or len(held) != 1:
        return None
    connection = next(iter(held.values()))[0]
    return connection if isinstance(connection, Connection) else None
