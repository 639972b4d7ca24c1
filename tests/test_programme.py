"""The basic programme is decided by what was core when the pass happened, on SQLite and
PostgreSQL: a closed period's report stays the same when a lesson later joins the core
set, and the bot writes one `programme_completed` event at the completing pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.content.model import Curriculum
from bot.programme import PROGRAMME_COMPLETED, completes_programme
from bot.reports.compute import Programme, compute_report
from bot.reports.model import Report
from bot.reports.periods import calendar_range
from tests.support import events, make_app
from tests.team_support import onboarded, person_of

LATE = "thanh-toan-qr"  # joins the core set in December


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


def without_late(curriculum: Curriculum) -> Curriculum:
    """The curriculum as it was in November: the late lesson not core yet."""
    lessons = {
        lesson_id: replace(lesson, core=False) if lesson_id == LATE else lesson
        for lesson_id, lesson in curriculum.lessons.items()
    }
    return replace(curriculum, lessons=lessons)


async def report(app, month: int, curriculum: Curriculum) -> Report:
    last = 30 if month == 11 else 31
    return await compute_report(
        app.database,
        app.engine.services.communes.only.id,
        calendar_range(date(2026, month, 1), date(2026, month, last)),
        Programme.of(curriculum),
        now=datetime(2027, 1, 5, tzinfo=UTC),
    )


async def learn(chat, lesson_id: str) -> None:
    await chat.read_lesson(lesson_id)
    await chat.take_quiz(lesson_id)


def test_only_the_pass_that_covers_the_core_set_completes_it():
    assert completes_programme({"a"}, "b", ["a", "b"])
    assert not completes_programme({"a", "b"}, "a", ["a", "b"])  # a retake
    assert not completes_programme({"a"}, "c", ["a", "b"])
    assert not completes_programme(set(), "a", [])  # no programme, nothing to complete


async def test_a_core_lesson_added_later_leaves_a_closed_period_unchanged(app, clock):
    grown = app.engine.services.curriculum
    november = without_late(grown)
    app.engine.services.curriculum = november
    early = await onboarded(app, "early")
    for lesson_id in november.core_lesson_ids():
        await learn(early, lesson_id)
    kinds = [e.kind for e in await events(app, (await person_of(app, early)).id)]
    assert kinds.count(PROGRAMME_COMPLETED) == 1 and kinds[-1] == PROGRAMME_COMPLETED
    before = await report(app, 11, november)
    assert (before.total.basic_new, before.total.basic_cum) == (1, 1)

    # December: the late lesson is core now. A resident who passes November's core set
    # has not completed the programme yet; passing the late lesson too completes it.
    app.engine.services.curriculum = grown
    clock.now = datetime(2026, 12, 3, 3, tzinfo=UTC)
    late = await onboarded(app, "late", village="T02")
    for lesson_id in november.core_lesson_ids():
        await learn(late, lesson_id)
    late_id = (await person_of(app, late)).id
    assert PROGRAMME_COMPLETED not in [e.kind for e in await events(app, late_id)]
    assert (await report(app, 12, grown)).total.basic_new == 0
    await learn(late, LATE)
    await learn(early, LATE)  # covers the grown set too; counted once, in November

    after = await report(app, 11, grown)
    assert after.total == before.total
    assert [v.metrics for v in after.villages] == [v.metrics for v in before.villages]
    december = await report(app, 12, grown)
    assert (december.total.basic_new, december.total.basic_cum) == (1, 2)
