"""Account-link codes, wrong-code throttling and merging two learners into one.

Queries only: they flush when needed but never commit; the engine owns the transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import guesses, repo, resume
from storage.delivery_models import LinkCode
from storage.models import ChannelAccount, LessonProgress, Person, QuizAttempt

CODE_TTL = timedelta(minutes=10)
# Wrong codes count toward the account's one guess limit (storage/guesses.py).
locked_until = guesses.locked_until
record_wrong = guesses.record_wrong


def new_code_value() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def is_live(code: LinkCode, now: datetime) -> bool:
    return code.used_at is None and now < code.expires_at


async def live_code_for(
    session: AsyncSession, person_id: int, channel: str, now: datetime
) -> LinkCode | None:
    """The code this person already has on this channel, if it still works."""
    return await session.scalar(
        select(LinkCode)
        .where(
            LinkCode.person_id == person_id,
            LinkCode.channel == channel,
            LinkCode.used_at.is_(None),
            LinkCode.expires_at > now,
        )
        .order_by(LinkCode.created_at.desc(), LinkCode.id.desc())
        .limit(1)
    )


async def issue_code(
    session: AsyncSession, person_id: int, channel: str, now: datetime
) -> LinkCode:
    """A fresh random 6-digit code, distinct from every code that still works."""
    while True:
        value = new_code_value()
        taken = await session.scalar(
            select(LinkCode.id).where(
                LinkCode.code == value, LinkCode.used_at.is_(None), LinkCode.expires_at > now
            )
        )
        if taken is None:
            break
    code = LinkCode(
        code=value, person_id=person_id, channel=channel, created_at=now, expires_at=now + CODE_TTL
    )
    session.add(code)
    await session.flush()
    return code


async def find_code(session: AsyncSession, value: str, now: datetime) -> LinkCode | None:
    """The working code with this value; else the newest one ever issued (used or
    expired), so that the refusal can say why; None if it never existed."""
    rows = list(
        await session.scalars(
            select(LinkCode)
            .where(LinkCode.code == value)
            .order_by(LinkCode.created_at.desc(), LinkCode.id.desc())
            .limit(20)
        )
    )
    return next((row for row in rows if is_live(row, now)), rows[0] if rows else None)


async def claim_code(session: AsyncSession, code: LinkCode, now: datetime) -> bool:
    """Mark the code used; False if another delivery used it first (checked in SQL)."""
    result = await session.execute(
        update(LinkCode)
        .where(LinkCode.id == code.id, LinkCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    code.used_at = now
    return True


async def root_person(session: AsyncSession, person_id: int) -> Person | None:
    """The learner a person stands for now, following a merge."""
    person = await session.get(Person, person_id)
    for _ in range(8):  # merges are kept one level deep; the bound is only a guard
        if person is None or person.merged_into_person_id is None:
            break
        person = await session.get(Person, person.merged_into_person_id)
    return person


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b


def _fold(into: LessonProgress, other: LessonProgress) -> None:
    """One lesson held by both: keep the better state (passed beats completed beats
    started), field by field, with the earliest date of each step."""
    into.started_at = min(into.started_at, other.started_at)
    into.completed_at = _earliest(into.completed_at, other.completed_at)
    into.passed_at = _earliest(into.passed_at, other.passed_at)
    into.card_index = max(into.card_index, other.card_index)


async def merge_people(session: AsyncSession, source: Person, target: Person) -> None:
    """Join `source` to `target`: one learner from now on.

    Lesson progress moves to the target (the better state wins where both have a
    lesson), quiz attempts and messenger accounts follow. Participation events stay as
    they are (append-only): reports count `coalesce(merged_into_person_id, id)`, so the
    merge is kept one level deep by re-pointing people merged into `source` earlier.
    """
    theirs = await repo.progress_by_lesson(session, source.id)
    ours = await repo.progress_by_lesson(session, target.id)
    for lesson_id, row in theirs.items():
        if lesson_id in ours:
            _fold(ours[lesson_id], row)
            await session.delete(row)
        else:
            row.person_id = target.id
    await session.flush()
    await session.execute(
        update(QuizAttempt).where(QuizAttempt.person_id == source.id).values(person_id=target.id)
    )
    await resume.move(session, source.id, target.id)
    await session.execute(
        update(ChannelAccount)
        .where(ChannelAccount.person_id == source.id)
        .values(person_id=target.id)
    )
    await session.execute(
        update(Person)
        .where(Person.merged_into_person_id == source.id)
        .values(merged_into_person_id=target.id)
    )
    source.merged_into_person_id = target.id
    # The learner lives on in `target`: a second copy of their name must not outlive a
    # later /xoadulieu there. Id, village and dates stay, as for a deleted person.
    source.display_name = None
    source.phone = None
    source.age_group = None
    source.source = None
    await session.flush()
