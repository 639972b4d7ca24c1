"""Build the Word template `bao-cao.docx` for the campaign report.

    .venv/bin/python -m bot.reports.templates.build_docx_template [OUT.docx]

The template is an ordinary Word document in the administrative form (Nghị định
30/2020/NĐ-CP: A4, Times New Roman, committee and national motto header, signature
block) whose fixed wording comes from `bot/i18n/vi/reports.yaml`. Figures are Jinja2
tags that docxtpl fills: `{{ doc.period }}`, `{{ r.registered }}` inside
`{%tr for r in tables.villages.records %}` rows, `{{ charts.households }}` for images.
A commune can edit the wording, fonts and layout in Word and keep the tags.
Rebuild after changing the texts; a test checks the template matches this script.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table as DocxTable

from bot.reports.document import DocTable, document_tables
from bot.reports.model import CommuneInfo, Metrics, Report
from bot.reports.periods import report_year
from bot.reports.render_pdf import fit_columns
from bot.reports.texts import ReportTexts

TEMPLATE = Path(__file__).with_name("bao-cao.docx")
FONT = "Times New Roman"
WORD_CELL_PAD = 2.3  # mm: Word's default cell margin (1.9 mm) and a little room
TEXT_WIDTH_MM = 165  # A4 210 mm less 30 mm left and 15 mm right margins
FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)  # stable core properties, stable file
ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
}


def _empty_report() -> Report:
    """A report with no rows: the tables' columns and headers are all the builder needs."""
    return Report(
        commune=CommuneInfo(0, "", "", "", date(2025, 1, 1)),
        period=report_year(2026),
        generated_at=FIXED_TIME,
        village_code=None,
        total=Metrics(),
        villages=[],
        teams=[],
        members=[],
        services=[],
        ages=[],
        months=[],
    )


def _setup(document: Document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.space_before = Pt(0)
    properties = document.core_properties
    properties.author = properties.last_modified_by = "hocvuso"
    properties.created = properties.modified = FIXED_TIME
    properties.revision = 1


def _paragraph(
    document: Document,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    align: str = "left",
    size: int | None = None,
    page_break: bool = False,
    indent: bool = False,
    keep: bool = False,
) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.keep_with_next = keep
    paragraph.alignment = ALIGN[align] if align != "justify" else WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        paragraph.paragraph_format.first_line_indent = Mm(10)
    paragraph.paragraph_format.page_break_before = page_break
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)


def _cell_text(cell, text: str, *, bold=False, italic=False, align="left", size=None) -> None:  # type: ignore[no-untyped-def]
    _run(cell.paragraphs[0], text, bold=bold, italic=italic, align=align, size=size)


def _run(paragraph, text: str, *, bold=False, italic=False, align="left", size=None) -> None:  # type: ignore[no-untyped-def]
    paragraph.alignment = ALIGN[align]
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)


def _widths(table: DocxTable, percents: list[float]) -> None:
    """Fixed column widths, in the grid (read by LibreOffice) and on every cell (Word)."""
    table.autofit = False
    widths = [Mm(TEXT_WIDTH_MM * percent / 100) for percent in percents]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _shade(cell, fill: str) -> None:  # type: ignore[no-untyped-def]
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_on_each_page(row) -> None:  # type: ignore[no-untyped-def]
    """A header row repeated at the top of every page the table runs onto."""
    properties = row._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        properties.append(element)


def _rule_below(cell, indent_mm: float) -> None:  # type: ignore[no-untyped-def]
    """The decree's short rule line under the issuing body and under the motto: the top
    border of a tiny paragraph narrowed by indents (editable in Word, no drawing)."""
    paragraph = cell.add_paragraph()
    paragraph.paragraph_format.left_indent = Mm(indent_mm)
    paragraph.paragraph_format.right_indent = Mm(indent_mm)
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(4)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        top.set(qn(name), value)
    borders.append(top)
    properties = paragraph._p.get_or_add_pPr()
    properties.insert_element_before(borders, "w:spacing", "w:ind", "w:jc", "w:rPr")


def _header(document: Document, t: ReportTexts) -> None:
    """Issuing body on the left, national motto on the right (each with its rule line),
    number and place/date below."""
    table = document.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = (
        ((t("document.committee"), True, False, 12), (t("document.country"), True, False, 12)),
        (("{{ doc.commune_upper }}", True, False, 12), (t("document.motto"), True, False, 13)),
        (("{{ doc.number }}", False, False, 13), ("{{ doc.place_date }}", False, True, 13)),
    )
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, (text, bold, italic, size) in zip(row.cells, cells, strict=True):
            _cell_text(cell, text, bold=bold, italic=italic, align="center", size=size)
    _rule_below(table.cell(1, 0), 22)
    _rule_below(table.cell(1, 1), 17)
    _widths(table, [40, 60])


def _lines(document: Document, key: str, *, italic: bool = False) -> None:
    """One paragraph per sentence of a narrative list (`doc.<key>`)."""
    _paragraph(document, f"{{%p for line in doc.{key} %}}")
    _paragraph(document, "{{ line }}", italic=italic, align="justify", indent=True)
    _paragraph(document, "{%p endfor %}")


def _chart(document: Document, key: str) -> None:
    _paragraph(document, f"{{%p if charts.{key} %}}")
    _paragraph(document, f"{{{{ charts.{key} }}}}", align="center", keep=True)
    _paragraph(document, f"{{{{ doc.charts.{key} }}}}", bold=True, align="center", size=12)
    _paragraph(document, "{%p endif %}")


