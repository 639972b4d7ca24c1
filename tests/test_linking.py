"""/lienket: one learner on two messengers, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.core.screens.linking import typed_code
from storage.delivery_models import LinkCode
from storage.models import (
    ChannelAccount,
    ConsentRecord,
    LessonProgress,
    ParticipationEvent,
    Person,
    QuizAttempt,
)
from tests.support import Chat, make_app

CODE_SHOWN = re.compile(r"\b(\d{3}) (\d{3})\b")

# One learner per group of linked accounts: the query the commune reports rely on.
LEARNERS = text(
    "SELECT count(DISTINCT coalesce(p.merged_into_person_id, p.id)) FROM people p"
    " WHERE EXISTS (SELECT 1 FROM participation_events e WHERE e.person_id = p.id)"
)


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def telegram_learner(app, user: str = "tg-1") -> Chat:
    chat = Chat(app, user=user, channel="telegram", name="Bà Lan")
    await chat.onboard()
    return chat


async def ask_code(chat: Chat) -> str:
    await chat.text("/lienket")
    found = CODE_SHOWN.search(chat.last.text)
    assert found, chat.last.text
    return found.group(1) + found.group(2)


def other_code(code: str, k: int = 1) -> str:
    return f"{(int(code) + k) % 1_000_000:06d}"


async def scalar(app, query):
    async with app.database.session() as session:
        return await session.scalar(query)


async def account(app, channel: str, user: str) -> ChannelAccount:
    return await scalar(
        app,
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == user
        ),
    )


async def learners(app) -> int:
    async with app.database.session() as session:
        return int((await session.execute(LEARNERS)).scalar_one())


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        ("1 2 3 4 5 6", "123456"),
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("١٢٣٤٥٦", None),  # other scripts' digits are not codes
    ],
)
def test_a_code_is_exactly_six_digits_spaces_allowed(typed, expected):
    assert typed_code(typed) == expected


async def test_lienket_needs_consent(app):
    chat = Chat(app, user="tg-x", channel="telegram")
    await chat.start()
    await chat.text("/lienket")
    assert "cần đồng ý" in chat.all_text()
    assert await scalar(app, select(func.count()).select_from(LinkCode)) == 0


async def test_code_is_shown_with_instructions_and_kept_while_it_works(app, clock):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    assert "10 phút" in tg.last.text
    assert "Zalo" in tg.last.text  # where to send it
    clock.advance(minutes=4)
    assert await ask_code(tg) == code  # asking again shows the same working code
    assert "6 phút" in tg.last.text
    clock.advance(minutes=6)
    await ask_code(tg)  # expired: a new one is issued
    assert await scalar(app, select(func.count()).select_from(LinkCode)) == 2


async def test_a_new_zalo_account_joins_the_learner(app, clock):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    clock.advance(minutes=9, seconds=59)
    zalo = Chat(app, user="z-1", channel="zalo", name="Lan")
    await zalo.text(f"{code[:3]} {code[3:]}")
    said = zalo.all_text()
    assert "Liên kết thành công" in said
    assert "Trang chính" in zalo.last.text  # straight to the main menu
    linked = await account(app, "zalo", "z-1")
    tg_account = await account(app, "telegram", "tg-1")
    assert linked.person_id == tg_account.person_id
    assert await scalar(app, select(func.count()).select_from(Person)) == 1
    agreed = select(func.count()).select_from(ConsentRecord)
    assert await scalar(app, agreed.where(ConsentRecord.answer == "agreed")) == 2
    assert (await scalar(app, select(LinkCode))).used_at is not None
    await zalo.text("/dulieu")  # the learner sees both messengers
    assert "Telegram" in zalo.last.text and "Zalo" in zalo.last.text


async def test_a_code_expires_after_ten_minutes(app, clock):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    clock.advance(minutes=10)
    zalo = Chat(app, user="z-1", channel="zalo")
    await zalo.text(code)
    assert "hết hạn" in zalo.all_text()
    assert "Đồng ý" in [c.label for c in zalo.last.choices]  # the newcomer is welcomed
    assert (await account(app, "zalo", "z-1")).person_id is None


async def test_a_used_code_is_refused(app):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    await Chat(app, user="z-1", channel="zalo").text(code)
    other = Chat(app, user="z-2", channel="zalo")
    await other.text(code)
    assert "đã được dùng" in other.all_text()
    assert (await account(app, "zalo", "z-2")).person_id is None


async def test_a_code_from_the_same_messenger_is_refused_with_an_explanation(app):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    await tg.text(code)  # typed back where it was shown
    assert "trên chính Telegram" in tg.all_text()
    assert "Zalo" in tg.all_text()
    tg2 = await telegram_learner(app, user="tg-2")
    await tg2.text(code)
    assert "trên chính Telegram" in tg2.all_text()
    persons = {(await account(app, "telegram", u)).person_id for u in ("tg-1", "tg-2")}
    assert len(persons) == 2  # nothing was joined
    zalo = Chat(app, user="z-1", channel="zalo")
    await zalo.text(code)  # and the code still works where it belongs
    assert "Liên kết thành công" in zalo.all_text()


async def test_five_wrong_codes_lock_the_account_for_fifteen_minutes(app, clock):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    zalo = Chat(app, user="z-1", channel="zalo")
    for k in range(1, 5):
        await zalo.text(other_code(code, k))
        assert "chưa đúng" in zalo.all_text()
        clock.advance(minutes=1)
    await zalo.text(other_code(code, 5))
    assert "sai mã nhiều lần" in zalo.all_text()
    assert "15 phút" in zalo.all_text()
    await zalo.text(code)  # even the right code is refused while locked
    assert "sai mã nhiều lần" in zalo.all_text()
    assert (await account(app, "zalo", "z-1")).person_id is None
    clock.advance(minutes=14)
    await zalo.text(code)
    assert "sai mã nhiều lần" in zalo.all_text()
    clock.advance(minutes=1)  # 15 minutes after the fifth wrong code
    fresh = await ask_code(tg)  # the first one has expired meanwhile
    await zalo.text(fresh)
    assert "Liên kết thành công" in zalo.all_text()


async def test_wrong_codes_spread_over_more_than_fifteen_minutes_do_not_lock(app, clock):
    tg = await telegram_learner(app)
    zalo = Chat(app, user="z-1", channel="zalo")
    for k in range(1, 6):
        await zalo.text(f"{k:06d}")
        clock.advance(minutes=4)
    code = await ask_code(tg)
    await zalo.text(code)
    assert "Liên kết thành công" in zalo.all_text()


async def test_merge_keeps_the_better_state_of_each_lesson(app, clock):
    lessons = list(app.engine.services.curriculum.lessons.values())
    one, two, three, four = (lesson.id for lesson in lessons[:4])
    tg = await telegram_learner(app)
    zalo = Chat(app, user="z-1", channel="zalo", name="Lan Zalo")
    await zalo.onboard(village="v:T02")
    target = (await account(app, "telegram", "tg-1")).person_id
    source = (await account(app, "zalo", "z-1")).person_id
    now = clock.now
    done = now - timedelta(days=1)
    async with app.database.transaction() as session:
        session.add_all(
            [
                # target: one started, two passed, four completed
                LessonProgress(person_id=target, lesson_id=one, started_at=now),
                LessonProgress(
                    person_id=target,
                    lesson_id=two,
                    started_at=done,
                    completed_at=done,
                    passed_at=done,
                    card_index=3,
                ),  # fmt: skip
                LessonProgress(person_id=target, lesson_id=four, started_at=now, completed_at=now),
                # source: one passed, two started, three completed, four started
                LessonProgress(
                    person_id=source,
                    lesson_id=one,
                    started_at=done,
                    completed_at=done,
                    passed_at=done,
                    card_index=3,
                ),  # fmt: skip
                LessonProgress(person_id=source, lesson_id=two, started_at=now),
                LessonProgress(
                    person_id=source, lesson_id=three, started_at=done, completed_at=done
                ),
                LessonProgress(person_id=source, lesson_id=four, started_at=done),
                QuizAttempt(
                    person_id=source,
                    lesson_id=one,
                    answers=[],
                    score=3,
                    total=3,
                    passed=True,
                    started_at=done,
                    finished_at=done,
                ),  # fmt: skip
            ]
        )
    source_events = await scalar(
        app,
        select(func.count())
        .select_from(ParticipationEvent)
        .where(ParticipationEvent.person_id == source),
    )
    assert await learners(app) == 2

    code = await ask_code(tg)
    await zalo.text(code)
    assert "gộp chung" in zalo.all_text()

    async with app.database.session() as session:
        rows = {
            row.lesson_id: row
            for row in await session.scalars(
                select(LessonProgress).where(LessonProgress.person_id == target)
            )
        }
        left = await session.scalar(
            select(func.count())
            .select_from(LessonProgress)
            .where(LessonProgress.person_id == source)
        )
        merged = await session.get(Person, source)
        attempts = await session.scalar(
            select(func.count()).select_from(QuizAttempt).where(QuizAttempt.person_id == target)
        )
        events_after = await session.scalar(
            select(func.count())
            .select_from(ParticipationEvent)
            .where(ParticipationEvent.person_id == source)
        )
    assert rows[one].passed_at is not None and rows[one].started_at == done
    assert rows[two].passed_at is not None  # the target's pass is kept
    assert rows[three].completed_at is not None and rows[three].passed_at is None
    assert rows[four].completed_at is not None and rows[four].started_at == done
    assert left == 0
    assert attempts == 1
    assert merged.merged_into_person_id == target
    assert merged.display_name is None  # no second copy of the name is kept
    assert events_after == source_events  # the event log is append-only
    assert await learners(app) == 1

    await zalo.text("/tiendo")
    progress = zalo.last.text
    assert f"✅ {lessons[0].title}" in progress
    assert f"✅ {lessons[1].title}" in progress
    assert f"📖 {lessons[2].title}" in progress
    assert "đạt 2/" in progress


async def test_a_code_for_an_already_linked_account_says_so(app):
    tg = await telegram_learner(app)
    zalo = Chat(app, user="z-1", channel="zalo")
    await zalo.text(await ask_code(tg))
    await zalo.text(await ask_code(tg))
    assert "đã được liên kết rồi" in zalo.all_text()
    assert await scalar(app, select(func.count()).select_from(Person)) == 1


async def test_a_deleted_learners_code_is_refused(app):
    tg = await telegram_learner(app)
    code = await ask_code(tg)
    await tg.text("/xoadulieu")
    await tg.choose("yes")
    zalo = Chat(app, user="z-1", channel="zalo")
    await zalo.text(code)
    assert "chưa đúng" in zalo.all_text()
    assert (await account(app, "zalo", "z-1")).person_id is None


async def test_merges_stay_one_level_deep_so_a_learner_counts_once(app):
    tg = await telegram_learner(app)
    zalo = Chat(app, user="z-1", channel="zalo")
    await zalo.onboard()
    await zalo.text(await ask_code(tg))  # zalo's learner joins telegram's
    console = Chat(app, user="c-1", channel="console")
    await console.onboard()
    await tg.text(await ask_code(console))  # then telegram's joins console's
    assert "Liên kết thành công" in tg.all_text()
    async with app.database.session() as session:
        people = list(await session.scalars(select(Person).order_by(Person.id)))
    root = (await account(app, "console", "c-1")).person_id
    assert {p.merged_into_person_id for p in people if p.id != root} == {root}
    assert await learners(app) == 1
