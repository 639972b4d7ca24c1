"""Weekly team digests, monthly commune digests and the annual report messages, on
SQLite and PostgreSQL with a fake clock: the right counts to the right people, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.scheduling import reports
from bot.scheduling.digests import run_digests
from bot.scheduling.reports import run_report_jobs
from bot.scheduling.scheduler import Scheduler
from config.settings import SchedulerSettings
from storage.models import Village
from storage.team_models import Household, SupportVisit
from tests.test_scheduling_helpers import (
    app,  # noqa: F401  (fixture)
    local,
    make_staff,
    outbox,
    person_of,
    recipients,
    resident,
    sqlite_only,
)

MONDAY_8H = local(2026, 11, 23, 8)  # the default digest slot after the week 16-22/11


async def log_visit(app, clock, village_code: str, member: int, household: str) -> None:  # noqa: F811
    async with app.database.transaction() as session:
        village = await session.scalar(select(Village).where(Village.code == village_code))
        home = Household(village_id=village.id, code=household, created_at=clock())
        session.add(home)
        await session.flush()
        session.add(
            SupportVisit(
                household_id=home.id,
                member_person_id=member,
                village_id=village.id,
                commune_id=village.commune_id,
                services=["vneid_install"],
                visited_at=clock(),
            )
        )


async def learn_one_lesson(chat) -> None:
    lesson = next(iter(chat.app.engine.services.curriculum.lessons.values()))
    await chat.choose(f"l:{lesson.id}")
    while "next" in chat.choice_ids:
        await chat.choose("next")


async def test_team_members_get_their_villages_week_against_the_week_before(app, clock):  # noqa: F811
    clock.now = local(2026, 11, 10, 9)  # the week before: one resident in Thôn Đông
    await resident(app, "old", "v:T01")
    member = await make_staff(app, clock, "member-dong", "member", "TCN-T01")
    await make_staff(app, clock, "leader-tay", "leader", "TCN-T02", "v:T02")
    clock.now = local(2026, 11, 18, 9)  # the digest's week
    for n in range(3):
        chat = await resident(app, f"new{n}", "v:T01")
        await learn_one_lesson(chat)
    await resident(app, "west", "v:T02")
    await log_visit(app, clock, "T01", member, "H1")
    await log_visit(app, clock, "T01", member, "H2")

    clock.now = MONDAY_8H
    run = await run_digests(app, MONDAY_8H)
    assert run.weekly == 2
    rows = {row.external_id: row.payload["messages"][0]["text"] for row in await outbox(app)}
    dong = rows["member-dong"]
    assert "Tổ công nghệ số cộng đồng thôn Đông" in dong and "16/11 đến 22/11" in dong
    assert "Người dân đăng ký mới: 3 (tuần trước: 1)" in dong  # not the member: staff
    assert "Lượt học xong bài: 3 (tuần trước: 0)" in dong
    assert "Lượt hỗ trợ tại hộ: 2 (tuần trước: 0)" in dong
    assert "Người dân đăng ký mới: 1 (tuần trước: 0)" in rows["leader-tay"]
    # Again, late within the grace, and after a restart: nothing more.
    assert (await run_digests(app, MONDAY_8H + timedelta(hours=3))).weekly == 0
    clock.now = MONDAY_8H + timedelta(hours=5)
    assert (await Scheduler(app).run_job("digests"))["weekly"] == 0
    # A run a day late (past the 12 h grace) does not send a stale digest.
    assert (await run_digests(app, MONDAY_8H + timedelta(days=1))).weekly == 0
    assert len(await outbox(app, "digest")) == 2


@sqlite_only
async def test_commune_admins_get_the_month_per_village(app, clock):  # noqa: F811
    clock.now = local(2026, 11, 5, 9)
    await resident(app, "a", "v:T01")
    await resident(app, "b", "v:T01")
    await resident(app, "c", "v:T03")
    await make_staff(app, clock, "admin", "commune_admin")
    member = await make_staff(app, clock, "member", "member", "TCN-T01")
    await log_visit(app, clock, "T03", member, "H1")
    first_of_december = local(2026, 12, 1, 8, 30)
    clock.now = first_of_december
    run = await run_digests(app, first_of_december)
    assert run.monthly == 1
    [row] = [r for r in await outbox(app, "digest") if r.external_id == "admin"]
    text = "\n".join(m["text"] for m in row.payload["messages"])
    assert "tháng 11/2026 của Xã Hòa An" in text
    assert "• Thôn Đông: 2 · 0 · 0" in text  # two residents; the admin and member are staff
    assert "• Thôn Nam: 1 · 0 · 1" in text
    assert "Cả Xã Hòa An: 3 người dân đăng ký mới" in text
    assert (await run_digests(app, first_of_december)).monthly == 0


@sqlite_only
async def test_annual_report_and_deadline_reminders_go_to_admins_once(app, clock, monkeypatch):  # noqa: F811
    monkeypatch.setattr(reports, "_annual_report_builder", None)  # the message alone
    admin = await make_staff(app, clock, "admin", "commune_admin")
    await make_staff(app, clock, "member", "member", "TCN-T01")
    sent = {}
    for day in (9, 10, 11, 12, 13, 14, 15):
        clock.now = local(2026, 12, day, 8, 15)
        run = await run_report_jobs(app, clock.now)
        sent[day] = (run.annual, run.reminders)
        assert await run_report_jobs(app, clock.now + timedelta(hours=1)) == type(run)()
    assert sent == {
        9: (0, 0),
        10: (1, 0),
        11: (0, 0),
        12: (0, 1),
        13: (0, 0),
        14: (0, 1),
        15: (0, 0),
    }
    assert await recipients(app, "report") == {"admin": 3}  # never the team member
    texts = [row.payload["messages"][0]["text"] for row in await outbox(app, "report")]
    assert "Báo cáo năm 2026 của Xã Hòa An" in texts[0] and "hocvuso report" in texts[0]
    assert "15/12" in texts[1] and "còn 3 ngày" in texts[1] and "còn 1 ngày" in texts[2]
    assert admin == await person_of(app, "admin")


@sqlite_only
async def test_the_annual_report_is_built_once_and_named_in_the_message(app, clock):  # noqa: F811
    await make_staff(app, clock, "admin", "commune_admin")
    await make_staff(app, clock, "admin2", "commune_admin")
    clock.now = local(2026, 12, 10, 9)
    assert (await run_report_jobs(app, clock.now)).annual == 2
    saved = list((app.settings.data_dir / "reports").glob("*.xlsx"))
    assert [p.name for p in saved] == ["bao-cao-hoa-an-2026.xlsx"]
    assert saved[0].read_bytes()[:2] == b"PK"  # an xlsx is a zip file
    text = (await outbox(app, "report"))[0].payload["messages"][0]["text"]
    assert "bao-cao-hoa-an-2026.xlsx" in text and "Năm 2026" in text
    saved[0].unlink()
    assert (await run_report_jobs(app, clock.now)).annual == 0
    assert not saved[0].exists()  # everyone was told: not built again


@sqlite_only
async def test_a_failing_report_build_still_tells_the_admins(app, clock, monkeypatch):  # noqa: F811
    await make_staff(app, clock, "admin", "commune_admin")

    async def broken(app, commune, period, now):  # noqa: F811
        raise RuntimeError("no fonts")

    monkeypatch.setattr(reports, "_annual_report_builder", None)
    reports.set_annual_report_builder(broken)
    clock.now = local(2026, 12, 10, 9)
    assert (await run_report_jobs(app, clock.now)).annual == 1
    [row] = await outbox(app, "report")
    assert "hocvuso report" in row.payload["messages"][0]["text"]


@sqlite_only
async def test_no_digest_or_report_in_quiet_hours(app, clock):  # noqa: F811
    await make_staff(app, clock, "admin", "commune_admin")
    await make_staff(app, clock, "member", "member", "TCN-T01")
    # The process was down from before 08:00 until 22:00: quiet hours, nothing goes.
    for when in (local(2026, 11, 23, 22), local(2026, 12, 1, 22), local(2026, 12, 10, 23)):
        assert (await run_digests(app, when)).weekly == 0
        assert (await run_report_jobs(app, when)).annual == 0
    assert await outbox(app) == []


def test_report_dates_and_reminder_days_are_checked_at_start():
    with pytest.raises(ValidationError, match="annual_report_date"):
        SchedulerSettings(annual_report_date="31/02")
    with pytest.raises(ValidationError, match="report_deadline"):
        SchedulerSettings(report_deadline="15-12")
    with pytest.raises(ValidationError, match="deadline_reminder_days"):
        SchedulerSettings(deadline_reminder_days=[0])
    assert SchedulerSettings(quiet_start=0, quiet_end=0).is_quiet(3) is False
