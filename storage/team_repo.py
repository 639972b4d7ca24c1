"""Queries for the commune's people at work: roles, invites, households, visits,
questions to the team, broadcasts' recipients and the audit log.

Like every repository here they flush when they need ids but never commit: the caller
owns the transaction.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.delivery_models import Broadcast
from storage.models import ChannelAccount, ParticipationEvent, Person, Team, Village
from storage.team_models import (
    RESIDENT_CODE_LENGTH,
    AuditEntry,
    Household,
    Invite,
    StaffRole,
    SupportVisit,
    TeamQuestion,
)

# No 0/O, 1/I/L: codes are read aloud and typed on small phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TEAM_ROLES = ("member", "leader")
ADMIN_ROLES = ("commune_admin", "deployment_admin")
# A household code as written on the village list: H015, 12/3, TD-07...
HOUSEHOLD_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,31}$")


# ----------------------------------------------------------------- audit


def actor_of(person_id: int) -> str:
    return f"person:{person_id}"


def audit(
    session: AsyncSession,
    actor: str,
    action: str,
    commune_id: int | None,
    *,
    at: datetime | None = None,
    succeeded: bool = True,
    **detail: Any,
) -> AuditEntry:
    """Append one audit row: who (`person:12`, `cli:<os user>`), what, when, where.

    Synchronous on purpose: it only adds to the session, and a forgotten `await` on an
    async helper would silently drop the entry."""
    entry = AuditEntry(
        at=at or datetime.now(UTC),
        actor=actor[:64],
        action=action[:48],
        commune_id=commune_id,
        detail=detail,
        succeeded=succeeded,
    )
    session.add(entry)
    return entry


# ----------------------------------------------------------------- codes


def random_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


async def unique_code(session: AsyncSession, column: Any, length: int = 8) -> str:
    """A random code not yet used in `column` (collisions are astronomically rare)."""
    while True:
        code = random_code(length)
        if await session.scalar(select(func.count()).where(column == code)) == 0:
            return code


# ----------------------------------------------------------------- roles


@dataclass(frozen=True)
class RoleRow:
    role: str
    commune_id: int | None  # the team's commune for members and leaders
    team_id: int | None
    village_id: int | None  # the team's village for members and leaders
    referral_code: str | None


# One step asks for the same person's roles several times (each menu entry and guard);
# they are read once per session and forgotten whenever a role is granted or revoked.
_ROLES_CACHE = "active_roles"


def _forget_cached_roles(session: AsyncSession | Session) -> None:
    session.info.pop(_ROLES_CACHE, None)


@event.listens_for(Session, "after_transaction_end")
def _roles_last_one_transaction(session: Session, _transaction: Any) -> None:
    """Another process may grant or revoke meanwhile: never reuse them across transactions."""
    _forget_cached_roles(session)


async def active_roles(session: AsyncSession, person_id: int) -> tuple[RoleRow, ...]:
    cache: dict[int, tuple[RoleRow, ...]] = session.info.setdefault(_ROLES_CACHE, {})
    if person_id not in cache:
        cache[person_id] = await _read_active_roles(session, person_id)
    return cache[person_id]


async def _read_active_roles(session: AsyncSession, person_id: int) -> tuple[RoleRow, ...]:
    rows = await session.execute(
        select(StaffRole, Team.commune_id, Team.village_id)
        .outerjoin(Team, Team.id == StaffRole.team_id)
        .where(StaffRole.person_id == person_id, StaffRole.revoked_at.is_(None))
        .order_by(StaffRole.id)
    )
    out = []
    for role, team_commune, team_village in rows:
        out.append(
            RoleRow(
                role=role.role,
                commune_id=team_commune if role.team_id else role.commune_id,
                team_id=role.team_id,
                village_id=team_village,
                referral_code=role.referral_code,
            )
        )
    return tuple(out)


async def grant_role(
    session: AsyncSession,
    *,
    person_id: int,
    role: str,
    commune_id: int | None,
    team_id: int | None,
    now: datetime,
) -> StaffRole:
    """Give a role. A person belongs to one team: a new team role ends the previous one."""
    _forget_cached_roles(session)
    if role in TEAM_ROLES:
        await session.execute(
            update(StaffRole)
            .where(
                StaffRole.person_id == person_id,
                StaffRole.role.in_(TEAM_ROLES),
                StaffRole.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    else:
        await session.execute(
            update(StaffRole)
            .where(
                StaffRole.person_id == person_id,
                StaffRole.role == role,
                StaffRole.commune_id == commune_id
                if commune_id
                else StaffRole.commune_id.is_(None),
                StaffRole.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    referral = None
    if role in TEAM_ROLES:
        referral = await unique_code(session, StaffRole.referral_code)
    row = StaffRole(
        person_id=person_id,
        role=role,
        commune_id=commune_id,
        team_id=team_id,
        referral_code=referral,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def role_by_referral(session: AsyncSession, code: str) -> StaffRole | None:
    return await session.scalar(
        select(StaffRole).where(
            StaffRole.referral_code == code.upper(), StaffRole.revoked_at.is_(None)
        )
    )


async def team_people(session: AsyncSession, team_id: int) -> list[tuple[str, Person]]:
    """Members and leaders of a team, with their person rows."""
    rows = await session.execute(
        select(StaffRole.role, Person)
        .join(Person, Person.id == StaffRole.person_id)
        .where(
            StaffRole.team_id == team_id,
            StaffRole.role.in_(TEAM_ROLES),
            StaffRole.revoked_at.is_(None),
            Person.deleted_at.is_(None),
        )
        .order_by(StaffRole.role.desc(), Person.id)
    )
    return [(role, person) for role, person in rows]


async def admin_person_ids(session: AsyncSession, commune_id: int) -> list[int]:
    """Commune admins of this commune, and deployment admins who serve it."""
    rows = await session.scalars(
        select(StaffRole.person_id)
        .join(Person, Person.id == StaffRole.person_id)
        .where(
            StaffRole.revoked_at.is_(None),
            Person.deleted_at.is_(None),
            or_(
                and_(StaffRole.role == "commune_admin", StaffRole.commune_id == commune_id),
                and_(
                    StaffRole.role == "deployment_admin",
                    or_(StaffRole.commune_id.is_(None), StaffRole.commune_id == commune_id),
                ),
            ),
        )
        .distinct()
    )
    return list(rows)


async def latest_account(session: AsyncSession, person_id: int) -> ChannelAccount | None:
    """Where to reach a person outside a conversation: their most recently used account."""
    return await session.scalar(
        select(ChannelAccount)
        .where(ChannelAccount.person_id == person_id, ChannelAccount.active.is_(True))
        .order_by(ChannelAccount.last_seen_at.desc(), ChannelAccount.id.desc())
        .limit(1)
    )


# ----------------------------------------------------------------- teams and villages


async def team_by_code(session: AsyncSession, commune_id: int, code: str) -> Team | None:
    return await session.scalar(
        select(Team).where(Team.commune_id == commune_id, Team.code == code)
    )


async def teams_of_commune(session: AsyncSession, commune_id: int) -> list[tuple[Team, Village]]:
    rows = await session.execute(
        select(Team, Village)
        .join(Village, Village.id == Team.village_id)
        .where(Team.commune_id == commune_id, Village.active.is_(True))
        .order_by(Village.position, Village.code, Team.code)
    )
    return [(team, village) for team, village in rows]


async def village_by_code(session: AsyncSession, commune_id: int, code: str) -> Village | None:
    return await session.scalar(
        select(Village).where(Village.commune_id == commune_id, Village.code == code)
    )


# ----------------------------------------------------------------- invites


async def create_invite(
    session: AsyncSession,
    *,
    role: str,
    commune_id: int,
    team_id: int | None,
    uses: int,
    expires_at: datetime,
    created_by: str,
    now: datetime,
) -> Invite:
    invite = Invite(
        code=await unique_code(session, Invite.code),
        role=role,
        commune_id=commune_id,
        team_id=team_id,
        uses_left=uses,
        expires_at=expires_at,
        created_by=created_by[:64],
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    return invite


async def usable_invite(session: AsyncSession, code: str, now: datetime) -> Invite | None:
    return await session.scalar(
        select(Invite).where(
            Invite.code == code.upper(), Invite.uses_left > 0, Invite.expires_at > now
        )
    )


async def invite_by_code(session: AsyncSession, code: str) -> Invite | None:
    """The invite with this code whatever its state, to say why it no longer works."""
    return await session.scalar(select(Invite).where(Invite.code == code.upper()))


async def use_invite(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Take one use; False when another claim took the last one first."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.uses_left > 0, Invite.expires_at > now)
        .values(uses_left=Invite.uses_left - 1)
    )
    return result.rowcount == 1


# ----------------------------------------------------------------- households


def _household_filter(village_id: int, query: str | None) -> Select[Any]:
    stmt = select(Household).where(Household.village_id == village_id)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Household.code) == query.lower(),
                func.lower(Household.head_name).like(like),
            )
        )
    return stmt


async def households_page(
    session: AsyncSession, village_id: int, *, offset: int, limit: int, query: str | None = None
) -> tuple[list[Household], int]:
    """One page of a village's households (optionally searched) and how many there are."""
    stmt = _household_filter(village_id, query)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = await session.scalars(stmt.order_by(Household.code).offset(offset).limit(limit))
    return list(rows), total


