"""The demo commune's annual, quarterly and single-village reports are files an officer
can file as they are: valid PDF (qpdf, poppler quiet), Word and Excel files LibreOffice
converts, the decree's header with both rule lines, no placeholder left to fill in.

Page images are kept under tests/artifacts/reports/ (git-ignored) to look at.
Tools missing locally skip these tests with the reason; HOCVUSO_REQUIRE_TOOLS=1 (CI)
makes a missing tool a failure.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from bot.app import build_app
from bot.reports.exports import export_report
from bot.reports.periods import report_quarter, report_year
from bot.reports.texts import ReportTexts
from config.settings import Settings
from tests.test_cli import run

ARTIFACTS = Path(__file__).with_name("artifacts") / "reports"
NOW = datetime(2026, 12, 20, 3, tzinfo=UTC)  # after the 2026 report year closed
REPORTS = {  # name -> (period, village)
    "nam-2026": (report_year(2026), None),
    "quy-3-2026": (report_quarter(2026, 3), None),
    "thon-bac-2026": (report_year(2026), "T04"),
}
FORMATS = ("pdf", "docx", "xlsx")
PLACEHOLDERS = ("[Cán bộ", "[Họ và tên]", "{{", "{%", "ngày ... tháng", "Số: ...")
DPI = 100


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (apt-get install poppler-utils qpdf libreoffice-*)"
        if os.environ.get("HOCVUSO_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


async def _export_all(root: Path) -> dict[tuple[str, str], Path]:
    app = await build_app(Settings(data_dir=root / "data"))
    files = {}
    try:
        for name, (period, village) in REPORTS.items():
            for fmt in FORMATS:
                export = await export_report(
                    app.database,
                    app.engine.services.communes.only.id,
                    period,
                    fmt,
                    village_code=village,
                    actor="test",
                    curriculum=app.engine.services.curriculum,
                    now=NOW,
                )
                path = ARTIFACTS / f"{name}.{fmt}"
                path.write_bytes(export.data)
                files[name, fmt] = path
    finally:
        await app.close()
    return files


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[tuple[str, str], Path]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("demo")
    made = run(["demo-data", "--seed", "1"], root)
    assert made.returncode == 0, made.stderr
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return asyncio.run(_export_all(root))


def _quiet(args: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args, done.stderr)
    return done


def _pages(pdf: Path) -> list[Path]:
    """The PDF's pages as PNG artefacts; poppler must print nothing on stderr."""
    prefix = pdf.with_suffix("")
    done = _quiet([need("pdftoppm"), "-r", str(DPI), "-png", str(pdf), str(prefix)])
    assert done.stderr == "", done.stderr
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


def test_every_pdf_is_valid_and_poppler_stays_quiet(reports) -> None:  # type: ignore[no-untyped-def]
    for name in REPORTS:
        pdf = reports[name, "pdf"]
        checked = _quiet([need("qpdf"), "--check", str(pdf)])
        assert "No syntax or stream encoding errors" in checked.stdout
        text = _quiet([need("pdftotext"), str(pdf), "-"])
        assert text.stderr == "", (name, text.stderr)
        for placeholder in PLACEHOLDERS:
            assert placeholder not in text.stdout, (name, placeholder)
        assert len(_pages(pdf)) >= 3


def _rule_lines(png: Path) -> list[tuple[int, int, int]]:
    """Horizontal dark runs at least 15 mm long in the header band of a page image:
    (row, first column, length). Letters never make runs that long; rule lines do."""
    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    found = []
    longest = round(15 / 25.4 * DPI)
    for y in range(round(height * 0.06), round(height * 0.16)):
        run_start, run = 0, 0
        for x in range(width):
            if pixels[x, y] < 110:
                run_start, run = (x, 1) if run == 0 else (run_start, run + 1)
            else:
                if run >= longest:
                    found.append((y, run_start, run))
                run = 0
    return found


def test_header_has_the_rule_lines_under_the_body_and_the_motto(reports) -> None:  # type: ignore[no-untyped-def]
    for name in REPORTS:
        first_page = _pages(reports[name, "pdf"])[0]
        lines = _rule_lines(first_page)
        width = Image.open(first_page).size[0]
        left = [line for line in lines if line[1] + line[2] < width * 0.47]
        right = [line for line in lines if line[1] > width * 0.47]
        assert left, f"{name}: no rule line under the issuing body"
        assert right, f"{name}: no rule line under the national motto"
        motto = max(line[2] for line in right) / DPI * 25.4
        assert 45 < motto < 75, f"the motto's line is as long as the motto, got {motto:.0f} mm"


