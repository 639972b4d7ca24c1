"""Where a person stopped: one paused screen per activity ("lesson:<id>", "visit").

A row holds the screen (name and args, as stored on the channel account) the person
last saw in that activity, so "Học tiếp" or "Ghi tiếp" puts them back on that card,
question or half-filled form even after they went elsewhere, restarted the bot or
switched messenger. Rows belong to the person: they follow a merge (/lienket) and go
with /xoadulieu.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, UTCDateTime
from storage.prepared import Prepared, dialect_of


class ResumePoint(Base):
    __tablename__ = "resume_points"
    __table_args__ = (UniqueConstraint("person_id", "slot"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    slot: Mapped[str] = mapped_column(String(48))
    screen: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"name": ..., "args": {...}}
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


_GET = select(ResumePoint).where(
    ResumePoint.person_id == bindparam("g_person"), ResumePoint.slot == bindparam("g_slot")
)


async def get(session: AsyncSession, person_id: int, slot: str) -> ResumePoint | None:
    return await session.scalar(_GET, {"g_person": person_id, "g_slot": slot})


def _upsert(insert: Any) -> Prepared:
    statement = insert(ResumePoint).values(
        person_id=bindparam("r_person"),
        slot=bindparam("r_slot"),
        screen=bindparam("r_screen"),
        saved_at=bindparam("r_at"),
    )
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=["person_id", "slot"],
            set_={"screen": statement.excluded.screen, "saved_at": statement.excluded.saved_at},
        )
    )


# Built once: the engine runs it on every step of a lesson, quiz or visit entry.
_SAVE = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


async def save(
    session: AsyncSession, person_id: int, slot: str, screen: dict[str, Any], at: datetime
) -> None:
    """Keep `screen` as the point to resume `slot` at (`saved_at`: when it was last
    shown): one INSERT .. ON CONFLICT DO UPDATE on (person, slot), as Core."""
    params = {"r_person": person_id, "r_slot": slot, "r_screen": screen, "r_at": at}
    await _SAVE[dialect_of(session)].run(session, params)


async def drop(session: AsyncSession, person_id: int, slot: str) -> None:
    await session.execute(
        delete(ResumePoint).where(ResumePoint.person_id == person_id, ResumePoint.slot == slot)
    )


async def drop_all(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(ResumePoint).where(ResumePoint.person_id == person_id))


async def move(session: AsyncSession, source_id: int, target_id: int) -> None:
    """A merge: the target keeps its own points; the source's others move over."""
    kept = set(
        await session.scalars(select(ResumePoint.slot).where(ResumePoint.person_id == target_id))
    )
    for row in list(
        await session.scalars(select(ResumePoint).where(ResumePoint.person_id == source_id))
    ):
        if row.slot in kept:
            await session.delete(row)
        else:
            row.person_id = target_id
    await session.flush()
