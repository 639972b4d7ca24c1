"""Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

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


async def test_upgrading_keeps_households_reached_by_their_residents(db_url):
    """0005 moves "reached by a registered resident" onto the household: the backfill
    takes the earliest registration among the residents linked at upgrade time."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from storage.db import alembic_config

    def upgrade_to(revision: str):  # noqa: ANN202
        def run(connection) -> None:  # noqa: ANN001
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        return run

    early, late = datetime(2026, 1, 5, 3, tzinfo=UTC), datetime(2026, 3, 1, 3, tzinfo=UTC)
    database = Database(db_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(upgrade_to("0004"))
        async with database.engine.begin() as conn:
            commune = (
                await conn.execute(
                    text(
                        "INSERT INTO communes (code, name, unit_label, launch_date) "
                        "VALUES ('x', 'Xã X', 'thôn', '2025-10-10') RETURNING id"
                    )
                )
            ).scalar_one()
            village = (
                await conn.execute(
                    text(
                        "INSERT INTO villages (commune_id, code, name, households_total,"
                        " position, active) VALUES (:c, 'T01', 'Thôn 1', 10, 0, true)"
                        " RETURNING id"
                    ),
                    {"c": commune},
                )
            ).scalar_one()
            homes = [
                (
                    await conn.execute(
                        text(
                            "INSERT INTO households (village_id, code, created_at)"
                            " VALUES (:v, :code, :at) RETURNING id"
                        ),
                        {"v": village, "code": code, "at": early},
                    )
                ).scalar_one()
                for code in ("H1", "H2")
            ]
            for registered in (late, early):  # two residents of H1
                person = (
                    await conn.execute(
                        text(
                            "INSERT INTO people (commune_id, household_id, created_at)"
                            " VALUES (:c, :h, :at) RETURNING id"
                        ),
                        {"c": commune, "h": homes[0], "at": registered},
                    )
                ).scalar_one()
                await conn.execute(
                    text(
                        "INSERT INTO participation_events (occurred_at, kind, person_id,"
                        " commune_id, channel) VALUES (:at, 'registered', :p, :c, 'zalo')"
                    ),
                    {"at": registered, "p": person, "c": commune},
                )
        await database.migrate()
        async with database.session() as session:
            from storage.team_models import Household

            reached = {
                h.code: h.resident_reached_at for h in await session.scalars(select(Household))
            }
        assert reached == {"H1": early, "H2": None}
    finally:
        await database.dispose()


async def test_upgrading_gives_existing_households_random_resident_codes(db_url):
    """0008: households listed before the upgrade get their own random code to hand out."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from storage.db import alembic_config
    from storage.team_models import RESIDENT_CODE_ALPHABET, Household

    def upgrade_to(connection) -> None:  # noqa: ANN001
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")

    database = Database(db_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(upgrade_to)
        async with database.engine.begin() as conn:
            commune = (
                await conn.execute(
                    text(
                        "INSERT INTO communes (code, name, unit_label, launch_date) "
                        "VALUES ('x', 'Xã X', 'thôn', '2025-10-10') RETURNING id"
                    )
                )
            ).scalar_one()
            village = (
                await conn.execute(
                    text(
                        "INSERT INTO villages (commune_id, code, name, households_total,"
                        " position, active) VALUES (:c, 'T01', 'Thôn 1', 10, 0, true)"
                        " RETURNING id"
                    ),
                    {"c": commune},
                )
            ).scalar_one()
            for n in range(1, 6):
                await conn.execute(
                    text(
                        "INSERT INTO households (village_id, code, created_at)"
                        " VALUES (:v, :code, :at)"
                    ),
                    {"v": village, "code": f"H{n:03d}", "at": datetime(2026, 1, 5, tzinfo=UTC)},
                )
        await database.migrate()
        async with database.session() as session:
            codes = [h.resident_code for h in await session.scalars(select(Household))]
        assert len(codes) == 5 and len(set(codes)) == 5
        assert all(len(c) == 6 and set(c) <= set(RESIDENT_CODE_ALPHABET) for c in codes)
    finally:
        await database.dispose()


async def test_upgrading_records_the_basic_programme_where_it_was_completed(db_url):
    """0007 backfills `programme_completed` from the core set given at upgrade: one event
    per person (linked accounts together), at the pass that covered the set, with that
    pass's account, village and channel."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from storage.db import alembic_config
    from storage.models import ParticipationEvent

    def upgrade_to_0006(connection) -> None:  # noqa: ANN001
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")

    def at(day: int) -> datetime:
        return datetime(2026, 3, day, 3, tzinfo=UTC)

    database = Database(db_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(upgrade_to_0006)
            commune = (
                await conn.execute(
                    text(
                        "INSERT INTO communes (code, name, unit_label, launch_date) "
                        "VALUES ('x', 'Xã X', 'thôn', '2025-10-10') RETURNING id"
                    )
                )
            ).scalar_one()
            village = (
                await conn.execute(
                    text(
                        "INSERT INTO villages (commune_id, code, name, households_total,"
                        " position, active) VALUES (:c, 'T01', 'Thôn 1', 10, 0, true)"
                        " RETURNING id"
                    ),
                    {"c": commune},
                )
            ).scalar_one()

            async def person(merged_into: int | None = None) -> int:
                return (
                    await conn.execute(
                        text(
                            "INSERT INTO people (commune_id, merged_into_person_id, created_at)"
                            " VALUES (:c, :m, :at) RETURNING id"
                        ),
                        {"c": commune, "m": merged_into, "at": at(1)},
                    )
                ).scalar_one()

            lan = await person()
            lan_zalo = await person(merged_into=lan)  # her second messenger, linked
            binh = await person()
            passes = [
                (lan, "a", at(2), None, "telegram"),
                (lan, "a", at(3), None, "telegram"),  # a retake
                (lan_zalo, "c", at(4), village, "zalo"),  # not core
                (lan_zalo, "b", at(5), village, "zalo"),  # completes a + b
                (binh, "b", at(6), village, "zalo"),  # never passes a
            ]
            for pid, lesson, when, where, channel in passes:
                await conn.execute(
                    text(
                        "INSERT INTO participation_events (occurred_at, kind, person_id,"
                        " commune_id, village_id, channel, lesson_id)"
                        " VALUES (:at, 'quiz_passed', :p, :c, :v, :ch, :l)"
                    ),
                    {"at": when, "p": pid, "c": commune, "v": where, "ch": channel, "l": lesson},
                )
        await database.migrate(core_lessons=["a", "b"])
        async with database.session() as session:
            rows = list(
                await session.scalars(
                    select(ParticipationEvent).where(
                        ParticipationEvent.kind == "programme_completed"
                    )
                )
            )
        assert [
            (r.person_id, r.occurred_at, r.village_id, r.channel, r.lesson_id) for r in rows
        ] == [(lan_zalo, at(5), village, "zalo", "b")]
    finally:
        await database.dispose()
