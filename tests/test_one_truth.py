"""One truth for every figure, on SQLite and PostgreSQL.

Residents, team members and admins use the bot through the console; then the team's
village view, the admin overview, the weekly digest, the CSV, the XLSX and the thi đua
annex must show the same value for every figure they share, village by village, and
staff who joined through an invite must not be counted as residents.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.reports import tables
from bot.reports.compute import Programme, compute_report
from bot.reports.exports import render
from bot.reports.model import Report
from bot.reports.periods import Period, calendar_range, since_launch
from bot.reports.texts import ReportTexts
from bot.scheduling.digests import weekly_digests
from bot.team.invites import create_invite
from tests.support import Chat, FakeClock, make_app
from tests.team_support import (
    add_households,
    household_id,
    onboarded,
    queued,
    resident_code,
    texts_of,
    village_id,
)

VILLAGES = {"T01": "Thôn Đông", "T02": "Thôn Tây"}
MONDAY = date(2026, 11, 23)  # the digest after the week 16-22/11, which holds everything


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


def number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in:\n{text}"
    return int(match.group(1))


async def invite(admin: Chat, role_choice: str, team_label: str) -> str:
    await admin.text("/quantri")
    await admin.choose("invite_role")
    await admin.choose(role_choice)
    await admin.choose(next(c.id for c in admin.last.choices if c.label == team_label))
    await admin.choose("u:5")
    match = re.search(r"Mã mời: ([A-Z0-9]{8})", admin.all_text())
    assert match, admin.all_text()
    return match.group(1)


async def admin_invite(app, clock: FakeClock) -> str:
    """A commune admin's invite, as `hocvuso invite` makes it."""
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
    return info.code


async def joins(app, user: str, code: str, channel: str = "console") -> Chat:
    """Someone new opens an invite link and consents: staff from the first step. (The
    digest goes to messengers only, so the team's two are on Telegram.)"""
    chat = Chat(app, user=user, name="Cán bộ", channel=channel)
    await chat.start(f"inv_{code}")
    await chat.choose("agree")
    return chat


async def learn(chat: Chat, lesson_id: str) -> None:
    await chat.read_lesson(lesson_id)
    await chat.take_quiz(lesson_id)


async def log_visit(member: Chat, hid: int) -> None:
    await member.text("/to")
    await member.choose("visit")
    await member.choose(f"h:{hid}")
    await member.choose("s:vneid_level2")
    await member.choose("done")
    await member.choose("skip")


async def world(app, clock: FakeClock) -> dict[str, Chat]:
    """Five residents, an admin who invites a member, a leader and a second admin; the
    member and the leader learn a lesson too, and the member visits two households."""
    lessons = list(app.engine.services.curriculum.lessons)
    await add_households(app, "T01", [("H001", None), ("H002", None), ("H003", None)])
    admin = await onboarded(app, "admin", "commune_admin", village="T02")
    residents = [await onboarded(app, f"r{n}", village="T01") for n in range(3)]
    residents += [await onboarded(app, f"r{n}", village="T02") for n in range(3, 5)]
    await residents[0].text("/ho")
    await residents[0].text(await resident_code(app, "T01", "H001"))
    clock.advance(minutes=5)
    code = await invite(admin, "r:member", "Thôn Đông")
    member = await joins(app, "1001", code, "telegram")
    leader = await joins(app, "1002", await invite(admin, "r:leader", "Thôn Tây"), "telegram")
    admin2 = await joins(app, "admin2", await admin_invite(app, clock))
    assert "Chào mừng" in member.all_text() and "Chào mừng" in leader.all_text()
    clock.advance(minutes=5)
    await learn(residents[0], lessons[0])
    await learn(residents[1], lessons[0])
    await learn(residents[3], lessons[0])
    await learn(member, lessons[0])  # staff count as learners for what they learn
    await learn(leader, lessons[1])
    await log_visit(member, await household_id(app, "T01", "H002"))
    await log_visit(member, await household_id(app, "T01", "H001"))
    await residents[0].choose("vok")  # the household confirms the visit
    assert "Cảm ơn bạn đã xác nhận" in residents[0].all_text()
    return {"admin": admin, "admin2": admin2, "member": member, "leader": leader}


async def village_view(chat: Chat, village_id: int | None = None) -> str:
    if village_id is None:
        await chat.text("/to")
        await chat.choose("view")
    else:
        await chat.text("/quantri")
        await chat.choose("admin_villages")
        await chat.choose(f"v:{village_id}")
    return chat.last.text


def view_figures(text: str) -> dict[str, int]:
    return {
        "registered": number(r"Người dân đăng ký: (\d+)", text),
        "households_reached": number(r"Hộ đã tiếp cận: (\d+)/", text),
        "completions": number(r"Lượt học xong bài: (\d+)\n", text),
        "visits": number(r"Lượt hỗ trợ tại hộ: (\d+)\n", text),
        "new_week": number(r"Người đăng ký mới: (\d+) /", text),
        "completions_week": number(r"Lượt học xong bài: (\d+) /", text),
        "visits_week": number(r"Lượt hỗ trợ tại hộ: (\d+) /", text),
    }


async def report_for(app, period: Period, now: datetime) -> Report:
    services = app.engine.services
    return await compute_report(
        app.database,
        services.communes.only.id,
        period,
        Programme.of(services.curriculum),
        now=now,
    )


def csv_rows(report: Report) -> dict[str, dict[str, str]]:
    text = render(report, "csv").decode("utf-8-sig")
    return {row["village_name"]: row for row in csv.DictReader(io.StringIO(text))}


