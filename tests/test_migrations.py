"""Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

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
