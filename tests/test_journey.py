"""The resident's journey through the core engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.core.messages import Kind
from storage.models import (
    ChannelAccount,
    ConsentRecord,
    LessonProgress,
    ParticipationEvent,
    Person,
    QuizAttempt,
    Village,
)
from tests.support import Chat, events, make_app


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


def first_lesson(app):
    return next(iter(app.engine.services.curriculum.lessons.values()))


async def count(app, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_welcome_asks_for_consent_before_storing_anything(app):
    chat = Chat(app)
    await chat.start()
    assert "Đồng ý" in [c.label for c in chat.last.choices]
    assert "Không đồng ý" in [c.label for c in chat.last.choices]
    assert "dữ liệu" in chat.last.text
    assert await count(app, Person) == 0
    assert await count(app, ParticipationEvent) == 0


async def test_full_journey_records_the_expected_events(app):
    chat = Chat(app)
    await chat.onboard(village="v:T03")
    assert "Trang chính" in chat.last.text
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    assert chat.last.text.startswith("✍️ Câu 1/")
    await chat.take_quiz(lesson.id)
    assert "đạt" in chat.all_text()
    kinds = [e.kind for e in await events(app)]
    assert kinds == [
        "registered",
        "consented",
        "village_set",
        "lesson_started",
        "lesson_completed",
        "quiz_passed",
    ]
    async with app.database.session() as session:
        village = await session.scalar(select(Village).where(Village.code == "T03"))
        person = await session.scalar(select(Person))
        assert person.display_name == "Bà Lan"
        assert person.age_group == "tu60"
        rows = list(await session.scalars(select(ParticipationEvent)))
        assert {row.village_id for row in rows[2:]} == {village.id}
        assert all(row.team_id is not None for row in rows[2:])  # the village's team
        assert all(row.channel == "console" for row in rows)
        attempt = await session.scalar(select(QuizAttempt))
        assert attempt.passed and attempt.score == attempt.total
        progress = await session.scalar(select(LessonProgress))
        assert progress.completed_at is not None and progress.passed_at is not None


async def test_the_menu_then_offers_the_next_lesson(app):
    chat = Chat(app)
    await chat.onboard()
    lessons = list(app.engine.services.curriculum.lessons.values())
    await chat.read_lesson(lessons[0].id)
    await chat.take_quiz(lessons[0].id)
    assert f"l:{lessons[1].id}" in chat.choice_ids  # "Bài tiếp" right after passing
    await chat.choose(f"l:{lessons[1].id}")
    assert lessons[1].title in chat.last.text


async def test_failing_the_quiz_offers_retry_and_records_the_failure(app):
    chat = Chat(app)
    await chat.onboard()
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    await chat.take_quiz(lesson.id, correct=1)
    assert "retry" in chat.choice_ids and "reread" in chat.choice_ids
    assert "❌ Chưa đúng" in "\n".join(m.text for r in chat.replies[-4:] for m in r.messages)
    await chat.choose("retry")
    assert chat.last.text.startswith("✍️ Câu 1/")
    await chat.take_quiz(lesson.id)
    kinds = Counter(e.kind for e in await events(app))
    assert kinds["quiz_failed"] == 1 and kinds["quiz_passed"] == 1
    assert await count(app, QuizAttempt) == 2


async def test_each_answer_gets_immediate_feedback_with_explanation(app):
    chat = Chat(app)
    await chat.onboard()
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    question = app.engine.services.curriculum.quizzes[lesson.id].questions[0]
    right = question.options[question.correct_index].text
    wrong = next(c.id for c in chat.last.choices if c.label != right)
    reply = await chat.choose(wrong)
    assert reply.messages[0].text.startswith("❌")
    assert right in reply.messages[0].text
    assert question.explanation in reply.messages[0].text
    assert reply.messages[-1].text.startswith("✍️ Câu 2/")


async def test_options_are_shuffled_per_attempt(app):
    lesson = first_lesson(app)
    orders = set()
    for n in range(6):
        chat = Chat(app, user=f"shuffle{n}")
        await chat.onboard()
        await chat.read_lesson(lesson.id)
        orders.add(tuple(c.label for c in chat.last.choices))
    assert len(orders) > 1


async def test_refusal_stores_nothing_personal_and_explains(app):
    chat = Chat(app)
    await chat.start()
    await chat.choose("refuse")
    assert "không lưu" in chat.last.text
    assert await count(app, Person) == 0
    assert await count(app, ParticipationEvent) == 0
    async with app.database.session() as session:
        record = await session.scalar(select(ConsentRecord))
        assert record.answer == "refused" and record.person_id is None
    # A guest can still read lessons, but nothing is recorded.
    await chat.choose("read")
    lesson = first_lesson(app)
    await chat.choose(f"t:{lesson.topic}")
    await chat.choose(f"l:{lesson.id}")
    assert lesson.title in chat.last.text
    assert await count(app, LessonProgress) == 0
    assert await count(app, ParticipationEvent) == 0
    # /tiendo needs consent: it says so instead of failing.
    await chat.text("/tiendo")
    assert "đồng ý" in chat.all_text()
    # Changing their mind leads to consent and registration.
    await chat.text("/menu")
    await chat.choose("consent")
    await chat.choose("agree")
    assert await count(app, Person) == 1


async def test_village_list_is_paged(app):
    chat = Chat(app)
    await chat.start()
    await chat.choose("agree")
    assert "pg:1" in chat.choice_ids and "v:T09" not in chat.choice_ids
    await chat.choose("pg:1")
    assert "v:T09" in chat.choice_ids and "pg:0" in chat.choice_ids
    await chat.choose("v:T12")
    async with app.database.session() as session:
        person = await session.scalar(select(Person))
        village = await session.get(Village, person.village_id)
        assert village.code == "T12"


async def test_age_group_is_optional(app):
    chat = Chat(app)
    await chat.onboard(age="age:skip")
    async with app.database.session() as session:
        assert (await session.scalar(select(Person))).age_group is None


@pytest.mark.parametrize("forged", ["agree", "v:T01", "l:does-not-exist", "a9", "x" * 64])
async def test_stale_or_forged_choice_changes_nothing(app, forged):
    chat = Chat(app)
    await chat.onboard()
    before = (await count(app, ParticipationEvent), await count(app, Person))
    screen_before = chat.last.text
    await chat.choose(forged)
    assert "đã cũ" in chat.replies[-1].messages[0].text
    assert chat.last.text == screen_before  # the current screen again
    assert (await count(app, ParticipationEvent), await count(app, Person)) == before


async def test_free_text_sticker_and_oversized_input_get_an_answer_and_the_screen(app):
    chat = Chat(app)
    await chat.onboard()
    menu = chat.last.text
    for reply in (
        await chat.text("xin chào bot ơi"),
        await chat.send(Kind.MEDIA, payload="sticker"),
        await chat.text("a" * 5000),
        await chat.text("/khonglenhnay"),
        await chat.text("   "),
    ):
        assert len(reply.messages) == 2
        assert reply.messages[0].text  # an explanation, never silence
        assert reply.messages[-1].text == menu


async def test_typed_numbers_and_labels_without_diacritics_select_choices(app):
    chat = Chat(app)
    await chat.start()
    await chat.text("dong y")
    assert await count(app, Person) == 1
    await chat.text(" 2. ")  # second village on the list
    await chat.text("Bo qua")
    async with app.database.session() as session:
        person = await session.scalar(select(Person))
        village = await session.get(Village, person.village_id)
        assert village.code == "T02" and person.age_group is None


async def test_progress_help_and_menu_commands(app):
    chat = Chat(app)
    await chat.onboard()
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    await chat.take_quiz(lesson.id)
    await chat.text("/tiendo")
    total = len(app.engine.services.curriculum.lessons)
    assert f"đạt 1/{total} bài" in chat.last.text
    assert f"✅ {lesson.title}" in chat.last.text
    await chat.text("/huongdan")
    assert "/xoadulieu" in chat.last.text
    await chat.text("/menu")
    assert "Trang chính" in chat.last.text


async def test_catalogue_marks_passed_lessons(app):
    chat = Chat(app)
    await chat.onboard()
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    await chat.take_quiz(lesson.id)
    await chat.text("/baihoc")
    await chat.choose(f"t:{lesson.topic}")
    assert f"✅ {lesson.title}" in chat.last.text


async def test_same_update_delivered_twice_is_recorded_once(app):
    chat = Chat(app)
    await chat.start()
    first = await chat.choose("agree", update_key="42")
    second = await chat.choose("agree", update_key="42")
    assert first.messages and not second.messages and second.duplicate
    assert await count(app, Person) == 1
    kinds = [e.kind for e in await events(app)]
    assert kinds == ["registered", "consented"]


async def test_mydata_shows_what_is_held(app):
    chat = Chat(app)
    await chat.onboard(village="v:T02")
    await chat.text("/dulieu")
    assert "Bà Lan" in chat.last.text and "Thôn Tây" in chat.last.text
    assert "Từ 60 tuổi trở lên" in chat.last.text
    assert "delete" in chat.choice_ids


async def test_deletion_erases_personal_fields_and_keeps_counts(app):
    chat = Chat(app)
    await chat.onboard()
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    await chat.take_quiz(lesson.id)
    events_before = await count(app, ParticipationEvent)
    await chat.text("/xoadulieu")
    await chat.choose("no")
    assert "giữ nguyên" in chat.all_text()
    await chat.text("/xoadulieu")
    await chat.choose("yes")
    assert "Đã xóa" in chat.last.text
    async with app.database.session() as session:
        person = await session.scalar(select(Person))
        assert person.display_name is None and person.phone is None
        assert person.deleted_at is not None
        assert await session.scalar(select(func.count()).select_from(ChannelAccount)) == 0
        kinds = [e.kind for e in await session.scalars(select(ParticipationEvent))]
    assert kinds.count("quiz_passed") == 1 and kinds[-1] == "data_deleted"
    assert await count(app, ParticipationEvent) == events_before + 1
    # Writing again starts afresh, as a new person, with consent asked again.
    await chat.text("xin chào")
    assert "Đồng ý" in [c.label for c in chat.last.choices]


async def test_changing_village_keeps_old_events_under_old_village(app):
    chat = Chat(app)
    await chat.onboard(village="v:T01")
    lesson = first_lesson(app)
    await chat.read_lesson(lesson.id)
    await chat.take_quiz(lesson.id)
    await chat.text("/dulieu")
    await chat.choose("village")
    await chat.choose("v:T05")
    assert "Đã đổi" in chat.all_text()
    second = list(app.engine.services.curriculum.lessons)[1]
    await chat.read_lesson(second)
    async with app.database.session() as session:
        codes = {v.id: v.code for v in await session.scalars(select(Village))}
        rows = list(
            await session.scalars(select(ParticipationEvent).order_by(ParticipationEvent.id))
        )
    by_kind = [(r.kind, codes.get(r.village_id)) for r in rows]
    assert ("quiz_passed", "T01") in by_kind
    assert ("lesson_started", "T05") in by_kind
    assert by_kind[-1] == ("lesson_completed", "T05")


async def test_deep_link_payload_attributes_the_team(app):
    chat = Chat(app)
    await chat.start("team_TCN-T04")
    await chat.choose("agree")
    async with app.database.session() as session:
        person = await session.scalar(select(Person))
        assert person.source == "team_TCN-T04" and person.attributed_team_id is not None
        event = await session.scalar(select(ParticipationEvent))
        assert event.team_id == person.attributed_team_id


async def test_returning_resident_is_welcomed_back_not_onboarded_again(app):
    chat = Chat(app)
    await chat.onboard()
    await chat.start()
    assert "quay lại" in chat.all_text()
    assert await count(app, Person) == 1


async def test_progress_says_start_before_any_lesson_and_continue_after(app):
    chat = Chat(app)
    await chat.onboard()
    await chat.text("/tiendo")
    assert chat.last.choices[0].label.startswith("▶ Học bài:")
    lesson = first_lesson(app)
    await chat.choose(f"l:{lesson.id}")
    await chat.text("/tiendo")
    # It names the place it reopens: the card the resident stopped on.
    assert chat.last.choices[0].label == f"▶ Học tiếp: {lesson.title}, thẻ 1/{len(lesson.cards)}"
