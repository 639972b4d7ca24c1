"""Keeps the communes, villages and teams in the database in step with the commune file."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.commune import CommuneFile
from storage.db import Database
from storage.models import Commune, Team, Village

SYNC_LOCK_KEY = 734212  # PostgreSQL advisory lock: one sync at a time across processes


async def sync_commune_at_start(database: Database, data: CommuneFile) -> Commune:
    """`sync_commune` in its own transaction, safe when several processes start together.

    On PostgreSQL an advisory lock queues the processes. SQLite takes its write lock only
    at the first INSERT, so two processes may both find the commune missing; the loser
    gets an IntegrityError and simply retries, finding the winner's rows.
    """
    for retries_left in (2, 1, 0):
        try:
            async with database.transaction() as session:
                if not database.is_sqlite:
                    await session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYNC_LOCK_KEY}
                    )
                return await sync_commune(session, data)
        except IntegrityError:
            if not retries_left:
                raise
    raise RuntimeError("unreachable: the last attempt returns or raises")


async def sync_commune(session: AsyncSession, data: CommuneFile) -> Commune:
    """Insert or update by code. The file is authoritative for the villages it lists
    (`active: false` closes one; villages are never deleted because past events refer
    to them). Villages added by `hocvuso import villages` are left as they are."""
    info = data.commune
    commune = await session.scalar(select(Commune).where(Commune.code == info.code))
    if commune is None:
        commune = Commune(code=info.code)
        session.add(commune)
    commune.name = info.name
    commune.unit_label = info.unit_label
    commune.launch_date = info.launch_date
    await session.flush()

    existing = {
        v.code: v
        for v in await session.scalars(select(Village).where(Village.commune_id == commune.id))
    }
    for position, item in enumerate(data.villages):
        village = existing.pop(item.code, None)
        if village is None:
            village = Village(commune_id=commune.id, code=item.code)
            session.add(village)
        village.name = item.name
        village.households_total = item.households
        village.position = position
        village.active = item.active
    await session.flush()

    village_ids = {
        v.code: v.id
        for v in await session.scalars(select(Village).where(Village.commune_id == commune.id))
    }
    teams = {
        t.code: t for t in await session.scalars(select(Team).where(Team.commune_id == commune.id))
    }
    for item in data.teams:
        team = teams.get(item.code)
        if team is None:
            team = Team(commune_id=commune.id, code=item.code)
            session.add(team)
        team.name = item.name
        team.village_id = village_ids[item.village]
    await session.flush()
    return commune
