"""Reports in chat (/baocao): admins get the commune, teams their village without
names, residents nothing; every export is audited; the document reaches Telegram
through sendDocument, Zalo as a download link (or a note where none can be served),
the console as a file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from bot.channels.console.chat import message_json
from bot.channels.telegram.render import MAX_CAPTION, render
from bot.channels.zalo.render import render_parts
from bot.core.messages import Document, Outbound, Reply
from bot.core.screens.report_request import current_report_month
from bot.core.texts import Texts
from bot.reports import exports
from storage.team_models import AuditEntry
from tests.support import Chat, make_app
from tests.team_support import onboarded, person_of, seed_admin
from tests.test_roles import force_screen
from tests.test_telegram_e2e import CHAT, running

MEMBER_NAME = "Trần Văn Minh"


def documents(reply: Reply) -> list[Document]:
    return [m.document for m in reply.messages if m.document is not None]


async def audits(app: Any) -> list[AuditEntry]:
    async with app.database.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == "report_export")
        return list(await session.scalars(query.order_by(AuditEntry.id)))


def sheet_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data))
    return " ".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row)


async def ask(chat: Chat, period: str, fmt: str) -> Reply:
    await chat.text("/baocao")
    assert chat.choice_ids[:5] == ["p:y0", "p:y1", "p:q", "p:m", "p:all"]
    await chat.choose(f"p:{period}")
    assert chat.choice_ids[:4] == ["f:xlsx", "f:docx", "f:pdf", "f:csv"]
    return await chat.choose(f"f:{fmt}")


async def test_admin_gets_the_whole_commune_with_names(db_url, tmp_path, clock) -> None:
    app = await make_app(db_url, tmp_path, clock)
    try:
        t = app.engine.services.texts
        await onboarded(app, "m1", "member", village="T01", name=MEMBER_NAME)
        admin = await onboarded(app, "a1", "commune_admin", village="T02", name="Cán bộ Hà")
        reply = await ask(admin, "y0", "xlsx")
        admin_id = (await person_of(app, admin)).id
        entries = await audits(app)
    finally:
        await app.close()
    [document] = documents(reply)
    assert document.filename == "bao-cao-hoa-an-2026.xlsx"
    assert document.content_type == exports.CONTENT_TYPES["xlsx"]
    text = sheet_text(document.data)
    assert "Thôn Đông" in text and "Thôn Tây" in text and "Thôn Nam" in text
    assert MEMBER_NAME in text  # admins see the members' names
    summary = reply.messages[-2]
    assert summary.document is document and "Xã Hòa An" in summary.text
    assert "Năm 2026" in summary.text
    # As the documents write it: an open period's figures run "to" today, numbers with
    # the thousands separator, both sources of the basic programme named.
    assert "Số liệu đến ngày 20/11/2026:" in summary.text
    assert "cuối kỳ" not in summary.text
    assert "/2.527 hộ" in summary.text
    assert "chương trình cơ bản trên bot" in summary.text
    assert "được Tổ hỗ trợ học trực tiếp hoàn thành" in summary.text
    assert t("admin.title", commune="Xã Hòa An") in reply.messages[-1].text
    [entry] = entries
    assert (entry.actor, entry.succeeded) == (f"person:{admin_id}", True)
    assert entry.detail["period"] == "2026" and entry.detail["village"] is None
    assert entry.detail["include_names"] is True and entry.detail["format"] == "xlsx"


async def test_a_member_gets_their_own_village_without_names(db_url, tmp_path, clock) -> None:
    app = await make_app(db_url, tmp_path, clock)
    try:
        await onboarded(app, "r1", village="T01")
        await onboarded(app, "r2", village="T02")
        member = await onboarded(app, "m1", "member", village="T01", name=MEMBER_NAME)
        reply = await ask(member, "m", "csv")
        [document] = documents(reply)
        spreadsheet = documents(await ask(member, "q", "xlsx"))
        entries = await audits(app)
    finally:
        await app.close()
    rows = list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))
    assert [row["village_code"] for row in rows] == ["T01"]
    assert rows[0]["residents_registered"] == "1"  # r1; the member is staff, not a resident
    assert (rows[0]["period_start"], rows[0]["period_end"]) == ("2026-11-15", "2026-12-14")
    assert document.filename == "bao-cao-hoa-an-2026-12-T01.csv"
    assert "Thôn Đông" in reply.messages[-2].text
    assert reply.messages[-1].choices[0].id == "referral"  # back on the team tools
    assert MEMBER_NAME not in sheet_text(spreadsheet[0].data)
    assert [(e.detail["village"], e.detail["include_names"]) for e in entries] == [
        ("T01", False),
        ("T01", False),
    ]
    assert entries[1].detail["period"] == "2026-Q4"


async def test_residents_and_forged_choices_get_nothing(db_url, tmp_path, clock) -> None:
    app = await make_app(db_url, tmp_path, clock)
    try:
        t = app.engine.services.texts
        resident = await onboarded(app, "r1")
        await resident.text("/menu")
        assert "report_request" not in resident.choice_ids
        reply = await resident.text("/baocao")
        assert t("common.not_allowed") in resident.all_text() and not documents(reply)
        # A stale or forged report screen: the role is checked again on the choice.
        await force_screen(app, resident, "report_format", ["f:xlsx"], period="y0")
        reply = await resident.choose("f:xlsx")
        assert t("common.not_allowed") in resident.all_text() and not documents(reply)
        await force_screen(app, resident, "report_request", ["p:y0"])
        await resident.choose("p:y0")
        assert t("common.not_allowed") in resident.all_text()
        # A member pressing a format that was never offered, or with a forged period.
        member = await onboarded(app, "m1", "member", village="T01")
        await member.text("/menu")
        assert "report_request" in member.choice_ids
        await force_screen(app, member, "report_format", ["f:html"], period="y0")
        assert not documents(await member.choose("f:html"))
        await force_screen(app, member, "report_format", ["f:csv"], period="1999")
        assert not documents(await member.choose("f:csv"))
        entries = await audits(app)
    finally:
        await app.close()
    assert entries == []


async def test_a_failed_build_apologises(sqlite_url, tmp_path, clock, monkeypatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "export_report", broken)
    app = await make_app(sqlite_url, tmp_path, clock)
    try:
        admin = await onboarded(app, "a1", "commune_admin")
        reply = await ask(admin, "all", "pdf")
        t = app.engine.services.texts
    finally:
        await app.close()
    assert not documents(reply)
    assert reply.messages[-2].text == t("report_request.failed")


def test_current_report_month_follows_the_cutoffs() -> None:
    # 14/12 local is still December; 15/12 local opens January of the next year.
    assert current_report_month(datetime(2026, 12, 14, 16, 59, tzinfo=UTC)) == (2026, 12)
    assert current_report_month(datetime(2026, 12, 14, 17, 0, tzinfo=UTC)) == (2027, 1)


def test_channels_hand_over_the_document(tmp_path: Path) -> None:
    texts = Texts.load("vi")
    document = Document("bao-cao.csv", "text/csv", b"a,b\n")
    short = Outbound("Báo cáo", document=document)
    [part] = render(short, tmp_path)
    assert (part.text, part.document) == ("Báo cáo", document)
    long = render(Outbound("x " * MAX_CAPTION, document=document), tmp_path)
    assert long[-1].document is document and long[-1].text == ""
    assert all(p.document is None for p in long[:-1])
    [zalo] = render_parts([short], texts)
    assert zalo.text == "Báo cáo\n\n" + texts("report_request.zalo_no_file")
    line = json.loads(message_json(short, tmp_path))
    assert Path(line["document"]) == tmp_path / "exports" / "bao-cao.csv"
    assert Path(line["document"]).read_bytes() == b"a,b\n"


async def test_the_report_arrives_on_telegram(sqlite_url, tmp_path, clock) -> None:
    async with running(sqlite_url, tmp_path, clock) as bot:
        fake, t = bot.fake, bot.texts
        await seed_admin(bot.app, str(CHAT))
        await bot.say("/menu")
        await bot.say("/baocao")
        await bot.press(t("report_request.period_year", year=2026))
        await bot.press(t("report_request.formats.xlsx"))
        [call] = fake.calls_to("sendDocument")
        assert call.ok and call.params["caption"].startswith("📄")
        attached = call.params["document"].removeprefix("attach://")
        assert call.filenames[attached] == "bao-cao-hoa-an-2026.xlsx"
        assert "Thôn Đông" in sheet_text(call.files[attached])
        assert t("admin.title", commune="Xã Hòa An") in bot.latest()["text"]
        fake.assert_no_violations()


async def test_an_officer_on_zalo_gets_a_link_that_works_until_it_expires(
    db_url, tmp_path, clock
) -> None:
    """Zalo sends no files: with web.public_url set the report comes as a download link,
    served by the web app, audited, and deleted by housekeeping once expired."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.scheduling.housekeeping import run_housekeeping
    from bot.web import build_web_app
    from config.settings import WebSettings
    from storage.delivery_models import FileDownload
    from tests.team_support import grant

    web = WebSettings(public_url="https://bot.hoa-an.example/", download_hours=24)
    app = await make_app(db_url, tmp_path, clock, web=web)
    services = app.engine.services
    client = TestClient(
        TestServer(build_web_app(app.database, [], texts=services.texts, clock=clock))
    )
    await client.start_server()
    try:
        await onboarded(app, "m1", "member", village="T01", name=MEMBER_NAME)
        officer = Chat(app, user="z-officer", channel="zalo", name="Cán bộ Hà")
        await officer.onboard(village="v:T02")
        await grant(app, officer, "commune_admin", None)
        reply = await ask(officer, "y0", "xlsx")
        assert documents(reply) == []
        summary = reply.messages[-2].text
        assert "Tải tệp báo cáo tại đây (dùng được trong 24 giờ" in summary
        url = summary.split()[-1]
        assert url.startswith("https://bot.hoa-an.example/files/")
        path = url.removeprefix("https://bot.hoa-an.example")

        response = await client.get(path)
        assert response.status == 200
        assert "bao-cao-hoa-an-2026.xlsx" in response.headers["Content-Disposition"]
        assert MEMBER_NAME in sheet_text(await response.read())  # an admin's export
        assert (await client.get(path[:-1] + "x")).status == 404  # a guessed token
        async with app.database.session() as session:
            download = await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "report_download")
            )
        assert download.actor == f"person:{(await person_of(app, officer)).id}"

        clock.advance(hours=24, seconds=1)
        gone = await client.get(path)
        assert gone.status == 404 and "đã hết hạn" in await gone.text()
        assert (await run_housekeeping(app, clock())).downloads == 1
        async with app.database.session() as session:
            assert await session.scalar(select(FileDownload)) is None
    finally:
        await client.close()
        await app.close()
