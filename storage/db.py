"""Engine, sessions and migrations.

The caller owns the unit of work: `async with database.session() as s, s.begin(): ...`.
Repositories never commit.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import storage.schema  # noqa: F401  (every table registered before use)
from storage.sqlite_onehop import use_one_hop_cursors

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_compact_json = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


_POOLS = itertools.count(1)


class Database:
    """One async engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # Names this connection pool in process-wide caches: two pools on one URL (a
        # database dropped and made again) never share cached figures.
        self.cache_token = next(_POOLS)
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: SQL errors must not quote values (names) into the logs.
        kwargs: dict[str, Any] = {
            "echo": echo,
            "hide_parameters": True,
            # Screens and replies as UTF-8, not \uXXXX escapes: Vietnamese text stored
            # with every step is about half the bytes to encode and write.
            "json_serializer": _compact_json,
        }
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            if parsed.get_driver_name() == "aiosqlite":  # before the pragmas use a cursor
                event.listen(self.engine.sync_engine, "connect", use_one_hop_cursors)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Queuing our own transactions in order is far
        # kinder to tail latency than letting them collide and sleep in busy_timeout.
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any error."""
        if self._sqlite_writer is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._sqlite_writer, self.sessions() as session, session.begin():
            yield session

    async def migrate(
        self, core_lessons: Sequence[str] | None = None, *, in_child: bool = False
    ) -> None:
        """Bring the schema to the newest Alembic revision. `core_lessons`: the basic
        programme of the content the app runs with (the shipped content when None).

        A schema already at the newest revision is seen without loading Alembic, which
        with Mako holds 12 MB for the life of the process. `in_child` (the service):
        an upgrade runs in a short-lived child process for the same reason; if the
        child fails, the upgrade runs here, so its error is reported as always."""
        if await self.at_head():
            return
        if in_child and await _upgrade_in_child(self.url, core_lessons):
            return
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_head, core_lessons)

    async def at_head(self) -> bool:
        """Is the schema at the newest revision (read without Alembic)?"""
        try:
            async with self.engine.connect() as connection:
                found = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:  # no table yet (a new database): not at head
            return False
        return found == HEAD_REVISION

    async def dispose(self) -> None:
        await self.engine.dispose()


def _head_revision() -> str:
    """The newest revision: migrations are numbered, and each file starts with its id."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("0*.py"))


HEAD_REVISION = _head_revision()


async def _upgrade_in_child(url: str, core_lessons: Sequence[str] | None) -> bool:
    """Run the upgrade in a child Python process; True when it succeeded."""
    lessons = json.dumps(None if core_lessons is None else list(core_lessons))
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "storage.db", url, lessons,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await child.wait() == 0


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade_head(connection: Any, core_lessons: Sequence[str] | None = None) -> None:
    if connection.dialect.name == "postgresql":
        # Processes starting together on a new database must not race the migration.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(734211)")
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    if core_lessons is not None:  # data migrations that need the curriculum (0007)
        config.attributes["core_lessons"] = list(core_lessons)
    command.upgrade(config, "head")


def run_migrations(url: str) -> None:
    """Synchronous entry point for the CLI."""

    async def _go() -> None:
        database = Database(url)
        try:
            await database.migrate()
        finally:
            await database.dispose()

    asyncio.run(_go())


if __name__ == "__main__":  # the service's child process: `python -m storage.db URL LESSONS`
    async def _child(url: str, lessons: list[str] | None) -> None:
        database = Database(url)
        try:
            await database.migrate(lessons)
        finally:
            await database.dispose()

    asyncio.run(_child(sys.argv[1], json.loads(sys.argv[2])))
