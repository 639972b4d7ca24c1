"""Issue 11, items 2, 4 and 5, as a resident meets them, on SQLite and PostgreSQL:
typed answers understood (or asked back), household codes that do not leak, and the
small things people expect (a way back, age in /dulieu, help per role, invites)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.team.invites import create_invite
from storage import team_repo
from storage.models import ChannelAccount
from storage.team_models import Household, SupportVisit
from tests.support import Chat, make_app
from tests.team_support import (
    add_households,
    household_id,
    onboarded,
    person_of,
    resident_code,
)


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


# ----------------------------------------------------------------- item 2: typing


async def test_a_resident_signs_up_and_starts_learning_by_typing_only(app):
    chat = Chat(app, user="typist")
    await chat.start()
    await chat.text("dongy")  # telex without the space
    assert "Cảm ơn bạn đã đồng ý" in chat.all_text() and "thôn nào" in chat.last.text
    await chat.text("dong")  # Thôn Đông or Thôn Đồng Mới? asked back, nothing chosen
    assert "Bạn ở “Thôn Đông” hay “Thôn Đồng Mới”?" in chat.all_text()
    assert "thôn nào" in chat.last.text and (await person_of(app, chat)).village_id is None
    await chat.text("9")  # a number is a line of the page shown: "Trang sau ▶"
    assert "(Trang 2/2)" in chat.last.text
    await chat.text("số 1")  # the first line of this page
    assert (await person_of(app, chat)).village_id is not None
    await chat.text("/dulieu")
    await chat.choose("village")
    await chat.text("go cao")  # on the first page, Gò Cao is on the second: still found
    assert "Đã đổi sang Thôn Gò Cao" in chat.all_text()
    await chat.text("/dulieu")
    await chat.choose("age")
    await chat.text("60 ạ")
    assert (await person_of(app, chat)).age_group == "tu60"
    await chat.text("/menu")
    await chat.text("hoc bai")  # the menu's "▶ Học bài: ..."
    assert chat.last.text.startswith("📘") and "(1/" in chat.last.text
    await chat.text("tieeps")  # "tiếp" with its telex keys left in
    assert "(2/" in chat.last.text


async def test_yes_and_no_words_on_confirmations(app):
    chat = Chat(app, user="yn")
    await chat.onboard()
    await chat.text("/xoadulieu")
    await chat.text("xóa")  # both answers say "xóa": asked, nothing deleted
    assert "“Có, xóa đi” (số 1) hay “Không xóa” (số 2)" in chat.all_text()
    await chat.text("thôi")
    assert "vẫn được giữ nguyên" in chat.all_text()
    await chat.text("/xoadulieu")
    await chat.text("Có ạ")
    assert "Đã xóa dữ liệu" in chat.all_text()


async def test_reminder_hours_typed_in_words_and_numbers_as_lines(app):
    chat = Chat(app, user="hours")
    await chat.onboard()
    await chat.text("/nhacnho")
    assert "7 giờ tối" in [c.label.removeprefix("✅ ") for c in chat.last.choices]
    await chat.text("8 giờ tối")
    assert "Bot sẽ nhắc bạn lúc 8 giờ tối mỗi ngày" in chat.all_text()
    await chat.text("7h tối")
    assert "lúc 7 giờ tối mỗi ngày" in chat.all_text()
    await chat.text("7")  # the 7th line, "🔕 Tắt nhắc nhở", never 7 o'clock
    assert "Đã tắt nhắc nhở" in chat.all_text()
    await chat.text("8")  # the 8th line: the main menu
    assert chat.last.text.startswith("🏠 Trang chính")


# ----------------------------------------------------------------- item 4: households


async def _visit(app, clock, household: str, member: Chat) -> None:
    """A member logs a visit to `household` of T01."""
    await member.text("/to")
    await member.choose("visit")
    await member.choose(f"h:{await household_id(app, 'T01', household)}")
    await member.choose("s:vneid_level2")
    await member.choose("done")
    await member.choose("skip")
    clock.advance(minutes=1)


async def test_list_codes_do_not_work_and_guessing_is_throttled(app, clock):
    await add_households(app, "T01", [("H001", "Lê Văn Cường"), ("H002", "Trần Thị Bình")])
    member = await onboarded(app, "mem", "member")
    await _visit(app, clock, "H001", member)
    mine = await resident_code(app, "T01", "H001")
    assert f"Mã để người trong hộ gõ vào /ho: {mine}" in member.all_text()  # team sees it

    neighbour = await onboarded(app, "neighbour")
    await neighbour.text("/ho")
    await neighbour.text("H001")  # the sequential list code: not accepted, nothing shown
    assert "Không tìm thấy mã hộ “H001”" in neighbour.all_text()
    assert "VNeID" not in neighbour.all_text()
    await neighbour.text("H002")
    await neighbour.text("ABCDEF")
    assert "sai mã hộ 3 lần" in neighbour.all_text() and "15 phút" in neighbour.all_text()
    await neighbour.text(await resident_code(app, "T01", "H002"))  # even a right one waits
    assert "sai mã hộ 3 lần" in neighbour.all_text()
    assert (await person_of(app, neighbour)).household_id is None

    clock.advance(minutes=16)
    await neighbour.text(mine.lower()[:3] + " " + mine.lower()[3:])  # spaced, lower case
    assert f"Đã ghi bạn thuộc hộ {mine}" in neighbour.all_text()
    assert neighbour.choice_ids == ["vok", "vno"]  # their own household's visit


async def test_only_someone_of_the_household_sees_or_confirms_its_visit(app, clock):
    await add_households(app, "T01", [("H001", None), ("H002", None)])
    member = await onboarded(app, "mem", "member")
    await _visit(app, clock, "H001", member)
    async with app.database.session() as session:
        visit = await session.scalar(select(SupportVisit))
    outsider = await onboarded(app, "outsider")
    await outsider.text("/ho")
    await outsider.text(await resident_code(app, "T01", "H002"))
    # A stale or forged confirmation screen for another household's visit:
    async with app.database.transaction() as session:
        account = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == "outsider")
        )
        account.screen = {
            "name": "visit_confirm",
            "args": {"visit": visit.id},
            "offered": [["vok", "Có"], ["vno", "Không"]],
        }
    await outsider.choose("vok")
    assert "Cảm ơn bạn đã xác nhận" not in outsider.all_text()
    assert "VNeID" not in outsider.all_text()
    async with app.database.session() as session:
        assert (await session.get(SupportVisit, visit.id)).verified_at is None


async def test_new_households_get_distinct_random_codes(app, clock):
    await add_households(app, "T01", [(f"H{n:03d}", None) for n in range(1, 41)])
    async with app.database.session() as session:
        codes = list(await session.scalars(select(Household.resident_code)))
    assert len(set(codes)) == 40
    assert all(len(c) == 6 and not set(c) & set("0O1IL") for c in codes)


async def test_the_commune_prints_each_households_code(app, db_url, tmp_path):
    from tests.test_import import invoke

    await add_households(app, "T01", [("H001", "Lê Văn Cường"), ("H002", None)])
    await add_households(app, "T02", [("H001", "Trần Thị Bình")])
    out = tmp_path / "ma-ho.csv"
    result = await invoke(
        db_url, tmp_path, "households", "codes", "--village", "T01", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "Đã ghi 2 mã hộ vào" in result.output
    lines = out.read_text("utf-8-sig").splitlines()
    assert lines[0] == "Mã thôn,Mã hộ,Chủ hộ,Mã cho người dân"
    assert lines[1] == f"T01,H001,Lê Văn Cường,{await resident_code(app, 'T01', 'H001')}"
    assert len(lines) == 3


async def test_a_village_without_a_household_list_offers_skip(app):
    chat = await onboarded(app, "no-list", village="T02")
    await chat.text("/ho")
    assert "chưa có danh sách hộ" in chat.last.text and chat.choice_ids == ["skip"]
    await chat.text("H015")
    assert "chưa có danh sách hộ" in chat.all_text() and chat.choice_ids == ["skip"]
    await chat.text("bo qua")
    assert chat.last.text.startswith("🏠 Trang chính")


# ----------------------------------------------------------------- item 5: small things


async def test_the_village_list_has_a_way_back(app):
    chat = Chat(app, user="back")
    await chat.start()
    await chat.choose("agree")
    assert chat.choice_ids[-1] == "back" and chat.last.choices[-1].label == "◀ Quay lại"
    await chat.text("quay lai")
    assert chat.last.text.startswith("🏠 Trang chính")
    await chat.text("/dulieu")
    await chat.choose("village")
    await chat.choose("back")
    assert chat.last.text.startswith("🔒 Dữ liệu bot đang lưu")


async def test_age_group_is_changed_in_my_data(app):
    chat = Chat(app, user="age")
    await chat.onboard(age="age:skip")
    await chat.text("/dulieu")
    assert "Nhóm tuổi: (chưa có)" in chat.last.text
    await chat.text("doi nhom tuoi")
    assert "◀ Quay lại" in [c.label for c in chat.last.choices]
    await chat.text("duoi 35")
    assert "Đã đổi nhóm tuổi: Dưới 35 tuổi" in chat.all_text()
    assert "Nhóm tuổi: Dưới 35 tuổi" in chat.last.text  # back on /dulieu
    assert (await person_of(app, chat)).age_group == "duoi35"


async def test_help_lists_the_commands_each_person_has(app):
    resident = await onboarded(app, "r")
    member = await onboarded(app, "m", "member")
    admin = await onboarded(app, "a", "commune_admin")
    for chat in (resident, member, admin):
        await chat.text("/huongdan")
    assert "/nhacnho" in resident.last.text
    assert "/to" not in resident.last.text and "/quantri" not in resident.last.text
    assert "/to:" in member.last.text and "/cauhoi" in member.last.text
    assert "/quantri" not in member.last.text
    assert "/quantri" in admin.last.text and "/to:" not in admin.last.text


async def test_an_invite_sent_again_gets_a_clear_answer(app, clock):
    commune_id = app.engine.services.communes.only.id
    async with app.database.transaction() as session:
        team = await team_repo.team_by_code(session, commune_id, "TCN-T03")
        info = await create_invite(
            session,
            role="member",
            commune_id=commune_id,
            team=team,
            uses=1,
            days=7,
            actor="cli:test",
            now=clock(),
        )
    joiner = Chat(app, user="joiner")
    await joiner.start(info.payload)
    await joiner.choose("agree")
    assert "Chào mừng bạn tham gia" in joiner.all_text()
    await joiner.text("/tiendo")
    await joiner.text(info.code)  # sent again on Zalo by the one who used it
    assert "Bạn đã có vai trò này rồi" in joiner.all_text()
    assert joiner.last.text.startswith("🧰")  # the team tools, not the progress screen

    resident = await onboarded(app, "other")
    await resident.text("/tiendo")
    await resident.text(info.code)
    assert "Mã mời này đã được dùng hết lượt" in resident.all_text()
    assert resident.last.text.startswith("🏠 Trang chính")

    async with app.database.transaction() as session:
        late = await create_invite(
            session,
            role="member",
            commune_id=commune_id,
            team=team,
            uses=3,
            days=1,
            actor="cli:test",
            now=clock(),
        )
    clock.advance(days=2)
    await resident.text(f"inv_{late.code}")
    assert "Mã mời này đã hết hạn từ ngày" in resident.all_text()


async def test_the_short_notice_lists_what_the_full_notice_does(app):
    chat = Chat(app, user="notice")
    await chat.start()
    short = chat.last.text
    await chat.text("doc ky hon")
    full = chat.all_text()
    stored = app.engine.services.texts("consent.stored")
    assert f"Bot chỉ lưu: {stored}." in short and f"Dữ liệu lưu: {stored}." in full
    for item in ("nhóm tuổi", "mã hộ", "kết quả bài kiểm tra", "câu hỏi bạn gửi cán bộ"):
        assert item in stored


async def test_menu_numbers_beyond_the_list_are_not_understood(app):
    chat = Chat(app, user="nums")
    await chat.onboard()
    await chat.text("99")
    assert "Bạn gõ số từ 1 đến" in chat.all_text()
    assert chat.last.text.startswith("🏠 Trang chính")
