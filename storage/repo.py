"""Small query helpers. They flush when they need ids but never commit: the caller owns
the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChannelAccount,
    ConsentRecord,
    LessonProgress,
    ParticipationEvent,
    Person,
    ProcessedUpdate,
    QuizAttempt,
    Team,
    Village,
)

# Built once, run on every step: building a statement costs about as much CPU as
# running it on SQLite (bench/engine.py under cProfile).
_CLAIM = {
    dialect: insert(ProcessedUpdate)
    .values(
        channel=bindparam("claim_channel"),
        update_key=bindparam("claim_key"),
        processed_at=bindparam("claim_at"),
    )
    .on_conflict_do_nothing()
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_ACCOUNT_WITH_PERSON = (
    select(ChannelAccount, Person)
    .outerjoin(Person, Person.id == ChannelAccount.person_id)
    .where(
        ChannelAccount.channel == bindparam("channel"),
        ChannelAccount.external_id == bindparam("external_id"),
    )
)
_ADVANCE_CARD = (
    update(LessonProgress)
    .where(
        LessonProgress.person_id == bindparam("p_person"),
        LessonProgress.lesson_id == bindparam("p_lesson"),
        LessonProgress.card_index < bindparam("p_index"),
    )
    .values(card_index=bindparam("p_index"))
)


class DuplicateUpdate(Exception):
    """This inbound update was processed before (or is, by a concurrent copy)."""


async def open_step(
    session: AsyncSession, channel: str, external_id: str, update_key: str | None, at: datetime
) -> tuple[ChannelAccount, Person | None]:
    """Start handling one inbound update: claim its key, then load the account and its
    person in one query (creating the account on first contact).

    The claim is one INSERT .. ON CONFLICT DO NOTHING, without looking first: a key
    processed before inserts nothing and raises DuplicateUpdate here, before anything
    of the step has run (a concurrent copy still in progress makes the INSERT wait for
    its outcome).
    Two statements in all. The caller marks the account seen (`mark_seen`) at the end
    of the step, so that change rides on the UPDATE that stores the next screen
    instead of being a statement of its own, flushed before the screen's first query.
    """
    if update_key is not None:
        # On the session's connection, as Core: nothing of the ORM is involved yet,
        # and the ORM would take a statement with parameters for a bulk INSERT.
        connection = await session.connection()
        dialect = "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
        claimed = await connection.execute(
            _CLAIM[dialect], {"claim_channel": channel, "claim_key": update_key, "claim_at": at}
        )
        if claimed.rowcount != 1:
            raise DuplicateUpdate(channel, update_key)
    params = {"channel": channel, "external_id": external_id}
    row = (await session.execute(_ACCOUNT_WITH_PERSON, params)).first()
    if row is None:
        account = ChannelAccount(
            channel=channel,
            external_id=external_id,
            screen={},
            active=True,
            created_at=at,
            last_seen_at=at,
        )
        session.add(account)
        await session.flush()
        return account, None
    account, person = row
    return account, person


def mark_seen(account: ChannelAccount, at: datetime) -> None:
    """They wrote: seen now, and active (they have not blocked the bot)."""
    account.last_seen_at = at
    account.active = True


async def team_for_village(session: AsyncSession, village_id: int | None) -> int | None:
    if village_id is None:
        return None
    return await session.scalar(select(Team.id).where(Team.village_id == village_id).limit(1))


async def add_event(
    session: AsyncSession,
    *,
    person: Person,
    kind: str,
    channel: str,
    at: datetime,
    lesson_id: str | None = None,
) -> None:
    team_id = person.attributed_team_id or await team_for_village(session, person.village_id)
    session.add(
        ParticipationEvent(
            occurred_at=at,
            kind=kind,
            person_id=person.id,
            commune_id=person.commune_id,
            village_id=person.village_id,
            team_id=team_id,
            channel=channel,
            lesson_id=lesson_id,
        )
    )


async def add_consent(
    session: AsyncSession, person_id: int | None, version: str, answer: str, at: datetime
) -> None:
    session.add(ConsentRecord(person_id=person_id, notice_version=version, answer=answer, at=at))


async def villages(session: AsyncSession, commune_id: int) -> list[Village]:
    rows = await session.scalars(
        select(Village)
        .where(Village.commune_id == commune_id, Village.active.is_(True))
        .order_by(Village.position, Village.code)
    )
    return list(rows)


async def progress_by_lesson(session: AsyncSession, person_id: int) -> dict[str, LessonProgress]:
    rows = await session.scalars(
        select(LessonProgress).where(LessonProgress.person_id == person_id)
    )
    return {row.lesson_id: row for row in rows}


async def get_progress(
    session: AsyncSession, person_id: int, lesson_id: str
) -> LessonProgress | None:
    return await session.scalar(
        select(LessonProgress).where(
            LessonProgress.person_id == person_id, LessonProgress.lesson_id == lesson_id
        )
    )


async def advance_card(session: AsyncSession, person_id: int, lesson_id: str, index: int) -> None:
    """Record card `index` as read, unless a further one was (no row: nothing)."""
    params = {"p_person": person_id, "p_lesson": lesson_id, "p_index": index}
    await session.execute(_ADVANCE_CARD, params)


async def quiz_attempt_count(session: AsyncSession, person_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(QuizAttempt).where(QuizAttempt.person_id == person_id)
        )
        or 0
    )


async def communes_with_team(
    session: AsyncSession, code: str, commune_ids: list[int]
) -> list[int]:
    """The communes among `commune_ids` that have a team with this code."""
    found = await session.scalars(
        select(Team.commune_id).where(Team.code == code, Team.commune_id.in_(commune_ids))
    )
    return sorted(set(found))


async def team_id_by_code(session: AsyncSession, commune_id: int, code: str) -> int | None:
    return await session.scalar(
        select(Team.id).where(Team.commune_id == commune_id, Team.code == code)
    )