def xlsx_values(report: Report, sheet_key: str, column_keys: tuple[str, ...]) -> dict[str, dict]:
    """Cell values of a sheet's rows by village name, read with openpyxl: the header row
    is the one holding the first column's label."""
    t = ReportTexts(report.commune.unit_label)
    workbook = load_workbook(io.BytesIO(render(report, "xlsx", include_names=True)))
    ws = workbook[t(f"sheets.{sheet_key}")[:31]]
    labels = {key: t(f"columns.{key}") for key in column_keys}
    rows = list(ws.iter_rows(values_only=True))
    header = next(r for r in rows if labels[column_keys[0]] in r)
    index = {key: header.index(label) for key, label in labels.items()}
    found = {}
    for row in rows:
        name = next((cell for cell in row if cell in VILLAGES.values()), None)
        if name is not None:
            found[name] = {key: row[i] for key, i in index.items()}
    return found


async def test_every_place_shows_the_same_figures_and_staff_are_not_residents(app, clock):
    people = await world(app, clock)
    ids = {code: await village_id(app, code) for code in VILLAGES}

    # The team's view (a member sees their village; an admin any) and the admin overview.
    views = {
        "Thôn Đông": view_figures(await village_view(people["member"])),
        "Thôn Tây": view_figures(await village_view(people["admin2"], ids["T02"])),
    }
    assert "số liệu đến nay" in people["member"].last.text
    await people["admin"].text("/quantri")
    await people["admin"].choose("admin_villages")
    overview = people["admin"].last.text
    assert "số liệu đến nay" in overview
    for name, figures in views.items():
        line = re.search(rf"• {name}: (\d+)/\d+ hộ \(\d+%\), (\d+) người đăng ký", overview)
        assert line, overview
        assert (int(line.group(1)), int(line.group(2))) == (
            figures["households_reached"],
            figures["registered"],
        )

    # Staff are not residents: 3 + 2 residents, whatever the four staff did.
    assert views["Thôn Đông"]["registered"] == 3 and views["Thôn Tây"]["registered"] == 2
    # ... but they count as learners for the lessons they took.
    assert views["Thôn Đông"]["completions"] == 3 and views["Thôn Tây"]["completions"] == 2
    assert views["Thôn Đông"]["households_reached"] == 2  # H001 (resident, visit), H002

    # The reports to now: CSV, XLSX (cell values), the annex; the same per village.
    now = clock() + timedelta(minutes=1)
    report = await report_for(app, since_launch(date(2025, 10, 10), now), now)
    assert report.total.registered == 5 and report.total.members == 2
    rows = {v.name: v.metrics for v in report.villages if v.id is not None}
    csvs = csv_rows(report)
    keys = ("registered", "households_reached", "completions", "visits", "basic_new")
    sheet = xlsx_values(report, "villages", (*keys, "households_verified", "assisted_basic"))
    t = ReportTexts(report.commune.unit_label)
    annex = tables.ranking_tables(report, t, include_names=True)[0]
    assert annex.key == "rank_villages"
    annex_rows = {record["name"]: record for record in annex.records()}
    annex_sheet = xlsx_values(report, "rank_villages", tables.RANKING_COLUMNS)
    for name, view in views.items():
        m = rows[name]
        shared = {
            "registered": (view["registered"], m.registered, csvs[name]["residents_registered"]),
            "households_reached": (
                view["households_reached"],
                m.households_reached,
                csvs[name]["households_reached"],
            ),
            "completions": (view["completions"], m.completions, csvs[name]["lesson_completions"]),
            "visits": (view["visits"], m.visits, csvs[name]["support_visits"]),
        }
        for key, (in_view, in_report, in_csv) in shared.items():
            assert in_view == in_report == int(in_csv) == int(sheet[name][key]), (name, key)
        for key in tables.RANKING_COLUMNS:  # the annex: the main tables' own figures
            value = getattr(m, key)
            assert annex_rows[name][key] == value == int(annex_sheet[name][key]), (name, key)
            assert int(sheet[name][key]) == value, (name, key)
    assert rows["Thôn Đông"].households_verified == 1
    # Annex columns add up to the commune's where each person is in one village.
    for key in ("basic_new", "assisted_basic"):
        assert sum(getattr(m, key) for m in rows.values()) <= getattr(report.total, key)

    # The weekly digest, the view's "this week" and a report of that week agree.
    week_report = await report_for(
        app, calendar_range(MONDAY - timedelta(days=7), MONDAY - timedelta(days=1)), now
    )
    week_rows = {v.name: v.metrics for v in week_report.villages if v.id is not None}
    clock.now = datetime(2026, 11, 23, 1, 0, tzinfo=clock().tzinfo)  # Monday 08:00 local
    await weekly_digests(app, MONDAY, clock())
    digests = {
        "Thôn Đông": texts_of(await queued(app, people["member"], kind="digest"))[0],
        "Thôn Tây": texts_of(await queued(app, people["leader"], kind="digest"))[0],
    }
    for name, text in digests.items():
        m, view = week_rows[name], views[name]
        new = number(r"Người dân đăng ký mới: (\d+)", text)
        lessons = number(r"Lượt học xong bài: (\d+)", text)
        visits = number(r"Lượt hỗ trợ tại hộ: (\d+)", text)
        assert new == m.new == view["new_week"] == int(csv_rows(week_report)[name]["residents_new"])
        assert lessons == m.completions == view["completions_week"]
        assert visits == m.visits == view["visits_week"]
    assert number(r"Người dân đăng ký mới: (\d+)", digests["Thôn Đông"]) == 3
