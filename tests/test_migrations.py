"""Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database
from storage.schema import metadata


async def test_migrations_from_empty_match_the_models(db_url):
    database = Database(db_url)
    try:
        await database.migrate()
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        assert diff == []
        await database.migrate()  # running again is a no-op
    finally:
        await database.dispose()


async def test_processes_starting_together_sync_the_commune_once(db_url):
    """Several service processes (web workers, scheduler) start at once on one database:
    none may crash on the commune registry, and the commune is written once."""
    from sqlalchemy import func, select

    from config.commune import load_commune_file
    from config.settings import Settings
    from storage.models import Commune, Team, Village
    from storage.registry import sync_commune_at_start

    commune_file = load_commune_file(Settings().commune_file)
    first = Database(db_url)
    await first.migrate()
    processes = [Database(db_url) for _ in range(4)]  # one engine each, like processes
    try:
        communes = await asyncio.gather(
            *(sync_commune_at_start(database, commune_file) for database in processes)
        )
        assert len({commune.id for commune in communes}) == 1
        async with first.session() as session:
            for table, expected in (
                (Commune, 1),
                (Village, len(commune_file.villages)),
                (Team, len(commune_file.teams)),
            ):
                assert await session.scalar(select(func.count()).select_from(table)) == expected
    finally:
        for database in (first, *processes):
            await database.dispose()
