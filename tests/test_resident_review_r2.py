"""What a 65-year-old resident met in the console chat, on SQLite and PostgreSQL: ages
typed as numbers, /nhacnho with its hour, numbers off the list, "ok" on a lesson card,
/web in the help, the data notice matching /dulieu, no placeholder name, natural
ask-backs."""

from __future__ import annotations

import re

import pytest

from storage.delivery_models import ReminderState
from tests.support import Chat, make_app
from tests.team_support import onboarded, person_of


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def to_age_screen(chat: Chat) -> None:
    await chat.start()
    await chat.choose("agree")
    await chat.choose("v:T01")
    assert "nhóm tuổi" in chat.last.text


# ----------------------------------------------------------------- item 1: ages


@pytest.mark.parametrize(
    ("typed", "group"),
    [
        ("65", "tu60"),
        ("65 tuoi", "tu60"),
        ("toi 65 tuoi", "tu60"),
        ("tren 60", "tu60"),
        ("gia", "tu60"),
        ("42 tuổi", "35-59"),
        ("3", "tu60"),  # the third line, never a three-year-old
    ],
)
async def test_an_age_typed_as_a_number_picks_its_group(app, typed, group):
    chat = Chat(app, user=f"age-{typed}")
    await to_age_screen(chat)
    await chat.text(typed)
    assert "Mình chưa hiểu" not in chat.all_text()
    assert (await person_of(app, chat)).age_group == group


# ----------------------------------------------------------------- item 2: /nhacnho


async def reminder_hour(app, chat: Chat) -> int | None:
    person = await person_of(app, chat)
    async with app.database.session() as session:
        state = await session.get(ReminderState, person.id)
        return state.hour if state else None


async def test_an_hour_given_with_the_command_is_set_and_said_in_words(app):
    chat = Chat(app, user="hour-cmd")
    await chat.onboard()
    await chat.text("/nhacnho 9 giờ tối")  # read, and refused: quiet hours start at 21h
    assert "giờ nghỉ (từ 9 giờ tối đến 7 giờ sáng)" in chat.all_text()
    await chat.text("/nhacnho 8 giờ tối")
    assert "Bot sẽ nhắc bạn lúc 8 giờ tối mỗi ngày" in chat.all_text()
    assert await reminder_hour(app, chat) == 20
    await chat.text("/nhacnho 6 gio chieu")
    assert "Bot sẽ nhắc bạn lúc 6 giờ chiều mỗi ngày" in chat.all_text()
    assert await reminder_hour(app, chat) == 18
    labels = [c.label.removeprefix("✅ ") for c in chat.last.choices]
    assert "5 giờ chiều" in labels and "7 giờ tối" in labels  # one wording for hours
    await chat.text("/nhacnho mai nhé")
    assert "Mình chưa hiểu giờ" in chat.all_text() and await reminder_hour(app, chat) == 18


# ----------------------------------------------------------------- item 3: numbers


async def test_numbers_off_the_list_say_which_numbers_there_are(app):
    chat = Chat(app, user="nums")
    await chat.start()
    await chat.text("-1")  # not "Đồng ý"
    assert "Bạn gõ số từ 1 đến 3 nhé" in chat.all_text()
    assert chat.choice_ids[0] == "agree" and "Cảm ơn bạn đã đồng ý" not in chat.all_text()
    await chat.choose("agree")
    count = len(chat.last.choices)
    await chat.text("12")
    assert f"Bạn gõ số từ 1 đến {count} nhé" in chat.all_text()
    assert (await person_of(app, chat)).village_id is None


async def test_a_quiz_answer_number_off_the_list(app):
    chat = Chat(app, user="quiz-num")
    await chat.onboard()
    lesson_id = next(iter(app.engine.services.curriculum.lessons))
    await chat.read_lesson(lesson_id)
    options = len(app.engine.services.curriculum.quizzes[lesson_id].questions[0].options)
    question = chat.last.text
    await chat.text(str(options + 1))
    assert f"Bạn gõ số từ 1 đến {options} nhé" in chat.all_text()
    assert chat.last.text == question  # the same question, nothing graded


