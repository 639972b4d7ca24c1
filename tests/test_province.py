"""The province officer: every commune's figures in one roll-up (file, command line and
dashboard page), the same figures as each commune's own report, and nothing personal.

Three communes in one database: Hòa An (the indicator tests' scenario, every figure
known), Phú Mỹ (tổ dân phố) and An Bình, each with its own villages and events."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.reports import province as rollup
from bot.reports import tables as tb
from bot.reports.compute import compute_report
from bot.reports.texts import ReportTexts
from config.commune import CommuneFile
from storage.models import ParticipationEvent, Person, Team, Village
from storage.registry import sync_commune
from storage.team_models import AuditEntry, Household, StaffRole, SupportVisit
from tests.support import Chat, make_app
from tests.team_support import grant, onboarded
from tests.test_import import invoke
from tests.test_reports_indicators import PROGRAMME, YEAR_2026, build_scenario, local
from tests.web_support import signed_in, web_client

SECRET_NAMES = ("Nguyễn Bí Mật", "Trần Riêng Tư", "Bà Lan", "Chị Mai")


def commune_file(code: str, name: str, unit: str, villages: list[tuple[str, int]]) -> CommuneFile:
    return CommuneFile.model_validate(
        {
            "commune": {
                "code": code,
                "name": name,
                "unit_label": unit,
                "launch_date": "2025-11-01",
            },
            "villages": [
                {"code": v, "name": f"{unit.capitalize()} {v}", "households": n}
                for v, n in villages
            ],
            "teams": [
                {"code": f"TCN-{v}", "village": v, "name": f"Tổ công nghệ số {v}"}
                for v, _ in villages
            ],
        }
    )


async def add_commune(app, data: CommuneFile, residents: list[tuple[str, str, int]]) -> int:  # type: ignore[no-untyped-def]
    """A commune with `residents` (name, village code, lessons passed of L1, L2, L3)."""
    async with app.database.transaction() as s:
        commune = await sync_commune(s, data)
        cid = commune.id
        villages = {
            v.code: v.id for v in await s.scalars(select(Village).where(Village.commune_id == cid))
        }
        teams = {
            t.village_id: t.id for t in await s.scalars(select(Team).where(Team.commune_id == cid))
        }
        for number, (name, code, lessons) in enumerate(residents):
            village = villages[code]
            team = teams[village]
            person = Person(commune_id=cid, display_name=name, village_id=village,
                            created_at=local(2026, 1, 2))  # fmt: skip
            s.add(person)
            await s.flush()

            def ev(kind: str, at: datetime, lesson: str | None = None, *,
                   where: int | None = village, pid: int = person.id,
                   team: int = team) -> None:  # fmt: skip
                s.add(ParticipationEvent(occurred_at=at, kind=kind, person_id=pid,
                                         commune_id=cid, village_id=where, team_id=team,
                                         channel="zalo", lesson_id=lesson))  # fmt: skip

            ev("registered", local(2026, 1, 3 + number, 9), where=None)
            ev("village_set", local(2026, 1, 3 + number, 9, 1))
            for n, lesson in enumerate(("L1", "L2", "L3")[:lessons]):
                at = local(2026, 2 + n, 1 + number, 10)
                ev("lesson_started", at, lesson)
                ev("lesson_completed", at.replace(minute=10), lesson)
                ev("quiz_passed", at.replace(minute=20), lesson)
                if lesson == "L2":
                    ev("programme_completed", at.replace(minute=20), lesson)
        first = min(villages.values())
        home = Household(village_id=first, code="H001", created_at=local(2025, 12, 1))
        s.add(home)
        await s.flush()
        member = Person(commune_id=cid, display_name="Trần Riêng Tư", village_id=first,
                        created_at=local(2025, 12, 1))  # fmt: skip
        s.add(member)
        await s.flush()
        s.add(StaffRole(person_id=member.id, role="member", commune_id=cid, team_id=teams[first],
                        created_at=local(2025, 12, 1)))  # fmt: skip
        s.add(SupportVisit(household_id=home.id, member_person_id=member.id,
                           team_id=teams[first], village_id=first, commune_id=cid,
                           services=["vneid_install"], visited_at=local(2026, 3, 3, 9),
                           verified_at=local(2026, 3, 4, 9)))  # fmt: skip
    return cid


@pytest.fixture
async def province(db_url, tmp_path, clock):  # type: ignore[no-untyped-def]
    """(app, {code: commune id}) with three communes of different sizes."""
    clock.now = local(2026, 11, 20, 9)
    app = await make_app(db_url, tmp_path, clock)
    scenario = await build_scenario(app)
    phu_my = commune_file("phu-my", "Phường Phú Mỹ", "tổ dân phố", [("TDP1", 120), ("TDP2", 80)])
    an_binh = commune_file("an-binh", "Xã An Bình", "thôn", [("A1", 300), ("A2", 150), ("A3", 90)])
    ids = {"hoa-an": scenario.commune_id}
    ids["phu-my"] = await add_commune(
        app, phu_my, [("Nguyễn Bí Mật", "TDP1", 3), ("Lê Hai", "TDP2", 1)]
    )
    ids["an-binh"] = await add_commune(
        app,
        an_binh,
        [("Phạm Ba", "A1", 2), ("Võ Bốn", "A2", 0), ("Đỗ Năm", "A3", 2), ("Hồ Sáu", "A3", 1)],
    )
    yield app, ids
    await app.close()


async def test_every_commune_has_its_own_reports_figures_and_the_total_adds_them(province):  # type: ignore[no-untyped-def]
    app, ids = province
    report = await rollup.compute_province(app.database, YEAR_2026, PROGRAMME, body="Tỉnh Thử")
    assert [c.code for c, _ in report.communes] == ["an-binh", "hoa-an", "phu-my"]
    for info, metrics in report.communes:
        own = await compute_report(app.database, ids[info.code], YEAR_2026, PROGRAMME)
        assert metrics == own.total, info.code  # the commune report's "Toàn xã" row
    # Hòa An's scenario: 6 residents in 2026 (A, P with its linked account, D, E, F, H);
    # Phú Mỹ 2 and An Bình 4: a person belongs to one commune, so the total is the sum.
    registered = {c.code: m.registered for c, m in report.communes}
    assert registered == {"hoa-an": 6, "phu-my": 2, "an-binh": 4}
    total = report.total
    assert total.registered == 12
    assert total.basic_cum == 3 + 1 + 2  # A, P, E; Nguyễn Bí Mật; Phạm Ba and Đỗ Năm
    assert total.households_total == sum(m.households_total for _, m in report.communes)
    assert total.visits == sum(m.visits for _, m in report.communes)
    assert total.members == sum(m.members for _, m in report.communes)
    assert total.households_pct == round(
        100 * total.households_reached / total.households_total, 1
    )  # recomputed from the sums, not averaged


async def test_the_file_has_the_commune_reports_columns_a_province_header_and_no_names(province):  # type: ignore[no-untyped-def]
    app, ids = province
    export = await rollup.export_province(
        app.database, YEAR_2026, "xlsx", actor="cli:test", body="Tỉnh Quảng Ngãi",
        curriculum=PROGRAMME, now=local(2026, 11, 20, 9),
    )  # fmt: skip
    sheet = load_workbook(io.BytesIO(export.data)).active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    text = "\n".join(str(c) for row in cells for c in row if c is not None)
    assert cells[0][0] == "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI"
    assert cells[1][0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert f"Kỳ báo cáo: {YEAR_2026.label}" in text
    header = next(i for i, row in enumerate(cells) if row[0] == "STT")
    # The commune report's main table, column for column (after the name columns).
    commune_report = await compute_report(app.database, ids["hoa-an"], YEAR_2026, PROGRAMME)
    villages = tb.villages_table(commune_report, ReportTexts("thôn"))
    assert list(cells[header][3:]) == [c.header for c in villages.columns[3:]]
    body = cells[header + 1 : header + 4]
    assert [row[1] for row in body] == ["an-binh", "hoa-an", "phu-my"]
    total = cells[header + 4]
    assert total[2] == "Toàn tỉnh"
    registered = [c.key for c in villages.columns].index("registered")
    assert total[registered] == sum(row[registered] for row in body) == 12
    assert not any(name in text for name in SECRET_NAMES)

    data = rollup.render(export.report, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert [r["commune_code"] for r in rows] == ["an-binh", "hoa-an", "phu-my"]
    assert [int(r["residents_registered"]) for r in rows] == [4, 6, 2]
    assert not any(name in data for name in SECRET_NAMES)

    async with app.database.session() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "province.export")
        )
    assert entry.commune_id is None and entry.actor == "cli:test"
    assert entry.detail["communes"] == 3 and entry.detail["format"] == "xlsx"


async def _officer(app) -> Chat:  # type: ignore[no-untyped-def]
    return await onboarded(app, "tinh-1", "province_officer", name="Cán bộ Tỉnh")


async def test_the_province_page_shows_every_commune_and_nothing_personal(province):  # type: ignore[no-untyped-def]
    app, ids = province
    officer = await _officer(app)
    async with web_client(app) as client:
        first = await signed_in(client, officer)
        assert str(first.url).endswith("/web/tinh")  # their home: no commune pages
        html = await first.text()
        report = await rollup.compute_province(app.database, YEAR_2026, PROGRAMME)
        for info, metrics in report.communes:
            row = re.search(rf'<tr data-code="{info.code}">(.*?)</tr>', html, re.S)
            assert row, info.code
            assert info.name in row.group(1)
            registered = re.search(r'data-k="registered">([^<]*)<', row.group(1)).group(1)
            assert registered == str(metrics.registered)
        assert "Toàn tỉnh" in html
        assert not any(name in html for name in SECRET_NAMES)
        assert 'href="/web/ho"' not in html and 'href="/web/nhat-ky"' not in html
        for fmt, kind in (("xlsx", "spreadsheetml"), ("csv", "text/csv")):
            got = await client.get(f"/web/tinh/tai?ky=y0&dang={fmt}")
            assert got.status == 200 and kind in got.headers["Content-Type"]
            assert "tong-hop-tinh" in got.headers["Content-Disposition"]
        household = await _a_household(app)
        refused = [
            "/web/", "/web/thon", "/web/thon/T01", "/web/ho", f"/web/ho/{household}",
            "/web/ho?thon=T01", "/web/cau-hoi", "/web/nhat-ky", "/web/bao-cao",
            "/web/bao-cao/tai?ky=y0&dang=xlsx", "/web/thong-bao", "/web/thon/TDP1",
        ]  # fmt: skip
        for path in refused:
            got = await client.get(path, allow_redirects=False)
            if path == "/web/":
                assert got.status == 303 and got.headers["Location"] == "/web/tinh"
                continue
            assert got.status == 403, path
            shown = await got.text()
            assert not any(name in shown for name in SECRET_NAMES)
    async with app.database.session() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor.like("person:%"))
                .order_by(AuditEntry.id)
            )
        )  # fmt: skip
    assert actions.count("province.view") == 1 and actions.count("province.export") == 2
    assert actions.count("denied:village_view") >= 6


async def _a_household(app) -> int:  # type: ignore[no-untyped-def]
    async with app.database.session() as session:
        return int(await session.scalar(select(Household.id).limit(1)))


async def test_a_commune_admin_is_refused_the_province_page_a_deployment_admin_is_not(province):  # type: ignore[no-untyped-def]
    app, _ids = province
    admin = await onboarded(app, "xa-1", "commune_admin", name="Cán bộ Xã")
    async with web_client(app) as client:
        home = await signed_in(client, admin)
        assert 'href="/web/tinh"' not in await home.text()
        for path in ("/web/tinh", "/web/tinh/tai?ky=y0&dang=xlsx"):
            got = await client.get(path)
            assert got.status == 403, path
    deployment = await onboarded(app, "ht-1", "deployment_admin", name="Quản trị")
    async with web_client(app) as client:
        home = await signed_in(client, deployment)
        assert 'href="/web/tinh"' in await home.text()
        got = await client.get("/web/tinh?ky=q")
        assert got.status == 200 and "Phường Phú Mỹ" in await got.text()


async def test_admin_add_province_is_claimed_in_chat_for_every_commune(province, db_url, tmp_path):  # type: ignore[no-untyped-def]
    app, _ids = province
    made = await invoke(
        db_url, tmp_path, "admin", "add", "--role", "province", "--name", "Anh Tỉnh"
    )
    assert made.exit_code == 0, made.output
    assert "cán bộ tỉnh" in made.output
    payload = re.search(r"inv_[A-Z0-9]{8}", made.output).group(0)
    chat = Chat(app, user="tinh-2")
    await chat.start(payload)
    await chat.choose("agree")
    welcome = chat.all_text()
    assert "vai trò cán bộ tỉnh" in welcome and "/web" in welcome and "/quantri" not in welcome
    assert "không có quyền" not in welcome
    async with app.database.session() as session:
        roles = list(
            await session.scalars(select(StaffRole).where(StaffRole.role == "province_officer"))
        )
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "invite.create"))
    assert len(roles) == 1 and roles[0].commune_id is None  # every commune
    assert entry.detail["name"] == "Anh Tỉnh" and entry.detail["role"] == "province_officer"
    async with web_client(app) as client:
        page = await signed_in(client, chat)
        assert "Phường Phú Mỹ" in await page.text()
    refused = await invoke(db_url, tmp_path, "admin", "add", "--name", "X")
    assert refused.exit_code == 2 and "--commune" in refused.output
    one = await invoke(db_url, tmp_path, "report", "province", "--commune", "hoa-an")
    assert one.exit_code == 2 and "Báo cáo toàn tỉnh gồm mọi xã, phường" in one.output


async def test_the_officer_is_staff_in_the_figures(province):  # type: ignore[no-untyped-def]
    """Like a deployment admin, a province officer who also registered as a resident of a
    commune is not one of its residents (docs/glossary.md, "Staff")."""
    app, ids = province
    before = await compute_report(app.database, ids["hoa-an"], YEAR_2026, PROGRAMME)
    officer = await _officer(app)  # registers in Hòa An, then holds the role
    after = await compute_report(app.database, ids["hoa-an"], YEAR_2026, PROGRAMME)
    assert after.total.registered == before.total.registered
    await grant(app, officer, "province_officer")  # a second grant changes nothing either
    again = await compute_report(app.database, ids["hoa-an"], YEAR_2026, PROGRAMME)
    assert again.total.registered == before.total.registered