def test_single_village_report_leaves_out_commune_only_parts(reports) -> None:  # type: ignore[no-untyped-def]
    pdf = _quiet([need("pdftotext"), str(reports["thon-bac-2026", "pdf"]), "-"]).stdout
    assert "Trên địa bàn thôn Bắc" in pdf
    caption = "Biểu đồ 1. Lượt hoàn thành bài học và lượt đạt bài kiểm tra theo kỳ tháng"
    assert caption in " ".join(pdf.split())  # both series the chart plots
    assert "Biểu đồ 2" not in pdf and "theo thôn (%)" not in pdf  # no one-bar chart
    assert "Xếp hạng thôn" not in pdf and "Cộng" not in pdf
    commune = _quiet([need("pdftotext"), str(reports["nam-2026", "pdf"]), "-"]).stdout
    assert "Biểu đồ 1. Tỷ lệ hộ gia đình được tiếp cận theo thôn (%)" in commune
    assert "Xếp hạng thôn" in commune and "Toàn xã" in commune
    assert "chỉ tính một lần ở toàn xã" in " ".join(commune.split())  # the footnote
    document = Document(str(reports["thon-bac-2026", "docx"]))
    assert len(document.inline_shapes) == 1


def test_word_and_excel_files_have_no_placeholder_and_say_what_the_figures_say(reports) -> None:  # type: ignore[no-untyped-def]
    for name in REPORTS:
        document = Document(str(reports[name, "docx"]))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        text = "\n".join([p.text for p in document.paragraphs] + cells)
        for placeholder in PLACEHOLDERS:
            assert placeholder not in text, (name, placeholder)
        assert "Nguyễn Văn An" in text  # signer from the commune file
        assert "đăng ký tham gia học (lũy kế), tăng" in text  # narrative from the figures
        book = load_workbook(io.BytesIO(reports[name, "xlsx"].read_bytes()))
        cells = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row)
        for placeholder in PLACEHOLDERS:
            assert placeholder not in cells, (name, "xlsx", placeholder)
    quarter = Document(str(reports["quy-3-2026", "docx"]))
    body = "\n".join(p.text for p in quarter.paragraphs)
    assert "Số liệu đến ngày" not in body  # generated after the quarter ended


def test_month_rows_say_what_they_cover_and_add_up_to_the_period(reports) -> None:  # type: ignore[no-untyped-def]
    book = load_workbook(io.BytesIO(reports["nam-2026", "xlsx"].read_bytes()))
    months = book["Theo tháng"]
    labels = [row[0].value for row in months.iter_rows() if row[0].value and "–" in row[0].value]
    assert labels[0] == "15/12/2025–14/01/2026" and labels[-1] == "15/11–14/12/2026"
    assert len(labels) == 12
    summary = book["Tổng hợp"]
    completions = next(r for r in summary.iter_rows() if r[1].value == "Lượt hoàn thành bài học")
    rows = [r for r in months.iter_rows() if r[0].value in labels]
    assert sum(r[1].value for r in rows) == completions[3].value


def test_office_files_convert_in_libreoffice(reports, tmp_path) -> None:  # type: ignore[no-untyped-def]
    soffice = need("soffice")
    sources = [reports[name, fmt] for name in REPORTS for fmt in ("docx", "xlsx")]
    copies = []
    for source in sources:  # distinct names: the PDFs land in one folder
        copy = tmp_path / f"{source.stem}-{source.suffix[1:]}{source.suffix}"
        shutil.copy(source, copy)
        copies.append(copy)
    out = tmp_path / "pdf"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, copies),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr and "Error" not in done.stdout, done.stderr
    for copy in copies:
        converted = out / f"{copy.stem}.pdf"
        assert converted.exists(), f"{copy.name} did not convert: {done.stdout} {done.stderr}"
        _quiet([need("qpdf"), "--check", str(converted)])
        if copy.suffix == ".docx":
            shutil.copy(converted, ARTIFACTS / f"{copy.stem}-libreoffice.pdf")


