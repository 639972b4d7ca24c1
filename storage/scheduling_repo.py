"""Queries for the scheduler: who is due a nudge or a digest, weekly and monthly counts,
and the lease that keeps one scheduler among many processes.

Portable SQL only (SQLite and PostgreSQL). Helpers flush when needed, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.delivery_models import Lease, OutboxMessage, ReminderState
from storage.models import (
    ChannelAccount,
    ConsentRecord,
    LessonProgress,
    Person,
    Team,
    Village,
)
from storage.team_models import StaffRole
from storage.team_repo import deliverable_channels

TEAM_ROLES = ("member", "leader")


# --- nudges ------------------------------------------------------------------


async def due_for_nudge(
    session: AsyncSession,
    *,
    commune_id: int,
    hour: int,
    default_hour: int,
    day: date,
    seen_since: datetime,
) -> list[int]:
    """Ids of residents due the `hour` nudge of local `day`: consented, not deleted or
    merged, reminders on, none sent that day, a messenger account that has not blocked
    us, and not seen since `seen_since` (they have already been learning today)."""
    account = ChannelAccount
    agreed = exists().where(ConsentRecord.person_id == Person.id, ConsentRecord.answer == "agreed")
    withdrawn = exists().where(
        ConsentRecord.person_id == Person.id, ConsentRecord.answer == "withdrawn"
    )
    reachable = exists().where(
        account.person_id == Person.id,
        account.active.is_(True),
        account.channel.in_(deliverable_channels()),
    )
    seen_today = exists().where(account.person_id == Person.id, account.last_seen_at >= seen_since)
    query = (
        select(Person.id)
        .outerjoin(ReminderState, ReminderState.person_id == Person.id)
        .where(
            Person.commune_id == commune_id,
            Person.deleted_at.is_(None),
            Person.merged_into_person_id.is_(None),
            or_(ReminderState.enabled.is_(None), ReminderState.enabled.is_(True)),
            func.coalesce(ReminderState.hour, default_hour) == hour,
            or_(ReminderState.last_sent_on.is_(None), ReminderState.last_sent_on < day),
            agreed,
            ~withdrawn,
            reachable,
            ~seen_today,
        )
        .order_by(Person.id)
    )
    return list(await session.scalars(query))


async def people(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Person]:
    rows = await session.scalars(select(Person).where(Person.id.in_(list(person_ids))))
    return {row.id: row for row in rows}


async def reachable_accounts(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, ChannelAccount]:
    """Each person's most recently used messenger account that has not blocked us."""
    rows = await session.scalars(
        select(ChannelAccount)
        .where(
            ChannelAccount.person_id.in_(list(person_ids)),
            ChannelAccount.active.is_(True),
            ChannelAccount.channel.in_(deliverable_channels()),
        )
        .order_by(ChannelAccount.last_seen_at, ChannelAccount.id)
    )
    return {row.person_id: row for row in rows if row.person_id is not None}  # newest wins


async def progress_of(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, dict[str, LessonProgress]]:
    result: dict[int, dict[str, LessonProgress]] = {pid: {} for pid in person_ids}
    rows = await session.scalars(
        select(LessonProgress).where(LessonProgress.person_id.in_(list(person_ids)))
    )
    for row in rows:
        result[row.person_id][row.lesson_id] = row
    return result


async def reminder_state(session: AsyncSession, person_id: int) -> ReminderState:
    """The person's reminder row, created with defaults (on, default hour) if missing."""
    state = await session.get(ReminderState, person_id)
    if state is None:
        state = ReminderState(person_id=person_id, enabled=True, hour=None, last_sent_on=None)
        session.add(state)
        await session.flush()
    return state


async def find_reminder_state(session: AsyncSession, person_id: int) -> ReminderState | None:
    return await session.get(ReminderState, person_id)


async def set_screen_if_idle(
    session: AsyncSession, account_id: int, seen_at: datetime, screen: dict[str, Any]
) -> bool:
    """Store a screen unless the resident wrote in the meantime (their update moves
    `last_seen_at`): a conversation in progress is never overwritten."""
    result = await session.execute(
        update(ChannelAccount)
        .where(ChannelAccount.id == account_id, ChannelAccount.last_seen_at == seen_at)
        .values(screen=screen)
    )
    return result.rowcount == 1


async def queued(session: AsyncSession, dedupe_key: str) -> bool:
    """Whether a message with this dedupe key is in the outbox already (any status)."""
    found = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    return found is not None


# --- digests -----------------------------------------------------------------


@dataclass(frozen=True)
class TeamRecipient:
    person_id: int
    team_id: int
    team_name: str
    village_id: int
    village_name: str


def _live_person() -> tuple[ColumnElement[bool], ...]:
    return (Person.deleted_at.is_(None), Person.merged_into_person_id.is_(None))


async def team_recipients(
    session: AsyncSession, commune_id: int, roles: tuple[str, ...] = TEAM_ROLES
) -> list[TeamRecipient]:
    """Team members and leaders (roles not revoked) of the commune's teams; `roles`
    narrows it (the leaders only)."""
    rows = await session.execute(
        select(StaffRole.person_id, Team.id, Team.name, Village.id, Village.name)
        .join(Team, Team.id == StaffRole.team_id)
        .join(Village, Village.id == Team.village_id)
        .join(Person, Person.id == StaffRole.person_id)
        .where(
            StaffRole.role.in_(roles),
            StaffRole.revoked_at.is_(None),
            Team.commune_id == commune_id,
            *_live_person(),
        )
        .distinct()
        .order_by(StaffRole.person_id, Team.id)
    )
    return [TeamRecipient(*row) for row in rows]


async def commune_admins(session: AsyncSession, commune_id: int) -> list[int]:
    rows = await session.scalars(
        select(StaffRole.person_id)
        .join(Person, Person.id == StaffRole.person_id)
        .where(
            StaffRole.role == "commune_admin",
            StaffRole.revoked_at.is_(None),
            StaffRole.commune_id == commune_id,
            *_live_person(),
        )
        .distinct()
        .order_by(StaffRole.person_id)
    )
    return list(rows)


async def active_villages(session: AsyncSession, commune_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Village.id, Village.name)
        .where(Village.commune_id == commune_id, Village.active.is_(True))
        .order_by(Village.position, Village.code)
    )
    return [(vid, name) for vid, name in rows]


# --- the scheduler lease -------------------------------------------------------


async def take_lease(
    session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the named lease: True if `holder` has it until `now + ttl`.

    One conditional UPDATE wins when the lease is ours or expired; concurrent takers
    serialise on the row (PostgreSQL re-checks the condition after the winner commits).
    A missing row is inserted; a concurrent insert fails on the primary key at flush,
    which the caller treats as "not ours"."""
    result = await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if result.rowcount == 1:
        return True
    present = await session.scalar(select(Lease.name).where(Lease.name == name))
    if present is not None:
        return False
    session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
    await session.flush()
    return True


async def release_lease(session: AsyncSession, name: str, holder: str) -> bool:
    """Give the lease up at once (graceful stop), so another process need not wait."""
    result = await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
    return result.rowcount == 1


async def lease_holder(session: AsyncSession, name: str, now: datetime) -> str | None:
    """Who holds the named lease now (None if free or expired)."""
    return await session.scalar(
        select(Lease.holder).where(Lease.name == name, Lease.expires_at >= now)
    )


async def last_report_sent(session: AsyncSession) -> tuple[str, datetime] | None:
    """The scheduled report message that went out last: (dedupe key, sent at)."""
    row = (
        await session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.sent_at)
            .where(OutboxMessage.kind == "report", OutboxMessage.sent_at.is_not(None))
            .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None