async def household_count(session: AsyncSession, village_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Household).where(Household.village_id == village_id)
        )
        or 0
    )


async def household_by_code(session: AsyncSession, village_id: int, code: str) -> Household | None:
    return await session.scalar(
        select(Household).where(
            Household.village_id == village_id, func.upper(Household.code) == code.upper()
        )
    )


def normalise_resident_code(typed: str) -> str:
    """ "k7m pq2", "K7M-PQ2" -> "K7MPQ2"."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


async def household_for_resident(
    session: AsyncSession, village_id: int, typed: str
) -> Household | None:
    """The household whose resident code this is, in the resident's own village. List
    codes (H015) are not accepted: they are sequential, so anyone could guess them."""
    code = normalise_resident_code(typed)
    if len(code) != RESIDENT_CODE_LENGTH:
        return None
    return await session.scalar(
        select(Household)
        .where(Household.village_id == village_id, Household.resident_code == code)
        .order_by(Household.id)
        .limit(1)
    )


async def resident_codes(
    session: AsyncSession, commune_id: int, village_code: str | None = None
) -> list[tuple[str, str, str | None, str | None]]:
    """(village code, list code, head, resident code) of a commune's households, for the
    team to hand each household its code (printed slips)."""
    stmt = (
        select(Village.code, Household.code, Household.head_name, Household.resident_code)
        .join(Village, Village.id == Household.village_id)
        .where(Village.commune_id == commune_id)
        .order_by(Village.position, Village.code, Household.code)
    )
    if village_code is not None:
        stmt = stmt.where(Village.code == village_code)
    return [(v, c, h, r) for v, c, h, r in (await session.execute(stmt)).all()]


async def add_household(
    session: AsyncSession, village_id: int, code: str, head_name: str | None, now: datetime
) -> Household:
    row = Household(village_id=village_id, code=code, head_name=head_name, created_at=now)
    session.add(row)
    await session.flush()
    return row


# ----------------------------------------------------------------- visits


async def unasked_visits(session: AsyncSession, household_id: int) -> list[SupportVisit]:
    rows = await session.scalars(
        select(SupportVisit)
        .where(
            SupportVisit.household_id == household_id,
            SupportVisit.verification_asked_at.is_(None),
            SupportVisit.verified_at.is_(None),
        )
        .order_by(SupportVisit.visited_at)
    )
    return list(rows)


async def household_residents(
    session: AsyncSession, household_id: int, *, exclude: int | None = None
) -> list[Person]:
    stmt = select(Person).where(Person.household_id == household_id, Person.deleted_at.is_(None))
    if exclude is not None:
        stmt = stmt.where(Person.id != exclude)
    return list(await session.scalars(stmt.order_by(Person.id)))


# ----------------------------------------------------------------- questions


async def open_questions(
    session: AsyncSession,
    *,
    commune_id: int,
    team_id: int | None = None,
    escalated_only: bool = False,
    limit: int = 20,
) -> list[TeamQuestion]:
    stmt = select(TeamQuestion).where(
        TeamQuestion.commune_id == commune_id, TeamQuestion.answered_at.is_(None)
    )
    if team_id is not None:
        stmt = stmt.where(TeamQuestion.team_id == team_id)
    if escalated_only:
        stmt = stmt.where(TeamQuestion.escalated_at.is_not(None))
    return list(await session.scalars(stmt.order_by(TeamQuestion.asked_at).limit(limit)))


async def count_open_questions(
    session: AsyncSession, *, commune_id: int, team_id: int | None, escalated_only: bool = False
) -> int:
    stmt = (
        select(func.count())
        .select_from(TeamQuestion)
        .where(TeamQuestion.commune_id == commune_id, TeamQuestion.answered_at.is_(None))
    )
    if team_id is not None:
        stmt = stmt.where(TeamQuestion.team_id == team_id)
    if escalated_only:
        stmt = stmt.where(TeamQuestion.escalated_at.is_not(None))
    return int(await session.scalar(stmt) or 0)


async def count_open_questions_of(session: AsyncSession, person_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(TeamQuestion)
            .where(TeamQuestion.person_id == person_id, TeamQuestion.answered_at.is_(None))
        )
        or 0
    )


async def count_questions_of(session: AsyncSession, person_id: int) -> int:
    """Every question the person sent, answered or not (shown in /dulieu)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(TeamQuestion)
            .where(TeamQuestion.person_id == person_id)
        )
        or 0
    )


