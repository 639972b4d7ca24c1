"""Coming back where one left off, and content edited under residents mid-way, as a
resident (or a team member) meets them. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from bot.content.model import Card, Curriculum
from bot.core.messages import Kind
from storage.models import ParticipationEvent, QuizAttempt
from storage.resume import ResumePoint
from tests.support import Chat, make_app
from tests.team_support import add_households, household_id, onboarded

ERROR = "Xin lỗi, bot vừa gặp lỗi"
UPDATED = "Bài này vừa được cập nhật, mình mở lại từ đầu nhé."
REMOVED = "Bài này vừa được gỡ khỏi danh sách"


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


def lessons(app):
    return list(app.engine.services.curriculum.lessons.values())


def use(app, curriculum: Curriculum) -> None:
    """The content as it is after an edit and a restart (the engine reads it at start)."""
    app.engine.services.curriculum = curriculum


def with_quiz(curriculum: Curriculum, lesson_id: str, questions) -> Curriculum:
    quizzes = dict(curriculum.quizzes)
    quizzes[lesson_id] = replace(quizzes[lesson_id], questions=tuple(questions))
    return replace(curriculum, quizzes=quizzes)


def with_cards(curriculum: Curriculum, lesson_id: str, cards) -> Curriculum:
    all_lessons = dict(curriculum.lessons)
    all_lessons[lesson_id] = replace(all_lessons[lesson_id], cards=tuple(cards))
    return replace(curriculum, lessons=all_lessons)


def without(curriculum: Curriculum, lesson_id: str) -> Curriculum:
    return replace(
        curriculum,
        lessons={k: v for k, v in curriculum.lessons.items() if k != lesson_id},
        quizzes={k: v for k, v in curriculum.quizzes.items() if k != lesson_id},
    )


async def open_from_menu(chat: Chat, lesson_id: str) -> None:
    await chat.text("/menu")
    assert chat.choice_ids[0] == f"l:{lesson_id}"
    await chat.choose(f"l:{lesson_id}")


async def into_quiz(chat: Chat, lesson_id: str, answered: int) -> None:
    """Read the lesson, open its quiz and answer `answered` questions."""
    await chat.read_lesson(lesson_id)
    for _ in range(answered):
        await chat.choose(chat.choice_ids[0])


def no_error(chat: Chat) -> None:
    text = chat.all_text()
    assert text.strip() and ERROR not in text


async def count(app, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


# --------------------------------------------------------------------------- resume


async def test_leaving_a_lesson_at_card_3_and_coming_back_reopens_card_3(app):
    lesson = lessons(app)[0]
    total = len(lesson.cards)
    chat = Chat(app)
    await chat.onboard()
    await open_from_menu(chat, lesson.id)
    await chat.choose("next")
    await chat.choose("next")
    assert f"(3/{total})" in chat.last.text
    await chat.text("/tiendo")  # wanders off
    await chat.text("/menu")
    resume = chat.last.choices[0]
    assert resume.label == f"▶ Học tiếp: {lesson.title}, thẻ 3/{total}"
    await chat.choose(resume.id)
    assert chat.last.text.startswith(f"📘 {lesson.title} (3/{total})")
    assert lesson.cards[2].text in chat.last.text
    # Going back a card and leaving again resumes there: the place, not the furthest card.
    await chat.choose("prev")
    await chat.text("/baihoc")
    await chat.choose(f"t:{lesson.topic}")
    await chat.choose(f"l:{lesson.id}")  # from the catalogue too
    assert f"(2/{total})" in chat.last.text


async def test_the_place_survives_a_restart_of_the_bot(db_url, tmp_path, clock):
    first = await make_app(db_url, tmp_path, clock)
    lesson = lessons(first)[0]
    chat = Chat(first)
    await chat.onboard()
    await open_from_menu(chat, lesson.id)
    await chat.choose("next")
    await first.close()
    second = await make_app(db_url, tmp_path, clock)
    try:
        chat.app = second
        await chat.text("/menu")
        assert chat.last.choices[0].label.endswith(f"thẻ 2/{len(lesson.cards)}")
        await chat.choose(chat.choice_ids[0])
        assert f"(2/{len(lesson.cards)})" in chat.last.text
    finally:
        await second.close()


async def test_leaving_a_quiz_at_question_3_resumes_it_with_the_same_options(app):
    lesson = lessons(app)[0]
    quiz = app.engine.services.curriculum.quizzes[lesson.id]
    chat = Chat(app)
    await chat.onboard()
    await into_quiz(chat, lesson.id, answered=2)
    shown = chat.last
    assert f"Câu 3/{len(quiz.questions)}" in shown.text
    await chat.text("/menu")
    resume = chat.last.choices[0]
    assert resume.label == f"▶ Học tiếp: {lesson.title}, câu hỏi 3/{len(quiz.questions)}"
    await chat.choose(resume.id)
    assert chat.last.text == shown.text
    assert chat.last.choices == shown.choices  # same options in the same order
    for _ in range(len(quiz.questions) - 2):
        await chat.choose(chat.choice_ids[0])
    assert "câu" in chat.last.text and str(len(quiz.questions)) in chat.last.text
    async with app.database.session() as session:
        attempt = await session.scalar(select(QuizAttempt))
    assert len(attempt.answers) == len(quiz.questions)  # the two before the pause count
    # Finished: nothing left to resume; "Học tiếp" no longer names a question.
    assert await count(app, ResumePoint, ResumePoint.slot == f"lesson:{lesson.id}") == 0


async def test_a_half_done_visit_entry_is_offered_again_in_the_team_tools(app):
    await add_households(app, "T01", [("H001", "Lê Văn Cường")])
    hid = await household_id(app, "T01", "H001")
    member = await onboarded(app, "mem", "member")
    await member.text("/to")
    await member.choose("visit")
    await member.choose(f"h:{hid}")
    await member.choose("s:vneid_install")
    await member.choose("s:cashless")
    await member.text("/menu")  # a resident calls; the form is left half-done
    await member.text("/to")
    first = member.last.choices[0]
    assert first.label == "▶ Ghi tiếp lần hỗ trợ hộ H001 · Lê Văn Cường"
    await member.choose(first.id)
    ticked = [c.label for c in member.last.choices if c.label.startswith("✅")]
    assert ticked == ["✅ Cài VNeID", "✅ Thanh toán không tiền mặt"]
    await member.choose("done")
    await member.choose("skip")
    assert "Đã ghi lần hỗ trợ hộ H001" in member.all_text()
    await member.text("/to")
    assert "resume_visit" not in member.choice_ids  # saved: nothing to resume


# --------------------------------------------------------------------------- versions


async def test_a_quiz_shortened_under_a_resident_on_its_last_question(app):
    """6 questions -> 5 while a resident is on question 6: one friendly sentence, the
    quiz again from question 1, never the error text; finished attempts stay as they
    were."""
    lesson = lessons(app)[0]
    quiz = app.engine.services.curriculum.quizzes[lesson.id]
    done = Chat(app, user="done")
    await done.onboard()
    await done.read_lesson(lesson.id)
    await done.take_quiz(lesson.id)
    async with app.database.session() as session:
        before = [(a.score, a.total, a.answers) for a in await session.scalars(select(QuizAttempt))]
    quiz_kinds = ParticipationEvent.kind.in_(("quiz_passed", "quiz_failed"))
    events_before = await count(app, ParticipationEvent, quiz_kinds)

    tapping, typing = Chat(app, user="tap"), Chat(app, user="type")
    for chat in (tapping, typing):
        await chat.onboard()
        await into_quiz(chat, lesson.id, answered=len(quiz.questions) - 1)
        assert f"Câu {len(quiz.questions)}/{len(quiz.questions)}" in chat.last.text
    last_option = tapping.choice_ids[-1]
    use(app, with_quiz(app.engine.services.curriculum, lesson.id, quiz.questions[:-1]))

    await tapping.choose(last_option)
    await typing.text("1")
    for chat in (tapping, typing):
        no_error(chat)
        assert UPDATED in chat.all_text()
        assert f"Câu 1/{len(quiz.questions) - 1}" in chat.last.text
        await chat.text("1")  # and the quiz goes on
        no_error(chat)
        assert f"Câu 2/{len(quiz.questions) - 1}" in chat.last.text
    async with app.database.session() as session:
        after = [(a.score, a.total, a.answers) for a in await session.scalars(select(QuizAttempt))]
    assert after == before  # the finished attempt is not rewritten
    assert await count(app, ParticipationEvent, quiz_kinds) == events_before  # none made up


async def test_options_reordered_by_an_edit_restart_the_quiz_rather_than_misgrade(app):
    lesson = lessons(app)[0]
    quiz = app.engine.services.curriculum.quizzes[lesson.id]
    chat = Chat(app)
    await chat.onboard()
    await into_quiz(chat, lesson.id, answered=0)
    question = quiz.questions[0]
    swapped = replace(question, options=tuple(reversed(question.options)))
    use(app, with_quiz(app.engine.services.curriculum, lesson.id, (swapped, *quiz.questions[1:])))
    await chat.choose(chat.choice_ids[0])
    no_error(chat)
    assert UPDATED in chat.all_text()
    assert "Đúng rồi" not in chat.all_text() and "Chưa đúng" not in chat.all_text()
    assert f"Câu 1/{len(quiz.questions)}" in chat.last.text


async def test_a_lesson_removed_under_residents_mid_way(app):
    lesson = lessons(app)[0]
    reading, quizzing, finished = Chat(app, user="r"), Chat(app, user="q"), Chat(app, user="f")
    for chat in (reading, quizzing, finished):
        await chat.onboard()
    await open_from_menu(reading, lesson.id)
    await reading.choose("next")
    await into_quiz(quizzing, lesson.id, answered=2)
    await finished.read_lesson(lesson.id)
    await finished.take_quiz(lesson.id)
    passed_before = await count(
        app, ParticipationEvent, ParticipationEvent.kind.in_(("quiz_passed", "quiz_failed"))
    )
    use(app, without(app.engine.services.curriculum, lesson.id))

    await reading.choose("next")
    await quizzing.text("2")
    await finished.send(Kind.MEDIA, payload="sticker")
    for chat in (reading, quizzing, finished):
        no_error(chat)
        assert REMOVED in chat.all_text()
        assert chat.last.choices and "catalogue" not in chat.choice_ids  # the catalogue
        assert f"t:{lesson.topic}" in chat.choice_ids or "menu" in chat.choice_ids
        await chat.text("/menu")
        no_error(chat)
        assert f"l:{lesson.id}" not in chat.choice_ids
    assert await count(app, QuizAttempt) == 1
    assert (
        await count(
            app, ParticipationEvent, ParticipationEvent.kind.in_(("quiz_passed", "quiz_failed"))
        )
        == passed_before
    )


async def test_a_stale_place_to_resume_opens_the_edited_lesson_from_its_start(app):
    lesson = lessons(app)[0]
    chat = Chat(app)
    await chat.onboard()
    await open_from_menu(chat, lesson.id)
    await chat.choose("next")
    await chat.choose("next")
    await chat.text("/menu")
    rewritten = [Card(text=f"Nội dung mới {n}") for n in range(1, 4)]
    use(app, with_cards(app.engine.services.curriculum, lesson.id, rewritten))
    await chat.text("/menu")
    # The card it would have named no longer exists: a plain "Học tiếp".
    assert chat.last.choices[0].label == f"▶ Học tiếp: {lesson.title}"
    await chat.choose(chat.choice_ids[0])
    no_error(chat)
    assert UPDATED in chat.all_text()
    assert chat.last.text.startswith(f"📘 {lesson.title} (1/3)")
    assert "Nội dung mới 1" in chat.last.text


async def test_deleting_ones_data_deletes_where_one_stopped(app):
    await add_households(app, "T01", [("H001", "Lê Văn Cường")])
    member = await onboarded(app, "mem", "member")
    await member.text("/to")
    await member.choose("visit")
    await member.choose(f"h:{await household_id(app, 'T01', 'H001')}")  # a household named
    lesson = lessons(app)[0]
    await open_from_menu(member, lesson.id)
    assert await count(app, ResumePoint) == 2
    await member.text("/xoadulieu")
    await member.choose("yes")
    assert await count(app, ResumePoint) == 0


async def test_the_place_follows_the_learner_to_a_second_messenger(app):
    from tests.test_linking import ask_code

    lesson = lessons(app)[0]
    telegram = Chat(app, user="tg-1", channel="telegram")
    await telegram.onboard()
    zalo = Chat(app, user="z-1", channel="zalo")
    await zalo.onboard()
    await open_from_menu(zalo, lesson.id)
    await zalo.choose("next")
    await zalo.choose("next")
    await zalo.text(await ask_code(telegram))  # zalo's learner joins telegram's
    assert "Liên kết thành công" in zalo.all_text()
    await telegram.text("/menu")
    assert telegram.last.choices[0].label.endswith(f"thẻ 3/{len(lesson.cards)}")
    await telegram.choose(telegram.choice_ids[0])
    assert f"(3/{len(lesson.cards)})" in telegram.last.text
