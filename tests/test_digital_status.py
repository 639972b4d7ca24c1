"""The campaign's own indicators, on SQLite and PostgreSQL: a team member surveys
households through the console, residents report their own certificates, and the
report's "Công dân số" figures match what was typed, by source, against the targets of
the commune file; a later survey supersedes an earlier one without changing a closed
period."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from bot.reports import targets as tg
from bot.reports.compute import Programme, compute_report
from bot.reports.exports import render
from bot.reports.periods import calendar_range
from bot.reports.read_model import digital_status
from config.commune import TargetInfo
from tests.support import Chat, make_app
from tests.team_support import add_households, household_id, onboarded, village_id


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def survey(member: Chat, hid: int, counts: list[str], proficient: bool) -> None:
    """Through /to, as a member would: pick the household, type the counts, tap yes/no."""
    await member.text("/to")
    await member.choose("status")
    await member.choose(f"h:{hid}")
    if "new" in member.choice_ids:  # surveyed before: the first screen offers "as before"
        await member.choose("new")
    for typed in counts:
        assert member.choice_ids == []  # a typed "1" is a number, never option 1
        await member.text(typed)
    await member.choose("yes" if proficient else "no")


async def report_for(app, start: date, end: date):
    period = calendar_range(start, end)
    programme = Programme.of(app.engine.services.curriculum)
    return await compute_report(
        app.database, app.engine.services.communes.only.id, period, programme
    )


async def test_survey_through_the_console_and_the_report_counts_it(app, clock):
    await add_households(app, "T01", [("H001", "Lê Văn Cường"), ("H002", None), ("H003", None)])
    await add_households(app, "T02", [("H001", None)])
    member = await onboarded(app, "mem", "member")
    other = await onboarded(app, "mem2", "member", village="T02")
    h1, h2 = await household_id(app, "T01", "H001"), await household_id(app, "T01", "H002")

    await survey(member, h1, ["4", "3", "2", "2", "1", "0"], proficient=True)
    assert "Đã ghi tình trạng số hộ H001 · Lê Văn Cường" in member.all_text()
    assert "4 người lớn; điện thoại thông minh 3; VNeID mức 2 2" in member.all_text()

    # Bad input gets a clear answer and the same question again; nothing is recorded.
    await member.text("/to")
    await member.choose("status")
    await member.choose(f"h:{h2}")
    await member.text("ba")
    assert "gõ bằng chữ số" in member.all_text() and "người lớn" in member.last.text
    await member.text("0")
    assert "từ 1 đến 30" in member.all_text()
    await member.text("2")
    await member.text("5")
    assert "không được lớn hơn số người lớn của hộ (2)" in member.all_text()
    for typed in ("2", "1", "1", "0", "0"):
        await member.text(typed)
    await member.choose("no")
    assert "Đã ghi tình trạng số hộ H002" in member.all_text()

    # A member of another village cannot reach this household.
    await other.text("/to")
    await other.choose("status")
    assert f"h:{h1}" not in other.choice_ids

    # Two residents report their own word; saying it twice counts once.
    lan = await onboarded(app, "lan", village="T01")
    answers = []
    for kind in ("platform_certified", "platform_certified", "course_finished"):
        await lan.text("/tiendo")
        await lan.choose("self_report")
        await lan.choose(kind)
        await lan.choose("yes")
        answers.append("đã ghi điều này rồi" in lan.all_text())
    assert answers == [False, True, False]
    binh = await onboarded(app, "binh", village="T02")
    await binh.text("/tiendo")
    await binh.choose("self_report")
    await binh.choose("platform_certified")
    await binh.choose("yes")
    assert "tự báo được cấp chứng nhận" in binh.all_text()

    report = await report_for(app, date(2026, 11, 1), date(2026, 11, 30))
    t01 = next(v for v in report.villages if v.code == "T01").digital
    assert (t01.households_surveyed, t01.households_one_proficient) == (2, 1)
    assert (t01.households_one_proficient_team, t01.households_one_proficient_bot) == (1, 0)
    assert (t01.adults_total, t01.adults_smartphone, t01.adults_vneid_level2) == (6, 5, 3)
    assert (t01.adults_payment_account, t01.adults_used_public_service) == (3, 1)
    assert t01.adults_health_book == 0
    assert t01.residents_platform_certified_self == 1 and t01.residents_course_self == 1
    assert t01.pct("adults_smartphone") == round(100 * 5 / 6, 1)
    assert report.digital.residents_platform_certified_self == 2  # Lan and Bình
    assert report.digital.households_surveyed == 2

    # The read model gives the dashboard the same figures.
    start, end = report.period.utc_bounds()
    async with app.database.session() as session:
        live = await digital_status(session, app.engine.services.communes.only.id, start, end)
    assert live[("village", await village_id(app, "T01"))] == t01
    assert live[("commune", None)] == report.digital


async def test_a_later_survey_supersedes_without_changing_a_closed_period(app, clock):
    await add_households(app, "T01", [("H001", None)])
    member = await onboarded(app, "mem", "member")
    hid = await household_id(app, "T01", "H001")
    await survey(member, hid, ["3", "1", "0", "0", "0", "0"], proficient=False)
    november = await report_for(app, date(2026, 11, 1), date(2026, 11, 30))

    clock.advance(days=20)  # 10/12: the household got help since
    await member.text("/to")
    await member.choose("status")
    await member.choose(f"h:{hid}")
    assert "Lần ghi trước (20/11/2026" in member.last.text
    assert member.choice_ids[:2] == ["same", "new"]
    await member.choose("new")
    for typed in ("3", "3", "2", "2", "1", "1"):
        await member.text(typed)
    await member.choose("yes")

    again = await report_for(app, date(2026, 11, 1), date(2026, 11, 30))
    assert again.digital == november.digital  # the closed month reads the same
    assert november.digital.adults_smartphone == 1
    december = await report_for(app, date(2026, 12, 1), date(2026, 12, 31))
    assert december.digital.households_surveyed == 1  # one household, its newest survey
    assert december.digital.adults_smartphone == 3
    assert december.digital.households_one_proficient == 1
    assert december.digital.households_surveyed_new == 1

    # "As before" is one tap and makes a new dated survey with the same figures.
    clock.advance(days=1)
    await member.text("/to")
    await member.choose("status")
    await member.choose(f"h:{hid}")
    await member.choose("same")
    assert "Đã ghi tình trạng số hộ H001 ngày 11/12/2026" in member.all_text()
    assert (await report_for(app, date(2026, 12, 1), date(2026, 12, 31))).digital == (
        december.digital
    )


async def test_a_visit_offers_the_status_and_a_finished_programme_counts_for_the_household(
    app, clock
):
    await add_households(app, "T01", [("H001", None)])
    member = await onboarded(app, "mem", "member")
    hid = await household_id(app, "T01", "H001")
    await member.text("/to")
    await member.choose("visit")
    await member.choose(f"h:{hid}")
    await member.choose("s:vneid_level2")
    await member.choose("done")
    await member.choose("skip")
    assert member.choice_ids[0] == f"status:{hid}"  # one tap from the saved visit
    await member.choose(f"status:{hid}")
    assert "câu 1/7" in member.last.text

    # A resident of the household finishes the basic programme on the bot.
    from sqlalchemy import update

    from storage.models import Person
    from tests.team_support import person_of

    resident = await onboarded(app, "res", village="T01")
    person = await person_of(app, resident)
    async with app.database.transaction() as session:
        await session.execute(update(Person).where(Person.id == person.id).values(household_id=hid))
    for lesson_id in Programme.of(app.engine.services.curriculum).core:
        await resident.read_lesson(lesson_id)
        await resident.take_quiz(lesson_id)
    report = await report_for(app, date(2026, 11, 1), date(2026, 11, 30))
    t01 = next(v for v in report.villages if v.code == "T01").digital
    assert (t01.households_one_proficient_bot, t01.households_one_proficient_team) == (1, 0)
    assert t01.households_one_proficient == 1 and t01.households_surveyed == 0


async def test_targets_show_progress_in_the_csv(app, clock):
    commune_code = app.engine.services.communes.only.code
    saved = tg.targets_for(commune_code)
    tg.register(
        commune_code,
        [
            TargetInfo(indicator="adults_smartphone", year=2026, percent=80),
            TargetInfo(indicator="adults_smartphone", year=2030, percent=100),
            TargetInfo(indicator="adults_smartphone", year=2026, percent=50, village="T02"),
        ],
    )
    try:
        await add_households(app, "T01", [("H001", None)])
        member = await onboarded(app, "mem", "member")
        await survey(
            member, await household_id(app, "T01", "H001"), ["4", "2", "0", "0", "0", "0"], False
        )
        report = await report_for(app, date(2026, 11, 1), date(2026, 11, 30))
        target = report.targets.of("adults_smartphone", 2026, "T01")
        assert target == tg.Target(80, 2026) and target.progress(50.0) == 62.5
        assert report.targets.of("adults_smartphone", 2026, "T02") == tg.Target(50, 2026)
        assert report.targets.of("adults_smartphone", 2027) == tg.Target(100, 2030)
        assert report.targets.of("adults_vneid_level2", 2026) is None

        rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode("utf-8-sig"))))
        t01 = next(r for r in rows if r["village_code"] == "T01")
        assert t01["households_surveyed"] == "1" and t01["adults_total"] == "4"
        assert t01["adults_smartphone"] == "2" and t01["adults_smartphone_target"] == "80"
        assert (
            next(r for r in rows if r["village_code"] == "T02")["adults_smartphone_target"] == "50"
        )
        assert "adults_vneid_level2_target" not in t01  # the commune set none
        assert t01["residents_platform_certified_self"] == "0"

        # The spreadsheet and the document show the same figures with their target.
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(render(report, "xlsx")))["Công dân số theo thôn"]
        rows_x = [list(r) for r in sheet.iter_rows(values_only=True)]
        header = next(r for r in rows_x if r[0] == "STT")
        dong = next(r for r in rows_x if r[1] == "Thôn Đông")
        assert dong[header.index("Có điện thoại thông minh")] == 2
        assert dong[header.index("Có điện thoại thông minh (%)")] == 0.5
        assert dong[header.index("Có điện thoại thông minh: mục tiêu (%)")] == 0.8
        html = render(report, "html").decode("utf-8")
        assert "Công dân số: hộ gia đình và người trưởng thành" in html
        row = html.split("Người trưởng thành có điện thoại thông minh", 1)[1].split("</tr>")[0]
        cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:]]
        assert cells == ["Tổ", "2", "4", "50,0", "80,0", "62,5"]  # count, of, %, target, progress
    finally:
        tg.register(commune_code, saved.entries)


async def surveyed_and_visited(app):
    """T01's leader surveys H001 and logs a visit to H002 that nobody confirms (no one in
    H002 is on the bot)."""
    leader = await onboarded(app, "lead", "leader")
    await survey(
        leader, await household_id(app, "T01", "H001"), ["2", "2", "1", "1", "0", "0"], True
    )
    await leader.text("/to")
    await leader.choose("visit")
    await leader.choose(f"h:{await household_id(app, 'T01', 'H002')}")
    await leader.choose("s:cashless")
    await leader.choose("done")
    await leader.choose("skip")
    return leader


async def test_who_is_behind_goes_to_leaders_and_admins_in_the_last_weeks(app, clock):
    from datetime import UTC, datetime

    from bot.scheduling.behind import admin_notes
    from bot.scheduling.digests import weekly_digests
    from tests.team_support import queued, texts_of

    await add_households(app, "T01", [("H001", None), ("H002", None), ("H003", None)])
    leader = await surveyed_and_visited(app)
    admin = await onboarded(app, "adm", "commune_admin")

    assert await admin_notes(app, date(2026, 10, 5), clock.now) == 0  # ten weeks ahead
    await weekly_digests(app, date(2026, 10, 5), clock.now)
    assert "còn thiếu" not in texts_of(await queued(app, leader, kind="digest"))[-1]
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 local, 22 days before 15/12
    assert await admin_notes(app, date(2026, 11, 23), now) == 1
    assert await admin_notes(app, date(2026, 11, 23), now) == 0  # a rerun sends nothing twice
    await weekly_digests(app, date(2026, 11, 23), now)  # the leader's digest carries the note
    note = texts_of(await queued(app, leader, kind="digest"))[-1]
    assert note.startswith("📊 Tin tuần của Tổ công nghệ số cộng đồng thôn Đông")
    assert "Còn 22 ngày nữa đến hạn chốt số liệu ngày 15/12. Thôn Đông còn thiếu" in note
    assert "• 311/312 hộ chưa được cập nhật tình trạng số" in note  # 312 in the commune file
    assert "• 1 lượt hỗ trợ tại hộ chưa được hộ xác nhận" in note
    assert "Chưa có hoạt động" not in note  # the team surveyed and visited this week
    summary = "\n".join(texts_of(await queued(app, admin, kind="digest")))
    assert (
        "• Thôn Đông: 311 hộ chưa cập nhật tình trạng số · 1 lượt hỗ trợ chưa xác nhận" in summary
    )
    assert (
        "• Thôn Tây: 275 hộ chưa cập nhật tình trạng số · 0 lượt hỗ trợ chưa xác nhận · 1 tổ"
        in (summary)
    )


async def test_one_village_of_who_is_behind_equals_its_row_of_the_whole(app, clock):
    """The dashboard's village page reads one village: the same figures as the commune's."""
    from datetime import UTC, datetime

    from bot.reports.behind import who_is_behind
    from storage import team_repo

    await add_households(app, "T01", [("H001", None), ("H002", None)])
    await add_households(app, "T02", [("H101", None)])
    await surveyed_and_visited(app)
    commune_id = app.engine.services.communes.only.id
    start = datetime(2025, 12, 16, tzinfo=UTC)
    now = clock.now + timedelta(weeks=3)  # the teams have been idle since
    async with app.database.session() as session:
        whole = {
            row.village_id: row for row in await who_is_behind(session, commune_id, start, now)
        }
        for code in ("T01", "T02", "T03"):
            village = await team_repo.village_by_code(session, commune_id, code)
            [alone] = await who_is_behind(session, commune_id, start, now, village_id=village.id)
            assert alone == whole[village.id], code
    assert whole[village.id].idle_teams  # T03's team did nothing: named idle in both