async def record_answer(
    session: AsyncSession, question_id: int, *, answer: str, by: int, now: datetime
) -> bool:
    """Store an answer; False when someone else answered first."""
    result = await session.execute(
        update(TeamQuestion)
        .where(TeamQuestion.id == question_id, TeamQuestion.answered_at.is_(None))
        .values(answer=answer, answered_at=now, answered_by_person_id=by)
    )
    return result.rowcount == 1


async def overdue_questions(session: AsyncSession, before: datetime) -> list[TeamQuestion]:
    rows = await session.scalars(
        select(TeamQuestion)
        .where(
            TeamQuestion.answered_at.is_(None),
            TeamQuestion.escalated_at.is_(None),
            TeamQuestion.asked_at <= before,
        )
        .order_by(TeamQuestion.id)
    )
    return list(rows)


# ----------------------------------------------------------------- households


async def link_household(session: AsyncSession, person: Person, household: Household) -> None:
    """The resident says they live in `household`, which is then reached as of their
    registration (the report rule), for good: see Household.resident_reached_at."""
    person.household_id = household.id
    registered = await session.scalar(
        select(func.min(ParticipationEvent.occurred_at)).where(
            ParticipationEvent.person_id == person.id, ParticipationEvent.kind == "registered"
        )
    )
    reached = registered or person.created_at
    if household.resident_reached_at is None or reached < household.resident_reached_at:
        household.resident_reached_at = reached


