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

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, UTCDateTime


class ResumePoint(Base):
    __tablename__ = "resume_points"
    __table_args__ = (UniqueConstraint("person_id", "slot"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    slot: Mapped[str] = mapped_column(String(48))
    screen: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"name": ..., "args": {...}}
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


async def get(session: AsyncSession, person_id: int, slot: str) -> ResumePoint | None:
    return await session.scalar(
        select(ResumePoint).where(ResumePoint.person_id == person_id, ResumePoint.slot == slot)
    )


# Built once: the engine runs it on every step of a lesson, quiz or visit entry.
_SAVE = (
    update(ResumePoint)
    .where(ResumePoint.person_id == bindparam("r_person"), ResumePoint.slot == bindparam("r_slot"))
    .values(screen=bindparam("r_screen"), saved_at=bindparam("r_at"))
)


async def save(
    session: AsyncSession, person_id: int, slot: str, screen: dict[str, Any], at: datetime
) -> None:
    """Keep `screen` as the point to resume `slot` at: one UPDATE on every step of an
    activity but its first (`saved_at`: when it was last shown)."""
    params = {"r_person": person_id, "r_slot": slot, "r_screen": screen, "r_at": at}
    updated = await session.execute(_SAVE, params)
    if updated.rowcount == 0:
        session.add(ResumePoint(person_id=person_id, slot=slot, screen=screen, saved_at=at))


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