def test_no_header_word_is_wider_than_its_column(reports) -> None:  # type: ignore[no-untyped-def]
    from fpdf import FPDF

    from bot.reports.document import document_tables
    from bot.reports.fonts import serif_files
    from bot.reports.model import CommuneInfo, Metrics, Report
    from bot.reports.render_pdf import CELL_PAD, FAMILY, fit_columns

    t = ReportTexts("thôn")
    report = Report(
        CommuneInfo(1, "x", "Xã X", "thôn", NOW.date()),
        report_year(2026),
        NOW,
        None,
        Metrics(),
        [],
        [],
        [],
        [],
        [],
        [],
    )
    pdf = FPDF()
    for style, path in serif_files().items():
        pdf.add_font(FAMILY, style, str(path))
    for table in document_tables(report, t, include_names=False).values():
        size, widths = fit_columns(table, pdf)
        pdf.set_font(FAMILY, "B", size)
        for header, width in zip(table.headers, widths, strict=True):
            for word in header.split():
                assert pdf.get_string_width(word) + 2 * CELL_PAD <= width, (table.key, word)


def _bare_report(period, generated: datetime, months=()):  # type: ignore[no-untyped-def]
    from bot.reports.model import CommuneInfo, Metrics, Report

    commune = CommuneInfo(1, "x", "Xã X", "thôn", NOW.date())
    return Report(commune, period, generated, None, Metrics(), [], [], [], [], [], list(months))


def test_a_period_not_ended_or_not_begun_says_so() -> None:
    from bot.reports.document import period_status

    t = ReportTexts("thôn")
    during = datetime(2026, 8, 1, 3, tzinfo=UTC)
    assert period_status(_bare_report(report_year(2026), during), t) == (
        "Số liệu đến ngày 01/08/2026 (kỳ báo cáo chưa kết thúc)."
    )
    before = period_status(_bare_report(report_quarter(2026, 4), during), t)
    assert before == "Kỳ báo cáo chưa bắt đầu; số liệu đến ngày 01/08/2026."
    assert period_status(_bare_report(report_quarter(2026, 2), during), t) == ""


def test_month_labels_name_the_days_a_row_covers() -> None:
    from bot.reports.model import MonthRow
    from bot.reports.periods import calendar_year, month_buckets
    from bot.reports.tables import month_label

    t = ReportTexts("thôn")
    during = datetime(2026, 7, 1, 3, tzinfo=UTC)

    def labels(period):  # type: ignore[no-untyped-def]
        rows = [MonthRow(b.key, b.start, b.end, 0, 0) for b in month_buckets(period)]
        report = _bare_report(period, during, rows)
        return [month_label(row, report, t) for row in rows]

    report_months = labels(report_year(2026))
    assert report_months[0] == "15/12/2025–14/01/2026"
    assert report_months[5] == "15/05–14/06/2026"
    assert report_months[6] == "15/06–14/07/2026 (đến 01/07/2026)"  # not ended yet
    assert labels(calendar_year(2026))[1] == "Tháng 02/2026"


def test_every_table_is_numbered_and_every_caption_says_what_it_shows(reports) -> None:  # type: ignore[no-untyped-def]
    """The annex's ranking tables are "Bảng N." like the others, in sequence; the months
    chart names both its series; Bảng 4 says one visit can cover several kinds; the two
    sources of the basic programme are named and said to be counted separately."""
    import re

    text = _quiet([need("pdftotext"), str(reports["nam-2026", "pdf"]), "-"]).stdout
    flat = " ".join(text.split())
    numbers = [int(n) for n in re.findall(r"Bảng (\d+)\. ", flat)]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    for title in ("Xếp hạng thôn", "Xếp hạng Tổ công nghệ số cộng đồng", "Xếp hạng thành viên"):
        assert re.search(rf"Bảng \d+\. {title}", flat), title
    assert "Lượt hoàn thành bài học và lượt đạt bài kiểm tra theo kỳ tháng" in flat
    assert "Một lượt hỗ trợ có thể gồm nhiều nội dung" in flat
    assert "chương trình kỹ năng số cơ bản trên bot" in flat  # the narrative and Bảng 1
    assert "được Tổ hỗ trợ học trực tiếp hoàn thành" in flat
    assert "được đếm riêng" in flat and "không cộng gộp" in flat  # the annex's note
    assert "Người được hỗ trợ hoàn thành chương trình cơ bản" not in flat  # the old label
