"""SQLite statements in one thread round trip instead of three or four.

aiosqlite runs each sqlite3 call on its own thread and SQLAlchemy's adapter makes
four such calls per SELECT (open a cursor, execute, fetch all, close) and three per
INSERT or UPDATE. Every call is a hand-over to that thread and back, which costs more
than most of our statements themselves: a step of the engine spent most of its time
there (bench/engine.py under cProfile). This cursor does the whole statement in one
call on the same thread, so the blocking stays off the event loop as before; rows,
description, rowcount and lastrowid are read there and kept. Commit and rollback
skip the hand-over when no transaction is open (the pool rolls back every connection
it takes back, after a commit too).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable
from typing import Any

import aiosqlite

_Result = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, many: bool, sql: str, parameters: Any) -> _Result:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        # After the fetch: an INSERT .. RETURNING counts its rows as they are read.
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy's adapter uses."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows.clear()

    async def _go(self, many: bool, sql: str, parameters: Any) -> OneHopCursor:
        connection = self._connection
        result = await connection._execute(_run, connection._conn, many, sql, parameters)
        self.description, rows, self.rowcount, self.lastrowid = result
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneHopCursor:
        return await self._go(False, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        return await self._go(True, sql, parameters)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class OneHopConnection(aiosqlite.Connection):
    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    def _idle(self) -> bool:
        """No transaction open: commit and rollback would do nothing. Read between
        statements (SQLAlchemy runs one at a time per connection), so the thread is
        not using the connection; a connection tied to its thread cannot tell."""
        try:
            return not self._conn.in_transaction
        except sqlite3.ProgrammingError:
            return False

    async def commit(self) -> None:  # a step that only read
        if not self._idle():
            await super().commit()

    async def rollback(self) -> None:  # the pool's reset after every commit
        if not self._idle():
            await super().rollback()


def use_one_hop_cursors(dbapi_connection: Any, _record: Any) -> None:
    """`connect` event of an aiosqlite engine: give the new connection these cursors."""
    driver = dbapi_connection.driver_connection
    if type(driver) is aiosqlite.Connection:
        driver.__class__ = OneHopConnection
