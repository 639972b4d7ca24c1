"""Scheduling per commune (issue 16): in one deployment of three communes, each on its
own report calendar (tests/province_support.py), each commune's annual report,
reminders and digests go to its own people on its own dates, once (SQLite and
PostgreSQL, with a fake clock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta

import pytest
import yaml
from sqlalchemy import update

from bot.app import build_app
from bot.scheduling import reports
from bot.scheduling.digests import run_digests
from bot.scheduling.reports import run_report_jobs
from bot.scheduling.scheduler import job_specs
from bot.startup import explain
from config.commune import CommuneFileError
from config.settings import DatabaseSettings, Settings
from storage import team_repo
from storage.delivery_models import OutboxMessage
from tests.province_support import commune, province_app, write_communes
from tests.support import Chat
from tests.test_scheduling_helpers import local, outbox, person_of, sqlite_only
from tests.web_support import signed_in, web_client

Job = Callable[..., Awaitable[object]]


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await province_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def joined(app, user: str, code: str, village: str | None = None) -> Chat:
    """A person on the legacy Telegram bot (it serves all three communes), in `code`."""
    chat = Chat(app, user=user, channel="telegram")
    await chat.start()
    await chat.choose(f"c:{code}")
    await chat.choose("agree")
    if village is not None:
        await chat.choose(f"v:{village}")
        await chat.choose("age:tu60")
    return chat


async def staff(app, user: str, role: str, *codes: str, team: str | None = None) -> int:
    """A person of the first commune holding `role` in each of `codes`."""
    await joined(app, user, codes[0])
    person_id = await person_of(app, user)
    async with app.database.transaction() as session:
        for code in codes:
            commune_id = commune(app, code).id
            team_id = None
            if team is not None:
                found = await team_repo.team_by_code(session, commune_id, team)
                assert found is not None, team
                team_id = found.id
            await team_repo.grant_role(
                session,
                person_id=person_id,
                role=role,
                commune_id=commune_id,
                team_id=team_id,
                now=app.engine.services.clock(),
            )
    return person_id


def text_of(row) -> str:
    return "\n".join(m["text"] for m in row.payload["messages"])


async def sweep(
    app, clock, job: Job, days: Iterable[date], hours: Iterable[int], only: str = ""
) -> dict[tuple[str, int], list[tuple[str, str]]]:
    """Run `job` at :30 of each hour of each day; what each run queued, by ("DD/MM",
    hour): (recipient, text), for messages containing `only`."""
    seen = {row.id for row in await outbox(app)}
    queued = {}
    for day in days:
        for hour in hours:
            clock.now = local(day.year, day.month, day.day, hour, 30)
            await job(app, clock.now)
            new = [row for row in await outbox(app) if row.id not in seen]
            seen |= {row.id for row in new}
            new = [row for row in new if only in text_of(row)]
            if new:
                queued[(day.strftime("%d/%m"), hour)] = sorted(
                    (row.external_id, text_of(row)) for row in new
                )
    return queued


def days_from(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


async def test_each_communes_annual_report_and_reminders_go_to_its_own_admins_on_its_own_dates(
    app, clock, monkeypatch
):
    monkeypatch.setattr(reports, "_annual_report_builder", None)  # the message alone
    clock.now = local(2026, 11, 19, 7)
    await staff(app, "admin-a", "commune_admin", "hoa-an")
    await staff(app, "admin-p", "commune_admin", "tan-phu")
    await staff(app, "admin-h", "commune_admin", "tan-hoa")
    await staff(app, "admin-ph", "commune_admin", "tan-phu", "tan-hoa")  # serves both
    await staff(app, "member-p", "member", "tan-phu", team="TP-P01")  # never a report

    sent = await sweep(app, clock, run_report_jobs, days_from(date(2026, 11, 19), 28), [7, 9, 10])

    def who(key: tuple[str, int]) -> list[str]:
        return [user for user, _ in sent[key]]

    # Tân Hòa: report 20/11 at 10:00, deadline 25/11, reminders 4 and 1 days before.
    # Tân Phú: report 05/12 at 09:00, deadline 08/12, reminder 2 days before.
    # Hòa An (the deployment's calendar): report 10/12 at 08:00, reminders 12/12, 14/12.
    assert sorted(sent) == [
        ("05/12", 9),
        ("06/12", 9),
        ("10/12", 9),
        ("12/12", 9),
        ("14/12", 9),
        ("20/11", 10),
        ("21/11", 10),
        ("24/11", 10),
    ]
    assert who(("20/11", 10)) == ["admin-h", "admin-ph"]
    assert all("Báo cáo năm 2026 của Phường Tân Hòa" in text for _, text in sent[("20/11", 10)])
    for key, days in ((("21/11", 10), 4), (("24/11", 10), 1)):
        assert who(key) == ["admin-h", "admin-ph"]
        for _, text in sent[key]:
            assert "của Phường Tân Hòa là ngày 25/11" in text and f"còn {days} ngày" in text
    assert who(("05/12", 9)) == ["admin-p", "admin-ph"]
    assert all("Báo cáo năm 2026 của Xã Tân Phú" in text for _, text in sent[("05/12", 9)])
    assert who(("06/12", 9)) == ["admin-p", "admin-ph"]
    assert all("của Xã Tân Phú là ngày 08/12, còn 2 ngày" in t for _, t in sent[("06/12", 9)])
    assert who(("10/12", 9)) == ["admin-a"]
    assert "Báo cáo năm 2026 của Xã Hòa An" in sent[("10/12", 9)][0][1]
    assert who(("12/12", 9)) == who(("14/12", 9)) == ["admin-a"]
    assert "của Xã Hòa An là ngày 15/12, còn 3 ngày" in sent[("12/12", 9)][0][1]
    # Each admin of one commune heard from it alone; the admin of two, from each.
    rows = await outbox(app, "report")
    assert Counter(row.external_id for row in rows) == {
        "admin-a": 3,
        "admin-p": 2,
        "admin-h": 3,
        "admin-ph": 5,
    }
    # The same days again (a restart, a second scheduler after a lease hand-over): nothing.
    again = await sweep(app, clock, run_report_jobs, days_from(date(2026, 11, 20), 26), [10])
    assert again == {}


async def test_each_communes_digests_go_to_its_own_team_and_admins_on_its_own_days(app, clock):
    member_a = await staff(app, "member-a", "member", "hoa-an", team="TCN-T01")
    member_p = await staff(app, "member-p", "member", "tan-phu", team="TP-P01")
    member_h = await staff(app, "member-h", "leader", "tan-hoa", team="TH-K01")
    assert len({member_a, member_p, member_h}) == 3
    await staff(app, "admin-a", "commune_admin", "hoa-an")
    await staff(app, "admin-ph", "commune_admin", "tan-phu", "tan-hoa")
    clock.now = local(2026, 11, 21, 10)  # in every commune's digest week
    await joined(app, "r-a1", "hoa-an", "T01")
    for n in range(2):
        await joined(app, f"r-p{n}", "tan-phu", "P01")
    for n in range(3):
        await joined(app, f"r-h{n}", "tan-hoa", "K01")

    days = days_from(date(2026, 11, 22), 7)
    week = await sweep(app, clock, run_digests, days, [7, 8, 9, 10], only="Tin tuần")
    # Hòa An: Monday 23/11 08:00; Tân Phú: Wednesday 25/11 09:00; Tân Hòa: Friday 27/11 10:00.
    assert sorted(week) == [("23/11", 8), ("25/11", 9), ("27/11", 10)]
    [(user, text)] = week[("23/11", 8)]
    assert user == "member-a" and "16/11 đến 22/11" in text
    assert "Người dân đăng ký mới: 1 (tuần trước: 0)" in text
    [(user, text)] = week[("25/11", 9)]
    assert user == "member-p" and "18/11 đến 24/11" in text
    assert "Người dân đăng ký mới: 2 (tuần trước: 0)" in text
    # Tân Hòa's leader, with its deadline (25/11) passed: the plain digest; no admin note.
    [(user, text)] = week[("27/11", 10)]
    assert user == "member-h" and "20/11 đến 26/11" in text
    assert "Người dân đăng ký mới: 3 (tuần trước: 0)" in text

    days = days_from(date(2026, 12, 1), 5)
    month = await sweep(app, clock, run_digests, days, [8, 9, 10], only="Tổng hợp tháng")
    # Monthly: Hòa An on the 1st at 08:00, Tân Phú on the 3rd at 09:00, Tân Hòa the 5th.
    assert [(key, [user for user, _ in rows]) for key, rows in sorted(month.items())] == [
        (("01/12", 8), ["admin-a"]),
        (("03/12", 9), ["admin-ph"]),
        (("05/12", 10), ["admin-ph"]),
    ]
    hoa_an = month[("01/12", 8)][0][1]
    assert "tháng 11/2026 của Xã Hòa An" in hoa_an and "• Thôn Đông: 1 · 0 · 0" in hoa_an
    tan_phu = month[("03/12", 9)][0][1]
    assert "tháng 11/2026 của Xã Tân Phú" in tan_phu and "• Thôn Phú Lợi: 2 · 0 · 0" in tan_phu
    assert "Thôn Đông" not in tan_phu and "Tổ dân phố" not in tan_phu
    tan_hoa = month[("05/12", 10)][0][1]
    assert "tháng 11/2026 của Phường Tân Hòa" in tan_hoa and "• Tổ dân phố 1: 3 · 0 · 0" in tan_hoa
    # Reruns of every slot (within its grace) add nothing, digests or notes.
    again = days_from(date(2026, 11, 22), 7) + days_from(date(2026, 12, 1), 5)
    assert await sweep(app, clock, run_digests, again, [11]) == {}


@sqlite_only
async def test_the_who_is_behind_note_follows_each_communes_deadline(app, clock):
    clock.now = local(2026, 11, 19, 7)
    await staff(app, "admin-a", "commune_admin", "hoa-an")
    await staff(app, "admin-h", "commune_admin", "tan-hoa")
    # Tân Hòa's deadline is 25/11: on Friday 20/11 at 10:00 its admin's note goes; Hòa
    # An's (15/12) is 25 days away on Monday 23/11, within 4 weeks: its note goes then.
    days = days_from(date(2026, 11, 20), 4)
    behind = await sweep(app, clock, run_digests, days, [8, 10], only="hạn chốt")
    assert sorted(behind) == [("20/11", 10), ("23/11", 8)]
    [(user, text)] = behind[("20/11", 10)]
    assert user == "admin-h" and "Phường Tân Hòa: còn 5 ngày nữa" in text and "25/11" in text
    assert "Tổ dân phố 1" in text
    [(user, text)] = behind[("23/11", 8)]
    assert user == "admin-a" and "Xã Hòa An: còn 22 ngày nữa" in text and "Thôn Đông" in text


@sqlite_only
async def test_the_jobs_run_at_every_communes_digest_hour(app):
    hours = {spec.id: str(spec.trigger) for spec in job_specs(app)}
    assert "hour='8,9,10'" in hours["digests"] and "hour='8,9,10'" in hours["reports"]


@sqlite_only
async def test_the_reports_page_shows_the_signed_in_communes_own_dates(app, clock, monkeypatch):
    monkeypatch.setattr(reports, "_annual_report_builder", None)
    await staff(app, "admin-a", "commune_admin", "hoa-an")
    await staff(app, "admin-p", "commune_admin", "tan-phu")
    # Tân Phú's report goes on 05/12 and is sent; Hòa An's page knows nothing of it.
    clock.now = local(2026, 12, 5, 9, 15)
    assert (await run_report_jobs(app, clock.now)).annual == 1
    async with app.database.transaction() as session:  # as the outbox worker marks it
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "report")
            .values(status="sent", sent_at=clock.now)
        )
    pages = {}
    for user in ("admin-a", "admin-p"):
        async with web_client(app) as client:
            await signed_in(client, Chat(app, user=user, channel="telegram"))
            pages[user] = await (await client.get("/web/bao-cao")).text()
    hoa_an, tan_phu = pages["admin-a"], pages["admin-p"]
    assert "Báo cáo năm 2026</th><td>08:00 ngày 10/12/2026" in hoa_an
    assert "(trước hạn 3 ngày)</th><td>08:00 ngày 12/12/2026" in hoa_an
    assert "Chưa có báo cáo định kỳ nào được gửi." in hoa_an
    assert "Báo cáo năm 2027</th><td>09:00 ngày 05/12/2027" in tan_phu  # 2026's has gone
    assert "(trước hạn 2 ngày)</th><td>09:00 ngày 06/12/2026" in tan_phu
    assert "Lần gửi gần nhất: Báo cáo năm 2026, lúc 09:15 ngày 05/12/2026." in tan_phu


def _settings(tmp_path, folder) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        communes_dir=folder,
    )


@pytest.mark.parametrize(
    ("calendar", "said"),
    [
        ({"annual_report_date": "31/02"}, "calendar: Value error, annual_report_date"),
        ({"report_deadline": "15-12"}, "calendar.report_deadline: String should match"),
        ({"digest_weekday": 7}, "calendar.digest_weekday"),
        ({"deadline_reminder_days": [0]}, "deadline_reminder_days: each must be 1..60"),
        ({"digest_hour": 22}, "calendar.digest_hour: hour 22 falls in the quiet hours 21:00-7:00"),
        ({"quiet": True}, "calendar.quiet: Extra inputs are not permitted"),
    ],
)
async def test_a_wrong_calendar_stops_the_start_with_file_and_field(tmp_path, calendar, said):
    folder = write_communes(tmp_path / "communes")
    path = folder / "tan-phu.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calendar"] = calendar
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommuneFileError) as err:
        await build_app(_settings(tmp_path, folder))
    message = explain(err.value)
    assert message is not None and message.startswith("Tệp thông tin xã chưa đúng: ")
    assert f"{path}: " in message and said in message
