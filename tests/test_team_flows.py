"""Team and admin flows through the engine, on SQLite and PostgreSQL: invites,
referrals, household visits and their verification, assisted learning, the village
view, questions and answers, escalation, and the audit log."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.team.escalation import escalate_overdue
from storage.models import ParticipationEvent, Person, Team
from storage.team_models import (
    AssistedLearning,
    AuditEntry,
    Invite,
    StaffRole,
    SupportVisit,
    TeamQuestion,
)
from tests.support import Chat, make_app
from tests.team_support import (
    add_households,
    household_id,
    onboarded,
    person_of,
    queued,
    resident_code,
    texts_of,
)


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def count(app, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


def invite_code(text: str) -> str:
    match = re.search(r"Mã mời: ([A-Z0-9]{8})", text)
    assert match, text
    return match.group(1)


# ----------------------------------------------------------------- invites


async def admin_creates_invite(admin: Chat, role_choice: str, team_label: str | None) -> str:
    await admin.text("/quantri")
    await admin.choose("invite_role")
    await admin.choose(role_choice)
    if team_label is not None:
        await admin.choose(next(c.id for c in admin.last.choices if c.label == team_label))
    await admin.choose("u:5")
    return invite_code(admin.all_text())


async def test_invite_then_join_after_consent(app, clock):
    admin = await onboarded(app, "admin", "commune_admin")
    code = await admin_creates_invite(admin, "r:member", "Thôn Nam")
    assert "Dùng được 5 lần" in admin.all_text()

    newcomer = Chat(app, user="new-member", name="Chị Hoa")
    await newcomer.start(f"inv_{code}")
    assert "vai trò thành viên của Tổ công nghệ số cộng đồng thôn Nam" in newcomer.last.text
    assert [c.id for c in newcomer.last.choices] == ["agree", "refuse", "details"]
    assert await count(app, Person) == 1  # nothing stored before consent
    await newcomer.choose("agree")
    assert "Chào mừng bạn tham gia Tổ công nghệ số cộng đồng thôn Nam" in newcomer.all_text()
    assert newcomer.last.text.startswith("🧰")  # straight into the team tools

    person = await person_of(app, newcomer)
    async with app.database.session() as session:
        role = await session.scalar(select(StaffRole).where(StaffRole.person_id == person.id))
        team = await session.get(Team, role.team_id)
        invite = await session.scalar(select(Invite).where(Invite.code == code))
    assert (role.role, team.code, person.village_id) == ("member", "TCN-T03", team.village_id)
    assert role.referral_code and invite.uses_left == 4
    actions = await actions_logged(app)
    assert [a for a in actions if a.startswith("invite")] == ["invite.create", "invite.claim"]


async def actions_logged(app) -> list[str]:
    async with app.database.session() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_zalo_style_code_as_text_and_bare_code(app):
    admin = await onboarded(app, "admin", "commune_admin")
    code = await admin_creates_invite(admin, "r:leader", "Thôn Bắc")
    zalo = Chat(app, user="zalo-1", channel="zalo", name="Anh Tư")
    await zalo.text(code.lower())  # the bare code, typed in lower case, as a first message
    assert "vai trò tổ trưởng" in zalo.last.text
    await zalo.text("1")  # "Đồng ý" by number
    assert "tổ trưởng" in zalo.all_text()
    existing = await onboarded(app, "resident-2")
    code2 = await admin_creates_invite(admin, "r:member", "Thôn Đông")
    await existing.text(f"inv_{code2}")  # already registered: granted at once
    assert "Chào mừng bạn tham gia Tổ công nghệ số cộng đồng thôn Đông" in existing.all_text()


async def test_expired_used_up_and_guessed_codes_are_refused(app, clock):
    admin = await onboarded(app, "admin", "commune_admin")
    code = await admin_creates_invite(admin, "r:member", "Thôn Đông")
    clock.advance(days=8)
    late = Chat(app, user="late")
    await late.start(f"inv_{code}")
    assert "Mã mời này đã hết hạn từ ngày" in late.all_text()  # says why, not "không đúng"
    assert late.last.choices[0].id == "agree"  # they can still start as a resident
    guesser = Chat(app, user="guesser")
    for n in range(10):
        await guesser.text(f"inv_ABCDEF{n:02d}")
    await guesser.text("inv_ABCDEFGH")
    assert "nhập sai mã nhiều lần" in guesser.all_text()


async def test_cli_style_admin_invite_makes_a_commune_admin(app, clock):
    from bot.team.invites import create_invite

    async with app.database.transaction() as session:
        info = await create_invite(
            session,
            role="commune_admin",
            commune_id=app.engine.services.communes.only.id,
            team=None,
            uses=1,
            days=7,
            actor="cli:test",
            now=clock(),
            username="hocvuso_test_bot",
        )
    assert info.link == f"https://t.me/hocvuso_test_bot?start=inv_{info.code}"
    officer = Chat(app, user="officer", name="Chị Mai")
    await officer.start(info.payload)
    await officer.choose("agree")
    assert "Bạn đã nhận vai trò cán bộ quản trị xã của Xã Hòa An" in officer.all_text()
    assert officer.last.text.startswith("🏛")
    second = Chat(app, user="second")
    await second.start(info.payload)  # one use only
    assert "Mã mời này đã được dùng hết lượt" in second.all_text()


# ----------------------------------------------------------------- referrals


def is_png(path: Path) -> bool:
    return path.is_absolute() and path.read_bytes().startswith(b"\x89PNG")


async def test_referral_attributes_member_team_and_village(app, tmp_path):
    member = await onboarded(app, "member", "member", village="T05", name="Anh Sơn")
    await member.text("/to")
    await member.choose("referral")
    assert is_png(Path(member.last.image))
    payload = re.search(r"ref_[A-Z0-9]{8}", member.last.text).group(0)

    resident = Chat(app, user="referred", name="Bà Tám")
    await resident.start(payload)
    assert "Bạn được Anh Sơn, Tổ công nghệ số cộng đồng Thôn Thượng, giới thiệu." in (
        resident.last.text
    )
    await resident.choose("agree")
    assert resident.last.text == "🏠 Bạn sống ở Thôn Thượng phải không?"
    await resident.choose("yes")
    await resident.choose("age:skip")
    person = await person_of(app, resident)
    member_person = await person_of(app, member)
    async with app.database.session() as session:
        team = await session.get(Team, person.attributed_team_id)
        events = list(
            await session.scalars(
                select(ParticipationEvent).where(ParticipationEvent.person_id == person.id)
            )
        )
    assert person.referred_by_person_id == member_person.id
    assert team.code == "TCN-T05" and person.village_id == team.village_id
    assert person.source == payload
    assert {e.team_id for e in events} == {team.id}  # registration counted for the team
    # An already registered person is never re-attributed.
    await resident.start(payload)
    assert "Bạn đã đăng ký rồi" in resident.all_text()


async def test_referral_code_sent_as_text_on_zalo(app):
    member = await onboarded(app, "member", "member", village="T02")
    await member.text("/to")
    await member.choose("referral")
    payload = re.search(r"ref_[A-Z0-9]{8}", member.last.text).group(0)
    zalo = Chat(app, user="z-ref", channel="zalo")
    await zalo.text(payload)
    await zalo.text("1")
    assert "Thôn Tây phải không" in zalo.last.text


# ----------------------------------------------------------------- visits


async def test_visit_logged_then_confirmed_by_the_household(app, clock):
    await add_households(app, "T01", [("H001", "Lê Văn Cường"), ("H002", "Trần Thị Bình")])
    resident = await onboarded(app, "res")
    await resident.text("/ho")
    code = await resident_code(app, "T01", "H001")
    await resident.text(code.lower())
    assert f"Đã ghi bạn thuộc hộ {code}" in resident.all_text()
    await resident.read_lesson(next(iter(app.engine.services.curriculum.lessons)))
    quiz_screen = resident.last.text

    member = await onboarded(app, "mem", "member")
    await member.text("/to")
    await member.choose("visit")
    assert "H001 · Lê Văn Cường" in [c.label for c in member.last.choices]  # own village
    hid = await household_id(app, "T01", "H001")
    await member.choose(f"h:{hid}")
    await member.choose("s:vneid_level2")
    await member.choose("s:cashless")
    await member.choose("s:other")
    await member.choose("s:other")  # toggled off again
    await member.choose("done")
    await member.text("Hướng dẫn kích hoạt mức 2 cho cả nhà")
    assert "Đã ghi lần hỗ trợ hộ H001 · Lê Văn Cường: VNeID mức 2, Thanh toán không tiền mặt" in (
        member.all_text()
    )
    assert "nhờ người trong hộ bấm xác nhận" in member.all_text()

    rows = await queued(app, resident, kind="verify")
    assert len(rows) == 1
    question = texts_of(rows)[0]
    assert "VNeID mức 2, Thanh toán không tiền mặt" in question and "Đúng không ạ?" in question
    await resident.choose("vok")  # one tap on the message the outbox delivered
    assert "Cảm ơn bạn đã xác nhận" in resident.all_text()
    assert resident.last.text == quiz_screen  # back where they were
    async with app.database.session() as session:
        visit = await session.scalar(select(SupportVisit))
    assert visit.verified_at is not None and visit.note.startswith("Hướng dẫn")
    await member.text("/to")
    await member.choose("view")
    view = member.last.text
    assert "Hộ đã tiếp cận: 1/312 hộ (0%)" in view  # linked by a resident, then visited
    assert "• VNeID mức 2: 1" in view and "• Thanh toán không tiền mặt: 1" in view
    assert "Được người dân xác nhận: 1 · chưa xác nhận: 0" in view
    assert "Lượt hỗ trợ tại hộ: 1 / 0" in view


async def test_a_household_linked_later_is_asked_once(app):
    await add_households(app, "T01", [("H007", None)])
    member = await onboarded(app, "mem", "member")
    await member.text("/to")
    await member.choose("visit")
    await member.text("H007")  # typing the code picks the household
    await member.choose("s:scam_awareness")
    await member.choose("done")
    await member.choose("skip")
    assert "nhờ người trong hộ" not in member.all_text()  # nobody to ask yet
    resident = await onboarded(app, "res")
    await resident.text("/ho")
    await resident.text(await resident_code(app, "T01", "H007"))
    assert "Nhận biết lừa đảo" in resident.last.text and resident.choice_ids == ["vok", "vno"]
    await resident.choose("vno")
    assert "Xã sẽ kiểm tra lại" in resident.all_text()
    assert "visit.disputed" in await actions_logged(app)
    await resident.text("/ho")
    await resident.choose("skip")
    other = await onboarded(app, "res-2")
    await other.text("/ho")
    await other.text(await resident_code(app, "T01", "H007"))
    assert other.choice_ids != ["vok", "vno"]  # asked once only


async def test_member_adds_a_household_by_typing_and_logs_assisted_learning(app):
    member = await onboarded(app, "mem", "leader", village="T09")
    await member.text("/to")
    await member.choose("assisted")
    assert "chưa có danh sách hộ" in member.last.text
    await member.text("C12 Phạm Văn Mười")
    assert member.choice_ids[0] == "add"
    await member.choose("add")
    assert "Đã thêm hộ C12" in member.all_text()
    await member.text("Ông Mười")
    lesson = next(iter(app.engine.services.curriculum.lessons.values()))
    await member.choose(f"l:{lesson.id}")
    assert f"học xong bài “{lesson.title}”" in member.all_text()
    assert await count(app, AssistedLearning) == 1
    await member.choose("view")
    assert "Học có hỗ trợ: 1 lượt, 1 người" in member.last.text
    await member.choose("team")
    await member.choose("members")
    assert "(tổ trưởng): 0 lần hỗ trợ hộ" in member.last.text


# ----------------------------------------------------------------- questions


async def test_question_reaches_the_team_and_the_answer_comes_back(app):
    members = [await onboarded(app, f"m{n}", "member", name=f"Anh {n}") for n in range(2)]
    other_village = await onboarded(app, "m-t02", "member", village="T02")
    resident = await onboarded(app, "res", name="Cô Ba")
    await resident.text("/hoicanbo")
    assert "tên hiển thị của bạn" in resident.last.text  # told who will see it
    await resident.text("Cách chuyển tiền bằng mã QR thế nào ạ?")
    assert "Đã gửi câu hỏi" in resident.all_text() and "48 giờ" in resident.all_text()
    for member in members:
        notice = texts_of(await queued(app, member, kind="relay"))
        assert len(notice) == 1 and "Cô Ba (Thôn Đông)" in notice[0] and "/cauhoi" in notice[0]
    assert await queued(app, other_village) == []

    answerer = members[1]
    await answerer.text("/cauhoi")
    assert "Cách chuyển tiền bằng mã QR" in answerer.last.text
    pick = next(c for c in answerer.last.choices if c.id.startswith("q:"))
    await answerer.choose(pick.id)
    await answerer.text("Cô mở ứng dụng ngân hàng, chọn Quét QR rồi xác nhận số tiền nhé.")
    assert "Đã gửi câu trả lời" in answerer.all_text()
    answer = texts_of(await queued(app, resident, kind="relay"))
    assert len(answer) == 1
    assert answer[0].startswith("💬 Tổ công nghệ số cộng đồng Thôn Đông trả lời")
    assert "Quét QR" in answer[0]
    # The other member's copy of the question is now answered: a late answer is refused.
    await members[0].text("/cauhoi")
    assert "Không có câu hỏi nào đang chờ" in members[0].last.text
    await other_village.text("/cauhoi")
    assert "Cách chuyển tiền" not in other_village.last.text


async def test_unanswered_question_goes_to_the_commune_admin(app, clock):
    admin = await onboarded(app, "admin", "commune_admin", village="T12")
    resident = await onboarded(app, "res", village="T04")
    await resident.text("/hoicanbo")
    await resident.text("Xin hỏi lịch học VNeID ở nhà văn hóa?")
    assert await escalate_overdue(app.database, clock.now) == 0  # not overdue yet
    clock.advance(hours=49)
    assert await escalate_overdue(app.database, clock.now, hours=48) == 1
    assert await escalate_overdue(app.database, clock.now, hours=48) == 0  # once only
    notice = texts_of(await queued(app, admin, kind="relay"))
    assert len(notice) == 1 and notice[0].startswith("⏰ Câu hỏi chưa được trả lời sau 48 giờ")
    told = texts_of(await queued(app, resident, kind="relay"))
    assert told == ["Câu hỏi của bạn đã được chuyển lên cán bộ xã. Cán bộ sẽ sớm trả lời bạn."]
    await admin.text("/quantri")
    assert "Câu hỏi chờ cán bộ xã (1)" in " ".join(c.label for c in admin.last.choices)
    await admin.choose("team_questions")
    await admin.choose(next(c.id for c in admin.last.choices if c.id.startswith("q:")))
    await admin.text("Thứ Bảy này, 8 giờ sáng ạ.")
    answer = texts_of(await queued(app, resident, kind="relay"))[-1]
    assert answer.startswith("💬 Cán bộ Xã Hòa An trả lời")
    assert await count(app, TeamQuestion, TeamQuestion.answered_at.is_not(None)) == 1


async def test_question_from_a_village_without_team_goes_to_the_commune(app):
    # The demo commune gives every village a team; remove one to see the fallback.
    from sqlalchemy import delete

    admin = await onboarded(app, "admin", "commune_admin")
    async with app.database.transaction() as session:
        await session.execute(delete(Team).where(Team.code == "TCN-T08"))
    resident = await onboarded(app, "res", village="T08")
    await resident.text("/hoicanbo")
    assert "gửi cán bộ Xã Hòa An" in resident.last.text
    await resident.text("Ai hướng dẫn cài VNeID ạ?")
    notice = texts_of(await queued(app, admin, kind="relay"))
    assert notice and notice[0].startswith("💬 Câu hỏi mới gửi cán bộ xã")


async def test_a_resident_without_village_is_asked_to_choose_one(app):
    chat = Chat(app, user="nov")
    await chat.start()
    await chat.choose("agree")
    await chat.text("/hoicanbo")
    assert "Bạn chọn thôn nơi mình sống trước" in chat.last.text


async def test_forgetting_a_person_clears_what_the_team_features_hold(app, clock):
    from storage import team_repo

    await add_households(app, "T01", [("H001", None)])
    resident = await onboarded(app, "res", "member")
    await resident.text("/ho")
    await resident.text(await resident_code(app, "T01", "H001"))
    await resident.text("/hoicanbo")
    await resident.text("Câu hỏi riêng tư")
    person = await person_of(app, resident)
    async with app.database.transaction() as session:
        await team_repo.forget_team_data(session, await session.get(Person, person.id), clock())
    person = await person_of(app, resident)
    async with app.database.session() as session:
        question = await session.scalar(select(TeamQuestion))
        roles = await team_repo.active_roles(session, person.id)
    assert person.household_id is None and roles == ()
    assert (question.text, question.person_id) == ("", person.id)  # still counted


async def test_a_household_stays_reached_after_its_resident_deletes_their_data(app, clock):
    """The village view and the commune report agree, before and after the deletion."""
    from bot.reports.compute import Programme, compute_report
    from bot.reports.periods import since_launch

    await add_households(app, "T01", [("H001", None), ("H002", None)])
    resident = await onboarded(app, "res")
    await resident.text("/ho")
    await resident.text(await resident_code(app, "T01", "H002"))
    member = await onboarded(app, "mem", "member")

    async def village_view_and_report() -> tuple[str, int]:
        await member.text("/to")
        await member.choose("view")
        clock.advance(minutes=1)
        services = app.engine.services
        report = await compute_report(
            app.database,
            services.communes.only.id,
            since_launch(date(2025, 10, 10), clock()),
            Programme.of(services.curriculum),
            now=clock(),
        )
        return member.last.text, report.total.households_reached

    view, reached = await village_view_and_report()
    assert "Hộ đã tiếp cận: 1/312 hộ" in view and reached == 1
    await resident.text("/xoadulieu")
    await resident.choose("yes")
    assert "Đã xóa" in resident.last.text
    assert await count(app, Person, Person.household_id.is_not(None)) == 0
    view, reached = await village_view_and_report()
    assert "Hộ đã tiếp cận: 1/312 hộ" in view and reached == 1


async def test_an_invite_used_up_during_consent_still_onboards_as_resident(app):
    admin = await onboarded(app, "admin", "commune_admin")
    await admin.text("/quantri")
    await admin.choose("invite_role")
    await admin.choose("r:member")
    await admin.choose(next(c.id for c in admin.last.choices if c.label == "Thôn Đông"))
    await admin.choose("u:1")
    code = invite_code(admin.all_text())
    first, second = Chat(app, user="first"), Chat(app, user="second")
    await first.start(f"inv_{code}")
    await second.start(f"inv_{code}")
    await first.choose("agree")
    await second.choose("agree")  # the one use went to `first` meanwhile
    assert "Mã mời không đúng hoặc đã hết hạn" in second.all_text()
    assert second.last.text.startswith("🏠 Bạn đang sống ở thôn nào")