# ----------------------------------------------------------------- deletion


async def forget_team_data(session: AsyncSession, person: Person, at: datetime) -> None:
    """What the team features hold about a person who deletes their data: their
    household link, the words of their questions (and the answers), their roles.
    Counts stay: the question rows, visits and verifications keep only ids and times."""
    _forget_cached_roles(session)
    person.household_id = None
    await session.execute(
        update(TeamQuestion).where(TeamQuestion.person_id == person.id).values(text="", answer=None)
    )
    await session.execute(
        update(StaffRole)
        .where(StaffRole.person_id == person.id, StaffRole.revoked_at.is_(None))
        .values(revoked_at=at)
    )


# ----------------------------------------------------------------- broadcasts


def deliverable_channels() -> tuple[str, ...]:
    """Channels the outbox can deliver to: every declared messenger and every bot of the
    deployment (`[[bots]]`, recorded under its own name). The console delivers too: its
    messages wait in the outbox until its user opens `hocvuso chat`."""
    from bot.core import channel_traits

    return channel_traits.deliverable()


def recipients_query(broadcast: Broadcast, village_ids: Sequence[int] | None) -> Select[Any]:
    """Channel accounts a broadcast goes to: the messenger accounts of consented (not
    deleted, not merged away) residents of the chosen villages, as they were when it
    was confirmed, so that the count in the preview is the count sent. Accounts that
    blocked the bot stay in: the outbox skips them and the tally counts them."""
    stmt = (
        select(ChannelAccount.id, ChannelAccount.channel, ChannelAccount.external_id)
        .join(Person, Person.id == ChannelAccount.person_id)
        .join(Village, Village.id == Person.village_id)
        .where(
            ChannelAccount.channel.in_(deliverable_channels()),
            Person.deleted_at.is_(None),
            Person.merged_into_person_id.is_(None),
            Village.commune_id == broadcast.commune_id,
        )
    )
    if village_ids is not None:
        stmt = stmt.where(Person.village_id.in_(list(village_ids)))
    if broadcast.confirmed_at is not None:
        stmt = stmt.where(ChannelAccount.created_at <= broadcast.confirmed_at)
    return stmt


async def village_ids_for_codes(
    session: AsyncSession, commune_id: int, codes: Sequence[str]
) -> list[int] | None:
    """Villages a broadcast targets; None means the whole commune."""
    if not codes:
        return None
    rows = await session.scalars(
        select(Village.id).where(Village.commune_id == commune_id, Village.code.in_(list(codes)))
    )
    return list(rows)


async def count_recipients(session: AsyncSession, broadcast: Broadcast) -> tuple[int, int]:
    """(people, channel accounts) a broadcast reaches."""
    village_ids = await village_ids_for_codes(
        session, broadcast.commune_id, broadcast.village_codes
    )
    sub = recipients_query(broadcast, village_ids).add_columns(Person.id.label("pid")).subquery()
    accounts = int(await session.scalar(select(func.count()).select_from(sub)) or 0)
    people = int(await session.scalar(select(func.count(func.distinct(sub.c.pid)))) or 0)
    return people, accounts
