"""Report files open in the tools officers use, say the right things, and are audited."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.reports.exports import UnknownVillage, build_report, report_filename
from bot.reports.render_csv import DIGITAL_COLUMNS, HEADER, LATER_COLUMNS
from bot.reports.templates.build_docx_template import TEMPLATE, build
from storage.team_models import AuditEntry
from tests.support import make_app
from tests.test_reports_indicators import PROGRAMME, YEAR_2026, build_scenario

DOCUMENTED_CSV_COLUMNS = [
    "village_code",
    "village_name",
    "households_total",
    "households_reached",
    "residents_registered",
    "residents_active",
    "lesson_completions",
    "learners_completed_any",
    "learners_completed_basic",
    "support_visits",
    "support_visits_verified",
]


@pytest.fixture
async def commune(sqlite_url, tmp_path):  # type: ignore[no-untyped-def]
    app = await make_app(sqlite_url, tmp_path)
    try:
        yield app, await build_scenario(app)
    finally:
        await app.close()


async def export(app, sc, fmt: str, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    kwargs.setdefault("actor", "test")
    return await build_report(
        app.database, sc.commune_id, YEAR_2026, fmt, curriculum=PROGRAMME, **kwargs
    )


async def test_xlsx_has_sheets_headers_frozen_panes_and_charts(commune) -> None:  # type: ignore[no-untyped-def]
    app, sc = commune
    book = load_workbook(io.BytesIO(await export(app, sc, "xlsx")))
    assert book.sheetnames[:4] == ["Tổng hợp", "Theo thôn", "Theo tổ", "Theo nội dung hỗ trợ"]
    assert "Thi đua - thành viên" in book.sheetnames and "Biểu đồ" in book.sheetnames
    villages = book["Theo thôn"]
    header_row = next(r for r in villages.iter_rows() if r[0].value == "STT")
    headers = [c.value for c in header_row]
    assert headers[:4] == ["STT", "Mã", "Thôn", "Tổng số hộ"]
    assert villages.freeze_panes == f"D{header_row[0].row + 1}"
    row = next(r for r in villages.iter_rows() if r[1].value == "T01")
    values = dict(zip(headers, (c.value for c in row), strict=True))
    assert values["Người đăng ký (lũy kế)"] == 2 and values["Lượt hoàn thành bài học trong kỳ"] == 3
    assert row[headers.index("Tổng số hộ")].number_format == "#,##0"
    total = next(r for r in villages.iter_rows() if r[2].value == "Toàn xã")
    assert total[headers.index("Người đăng ký (lũy kế)")].value == 6  # not the sum (7)
    summary = book["Tổng hợp"]
    assert summary["A1"].value == "ỦY BAN NHÂN DÂN XÃ HÒA AN"
    assert summary.freeze_panes is not None
    # Numbers are numbers, percentages % cells, print setup for A4 across.
    assert row[0].value == 1 and isinstance(row[0].value, int)
    pct = row[headers.index("Tỷ lệ hộ được tiếp cận (%)")]
    assert pct.number_format == "0.0%" and 0 < pct.value < 1
    assert int(villages.page_setup.paperSize) == 9  # A4
    assert villages.sheet_properties.pageSetUpPr.fitToPage and villages.page_setup.fitToWidth == 1
    n = header_row[0].row
    assert villages.print_title_rows == f"${n}:${n}"  # the header repeats on each page
    # Events add up: the month and service totals are SUM formulas over their rows.
    months = book["Theo tháng"]
    total_row = next(r for r in months.iter_rows() if r[0].value == "Cả kỳ báo cáo")
    assert str(total_row[1].value).startswith("=SUM(B")
    with zipfile.ZipFile(io.BytesIO(await export(app, sc, "xlsx"))) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2  # native charts: per village and per report month
        assert b"<barChart>" in archive.read(charts[0])


async def test_docx_is_the_administrative_form(commune) -> None:  # type: ignore[no-untyped-def]
    app, sc = commune
    data = await export(app, sc, "docx")
    document = Document(io.BytesIO(data))
    header = document.tables[0]
    assert header.cell(0, 0).text == "ỦY BAN NHÂN DÂN"
    assert header.cell(1, 0).paragraphs[0].text == "XÃ HÒA AN"
    assert header.cell(0, 1).text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert header.cell(1, 1).paragraphs[0].text == "Độc lập - Tự do - Hạnh phúc"
    for cell in (header.cell(1, 0), header.cell(1, 1)):  # the rule lines under both
        assert "<w:top " in cell.paragraphs[1]._p.xml
    assert header.cell(2, 0).text == "Số:       /BC-UBND"
    assert re.fullmatch(r"Hòa An, ngày \d\d tháng \d\d năm 20\d\d", header.cell(2, 1).text)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "BÁO CÁO\nKết quả thực hiện phong trào Bình dân học vụ số" in text
    assert "Kỳ báo cáo: Năm 2026 (từ 15/12/2025 đến 14/12/2026)" in text
    assert "Bảng 2. Kết quả theo thôn" in text and "PHỤ LỤC: KẾT QUẢ THI ĐUA" in text
    assert "Biểu đồ 1. Tỷ lệ hộ gia đình được tiếp cận theo thôn (%)" in text
    assert "{{" not in text and "{%" not in text and "[" not in text
    villages = next(t for t in document.tables if t.cell(0, 1).text == "Thôn")
    row = next(r for r in villages.rows if r.cells[1].text == "Thôn Đông")
    headers = [c.text for c in villages.rows[0].cells]
    assert row.cells[headers.index("Người đăng ký (lũy kế)")].text == "2"
    assert villages.rows[-1].cells[1].text == "Toàn xã"
    teams = next(t for t in document.tables if t.cell(0, 1).text == "Tổ công nghệ số cộng đồng")
    team_headers = [c.text for c in teams.rows[0].cells]
    parent = team_headers.index("Lượt hỗ trợ tại hộ trong kỳ")
    assert team_headers[parent + 1] == "Trong đó đã xác nhận"  # Bảng 3 shows the parent
    signature = document.tables[-4]
    assert signature.cell(0, 1).paragraphs[0].text == "TM. ỦY BAN NHÂN DÂN"
    assert signature.cell(0, 1).paragraphs[1].text == "CHỦ TỊCH"
    assert len(document.inline_shapes) == 2  # the two charts


async def test_pdf_pages_carry_the_vietnamese_text(commune) -> None:  # type: ignore[no-untyped-def]
    app, sc = commune
    reader = PdfReader(io.BytesIO(await export(app, sc, "pdf")))
    assert len(reader.pages) >= 3
    first = reader.pages[0].extract_text()
    for expected in (
        "ỦY BAN NHÂN DÂN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO",
        "Kết quả thực hiện phong trào Bình dân học vụ số",
        "Người dân hoàn thành chương trình kỹ năng số cơ bản",
    ):
        assert expected in first, expected
    everything = "\n".join(page.extract_text() for page in reader.pages)
    assert "Thôn Đông" in everything and "TM. ỦY BAN NHÂN DÂN" in everything
    assert "PHỤ LỤC: KẾT QUẢ THI ĐUA" in everything


async def test_html_is_self_contained_and_says_what_the_pdf_says(commune) -> None:  # type: ignore[no-untyped-def]
    app, sc = commune
    html = (await export(app, sc, "html")).decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="vi"' in html
    assert html.count("data:image/png;base64,") == 2
    assert "Bảng 1. Các chỉ tiêu chủ yếu" in html and "Toàn xã" in html
    assert "{{" not in html


async def test_csv_header_is_the_documented_one(commune) -> None:  # type: ignore[no-untyped-def]
    app, sc = commune
    data = await export(app, sc, "csv")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[: len(DOCUMENTED_CSV_COLUMNS)] == DOCUMENTED_CSV_COLUMNS
    header = list(rows[0])
    assert header[: len(HEADER)] == HEADER  # the campaign's indicators come after, by name
    digital = [c for c in header[len(HEADER) : -len(LATER_COLUMNS)] if not c.endswith("_target")]
    assert digital == list(DIGITAL_COLUMNS)
    # The two sources of the basic programme, both there, under names that say which.
    assert header[-1] == "assisted_learners_completed_basic_new"
    assert "learners_completed_basic_new" in header
    t01 = next(r for r in rows if r["village_code"] == "T01")
    assert {k: t01[k] for k in DOCUMENTED_CSV_COLUMNS[1:]} == {
        "village_name": "Thôn Đông",
        "households_total": "312",
        "households_reached": "2",
        "residents_registered": "2",
        "residents_active": "2",
        "lesson_completions": "3",
        "learners_completed_any": "2",
        "learners_completed_basic": "1",
        "support_visits": "2",
        "support_visits_verified": "1",
    }
    assert (t01["period_start"], t01["period_end"]) == ("2025-12-15", "2026-12-14")
    assert len(rows) == 12  # one per village; residents with no village are not a village


async def test_member_names_only_for_admins(commune) -> None:  # type: ignore[no-untyped-def]
    app, sc = commune
    public = load_workbook(io.BytesIO(await export(app, sc, "xlsx")))["Thi đua - thành viên"]
    admin = load_workbook(io.BytesIO(await export(app, sc, "xlsx", include_names=True)))[
        "Thi đua - thành viên"
    ]
    public_text = " ".join(str(c.value) for row in public.iter_rows() for c in row)
    admin_text = " ".join(str(c.value) for row in admin.iter_rows() for c in row)
    assert "Trần Văn Minh" in admin_text and "Trần Văn Minh" not in public_text
    assert "Thành viên hạng 1" in public_text
    html = (await export(app, sc, "html")).decode()
    assert "Trần Văn Minh" not in html and "Lê Thị Hoa" not in html


async def test_every_export_is_audited(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = await make_app(db_url, tmp_path)
    try:
        sc = await build_scenario(app)
        await export(app, sc, "csv", actor="cli:lan", village_code="T02")
        with pytest.raises(UnknownVillage):
            await export(app, sc, "csv", actor="person:9", village_code="T99")
        with pytest.raises(ValueError):
            await export(app, sc, "odt", actor="person:9")
        async with app.database.session() as session:
            entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    finally:
        await app.close()
    assert [(e.action, e.actor, e.succeeded) for e in entries] == [
        ("report_export", "cli:lan", True),
        ("report_export", "person:9", False),
    ]
    detail = entries[0].detail
    assert (detail["period"], detail["format"], detail["village"]) == ("2026", "csv", "T02")
    assert detail["include_names"] is False and detail["bytes"] > 0
    assert entries[0].commune_id == sc.commune_id
    assert "UnknownVillage" in entries[1].detail["error"]


def test_the_word_template_matches_its_builder(tmp_path: Path) -> None:
    rebuilt = build(tmp_path / "bao-cao.docx")
    for part in ("word/document.xml", "word/styles.xml"):
        with zipfile.ZipFile(TEMPLATE) as shipped, zipfile.ZipFile(rebuilt) as fresh:
            assert shipped.read(part) == fresh.read(part), (
                f"{part} differs: run python -m bot.reports.templates.build_docx_template"
            )


def test_file_names_are_plain_ascii() -> None:
    assert report_filename("hoa-an", YEAR_2026, "xlsx") == "bao-cao-hoa-an-2026.xlsx"
    from datetime import date

    from bot.reports.periods import calendar_range

    period = calendar_range(date(2026, 1, 1), date(2026, 3, 31))
    assert (
        report_filename("hoa-an", period, "pdf", "T01")
        == "bao-cao-hoa-an-2026-01-01_2026-03-31-T01.pdf"
    )