# ----------------------------------------------------------------- item 4: forward


async def test_yes_words_go_forward_on_a_lesson_card(app):
    chat = Chat(app, user="forward")
    await chat.onboard()
    lesson = next(iter(app.engine.services.curriculum.lessons.values()))
    await chat.text("/baihoc")
    await chat.choose(f"t:{lesson.topic}")
    await chat.choose(f"l:{lesson.id}")
    for typed in ("ok", "vâng ạ", "👍", "tiếp", "đọc tiếp"):
        if "next" not in chat.choice_ids:
            break
        shown = int(re.search(r"\((\d+)/", chat.last.text)[1])
        await chat.text(typed)
        assert f"({shown + 1}/" in chat.last.text, typed


# ----------------------------------------------------------------- item 5: /web


async def test_help_lists_web_for_staff_and_web_says_ban(app):
    resident = await onboarded(app, "r")
    member = await onboarded(app, "m", "member")
    for chat in (resident, member):
        await chat.text("/huongdan")
    assert "/web" in member.last.text and "/web" not in resident.last.text
    await member.text("/web")
    assert "anh/chị" not in member.all_text() and "chỉ cho riêng bạn" in member.all_text()


# ----------------------------------------------------------------- items 6 and 7: my data


async def test_my_data_shows_what_the_notice_lists_and_no_placeholder_name(app):
    chat = Chat(app, user="console", name="Bạn")  # the console's default name
    await chat.start()
    notice = chat.last.text
    await chat.choose("agree")
    await chat.choose("v:T01")
    await chat.choose("age:tu60")
    await chat.text("/dulieu")
    shown = chat.last.text
    assert "Số điện thoại" not in shown and "số điện thoại" not in notice.lower()
    assert "Tên hiển thị: (chưa có)" in shown
    pairs = {
        "Tên hiển thị": "tên hiển thị",
        "Kênh": "kênh bạn dùng",
        "Thôn": "thôn/tổ",
        "Nhóm tuổi": "nhóm tuổi",
        "Mã hộ": "mã hộ",
        "Bài đã học": "bài đã học",
        "Kết quả bài kiểm tra": "kết quả bài kiểm tra",
        "Câu hỏi đã gửi cán bộ": "câu hỏi bạn gửi cán bộ",
        "Ngày đồng ý": "ngày bạn đồng ý",
    }
    lines = [line.removeprefix("• ").split(":")[0] for line in shown.splitlines()[1:]]
    assert lines == list(pairs)
    assert all(item in notice for item in pairs.values())
    await chat.start()
    assert "Chào mừng bạn quay lại! 👋" in chat.all_text()


async def test_a_real_name_is_still_greeted(app):
    chat = Chat(app, user="named", name="Bà Lan")
    await chat.onboard()
    await chat.start()
    assert "Chào mừng Bà Lan quay lại! 👋" in chat.all_text()


# ----------------------------------------------------------------- item 8: wording


async def test_ask_back_lists_candidates_as_spoken(app):
    chat = Chat(app, user="ask")
    await to_age_screen(chat)
    await chat.text("tuoi")  # every group says "tuổi"
    assert (
        "“Dưới 35 tuổi” (số 1), “Từ 35 đến 59 tuổi” (số 2) hay “Từ 60 tuổi trở lên” (số 3)?"
        in chat.all_text()
    )


async def test_the_legend_is_shown_only_beside_marks(app):
    chat = Chat(app, user="legend")
    await chat.onboard()
    await chat.text("/baihoc")
    assert "▫️ chưa học" not in chat.last.text
    topic = chat.choice_ids[0]
    await chat.choose(topic)
    assert "▫️ chưa học" in chat.last.text and "▫️" in chat.last.text.splitlines()[1]