def _data_table(document: Document, table: DocTable, *, optional: bool = False) -> None:
    """Caption, header row, one looping row of tags, and the bold total row if any.
    `optional`: left out when the report has no such table (single-village reports)."""
    if optional:
        _paragraph(document, f"{{%p if tables.{table.key} %}}")
    _paragraph(
        document, f"{{{{ tables.{table.key}.title }}}}", bold=True, align="center", keep=True
    )
    loop = f"tables.{table.key}"
    lines = [("header", None), ("tr", f"{{%tr for r in {loop}.records %}}"), ("row", "r")]
    lines.append(("tr", "{%tr endfor %}"))
    if table.total_record is not None or table.key == "villages":
        lines += [
            ("tr", f"{{%tr if {loop}.total_record %}}"),
            ("total", f"{loop}.total_record"),
            ("tr", "{%tr endif %}"),
        ]
    size, widths = fit_columns(table, pad=WORD_CELL_PAD)  # no header word is broken
    grid = document.add_table(rows=len(lines), cols=len(table.keys))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (kind, value) in zip(grid.rows, lines, strict=True):
        for index, cell in enumerate(row.cells):
            key, align = table.keys[index], table.aligns[index]
            if kind == "header":
                if index == 0:
                    _repeat_on_each_page(row)
                _cell_text(cell, table.headers[index], bold=True, align="center", size=size)
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                _shade(cell, "E7EEF5")
            elif kind == "tr":
                if index == 0:
                    _cell_text(cell, value or "", size=size)
            else:
                text = f"{{{{ {value}.{key} }}}}"
                _cell_text(cell, text, bold=kind == "total", align=align, size=size)
    _widths(grid, [100 * w / TEXT_WIDTH_MM for w in widths])
    if table.notes or table.key == "rank_members":
        _paragraph(document, f"{{{{ tables.{table.key}.note }}}}", italic=True, size=11)
    if optional:
        _paragraph(document, "{%p endif %}")


def _signature(document: Document, t: ReportTexts) -> None:
    """Recipients on the left; issuing body, signer's title, room to sign, name."""
    table = document.add_table(rows=1, cols=2)
    left, right = table.cell(0, 0), table.cell(0, 1)
    _cell_text(left, t("document.recipients"), bold=True, italic=True, size=12)
    for text in ("{%p for line in doc.recipient_lines %}", "{{ line }}", "{%p endfor %}"):
        _run(left.add_paragraph(), text, size=11)
    _cell_text(right, "{{ doc.signer_org }}", bold=True, align="center")
    _run(right.add_paragraph(), "{{ doc.signer_title }}", bold=True, align="center")
    for _ in range(4):
        right.add_paragraph()
    _run(right.add_paragraph(), "{{ doc.signer_name }}", bold=True, align="center")
    table.rows[0]._tr.get_or_add_trPr().append(_on(OxmlElement("w:cantSplit")))
    _widths(table, [50, 50])


def _on(element):  # type: ignore[no-untyped-def]
    element.set(qn("w:val"), "true")
    return element


def build(path: Path = TEMPLATE) -> Path:
    t = ReportTexts("{{ unit }}", capitalised="{{ Unit }}")
    tables = document_tables(_empty_report(), t, include_names=False)
    document = Document()
    _setup(document)
    _header(document, t)
    _paragraph(document)
    _paragraph(document, t("document.kind"), bold=True, align="center", size=14)
    _paragraph(document, t("document.title"), bold=True, align="center", size=14)
    _paragraph(document, "{%p if doc.scope %}")
    _paragraph(document, "{{ doc.scope }}", bold=True, align="center", size=14)
    _paragraph(document, "{%p endif %}")
    _paragraph(document, "{{ doc.period }}", italic=True, align="center")
    _paragraph(document, "{%p if doc.period_status %}")
    _paragraph(document, "{{ doc.period_status }}", italic=True, align="center")
    _paragraph(document, "{%p endif %}")
    _paragraph(document, "{{ doc.basis }}", align="justify", indent=True)
    _paragraph(document, t("document.section_results"), bold=True, keep=True)
    _paragraph(document, t("document.section_direction"), bold=True, keep=True)
    _lines(document, "direction")
    _paragraph(document, t("document.section_figures"), bold=True, keep=True)
    _lines(document, "results")
    _paragraph(document, "{{ doc.generated }}", italic=True, align="justify", indent=True)
    _data_table(document, tables["summary"])
    _data_table(document, tables["villages"], optional=True)
    _chart(document, "households")
    _data_table(document, tables["teams"])
    _data_table(document, tables["services"])
    _data_table(document, tables["ages"])
    _data_table(document, tables["digital"])
    _data_table(document, tables["digital_villages"], optional=True)
    _chart(document, "months")
    _paragraph(document, t("document.section_assessment"), bold=True, keep=True)
    _paragraph(document, t("document.section_strengths"), bold=True, keep=True)
    _lines(document, "strengths")
    _paragraph(document, t("document.section_weaknesses"), bold=True, keep=True)
    _lines(document, "weaknesses")
    _paragraph(document, t("document.section_plan"), bold=True, keep=True)
    _lines(document, "plan")
    _paragraph(document, t("document.section_proposals"), bold=True, keep=True)
    _lines(document, "proposals")
    _paragraph(document, "{{ doc.closing }}", align="justify", indent=True, keep=True)
    _signature(document, t)
    _paragraph(document, t("document.annex"), bold=True, align="center", size=14, page_break=True)
    _paragraph(document, "{{ doc.period }}", italic=True, align="center")
    _paragraph(document, t("document.annex_note"), italic=True, align="justify", indent=True)
    _data_table(document, tables["rank_villages"], optional=True)
    for key in ("rank_teams", "rank_members"):
        _data_table(document, tables[key])
    document.save(str(path))
    return path


if __name__ == "__main__":
    out = build(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE)
    print(f"wrote {out}")
