"""The basic programme ("chương trình cơ bản"): when a person completes it.

A person completes the programme with the quiz pass that makes their passed lessons
cover every lesson that is core (`core: true`) at that moment. A `programme_completed`
event records it then, with the village and team of that pass, and reports count those
events: a closed period's figures stay as they were when lessons later join the core
set. (Data from before these events were written got them from migration 0007.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person

PROGRAMME_COMPLETED = "programme_completed"


def completes_programme(passed_before: Iterable[str], lesson_id: str, core: Iterable[str]) -> bool:
    """Whether passing `lesson_id` makes the passed set cover the core set, which the
    lessons passed before did not."""
    core_set, before = set(core), set(passed_before)
    return bool(core_set) and core_set <= before | {lesson_id} and not core_set <= before


async def record_pass(
    session: AsyncSession,
    person: Person,
    lesson_id: str,
    core: Iterable[str],
    *,
    channel: str,
    at: datetime,
) -> bool:
    """Call when a quiz pass is recorded, before the lesson's progress is marked passed;
    appends `programme_completed` if this pass completes the programme."""
    progress = await repo.progress_by_lesson(session, person.id)
    before = {lid for lid, row in progress.items() if row.passed_at is not None}
    if not completes_programme(before, lesson_id, core):
        return False
    await repo.add_event(
        session,
        person=person,
        kind=PROGRAMME_COMPLETED,
        channel=channel,
        at=at,
        lesson_id=lesson_id,
    )
    return True
