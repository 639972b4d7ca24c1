"""The report as PDF, drawn with fpdf2 in the layout of Nghị định 30/2020/NĐ-CP.

fpdf2 is pure Python (installs with pip alone; WeasyPrint would need Pango and Cairo
from the system) and embeds TrueType fonts with subsetting. The page is drawn with its
API rather than printed from the HTML: the header needs its two rule lines, tables must
keep their titles and headers with them and never break a word, and fpdf2's HTML reader
did neither (and left an unbalanced graphics state that poppler complained about).
The words are the same as the HTML and Word documents': all come from `document.py`.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import Align

from bot.reports import pdf_charts
from bot.reports.document import DocTable, document_tables, document_texts
from bot.reports.fonts import serif_files
from bot.reports.model import Report
from bot.reports.texts import ReportTexts

FAMILY = "liberation-serif"
BODY_SIZE = 13  # pt; Nghị định 30/2020: 13-14 pt for the body text
LINE = 6.2  # mm per body line at 13 pt (about 1.35 line spacing)
LEFT, TOP, RIGHT, BOTTOM = 30, 20, 15, 20  # mm, the decree's page margins
PAGE_W = 210
TEXT_W = PAGE_W - LEFT - RIGHT
INDENT = 10  # first-line indent of body paragraphs (mm)
LEFT_COL = 70  # header: issuing body on the left, national motto on the right (mm)
TABLE_SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5)  # tried in turn until the columns fit
CELL_PAD = 1.0  # mm inside each table cell
HEADER_FILL = (231, 238, 245)
CHART_W = 150
NAME_MIN_W = 22  # mm: a name column is never narrower (Word wraps "Thôn Đồng Mới" else)
KEEP_BODY_ROWS = 2  # a table title moves to the next page unless this many rows follow


class _Pdf(FPDF):
    def header(self) -> None:
        # The decree numbers pages from the second, centred at the top.
        if self.page_no() > 1:
            self.set_font(FAMILY, "", 12)
            self.set_xy(LEFT, 10)
            self.cell(TEXT_W, 5, str(self.page_no()), align="C")
            self.set_xy(LEFT, TOP)


class _Writer:
    def __init__(self, pdf: _Pdf) -> None:
        self.pdf = pdf

    # -- text ---------------------------------------------------------------

    def line(
        self, text: str, *, style: str = "", size: float = BODY_SIZE, align: str = "C"
    ) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, style, size)
        pdf.set_x(LEFT)
        pdf.multi_cell(TEXT_W, size * 0.47, text, align=align, new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, *, style: str = "", indent: bool = True) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, style, BODY_SIZE)
        indent_mm = INDENT if indent else 0
        with (
            pdf.text_columns(text_align=Align.J, line_height=1.3) as columns,
            columns.paragraph(first_line_indent=indent_mm) as par,
        ):
            par.write(text)
        pdf.ln(1)

    def heading(self, text: str) -> None:
        self._keep(3 * LINE)
        self.pdf.ln(1.5)
        self.line(text, style="B", align="L")
        self.pdf.ln(0.5)

    def _keep(self, height: float) -> None:
        """Start a new page unless `height` mm fit below the current position."""
        if self.pdf.y + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    # -- header, signature -------------------------------------------------------

    def header(self, doc: dict[str, Any]) -> None:
        """Issuing body and national motto, each with its rule line; number, place/date."""
        pdf, y0 = self.pdf, TOP
        right_x, right_w = LEFT + LEFT_COL, TEXT_W - LEFT_COL
        left_x = LEFT - 12  # the decree puts the body's name a little left of the margin
        left_w = LEFT_COL + 12
        pdf.set_font(FAMILY, "B", 12.5)
        for n, text in enumerate((doc["committee"], doc["commune_upper"])):
            pdf.set_xy(left_x, y0 + 5.5 * n)
            pdf.cell(left_w, 5.5, text, align="C")
        body_width = pdf.get_string_width(doc["commune_upper"])
        self._rule(left_x + left_w / 2, y0 + 11.8, max(body_width, 25) * 0.6)
        pdf.set_font(FAMILY, "B", 12)
        pdf.set_xy(right_x, y0)
        pdf.cell(right_w, 5.5, doc["country"], align="C")
        pdf.set_font(FAMILY, "B", 13)
        pdf.set_xy(right_x, y0 + 5.5)
        pdf.cell(right_w, 5.5, doc["motto"], align="C")
        self._rule(right_x + right_w / 2, y0 + 11.8, pdf.get_string_width(doc["motto"]))
        pdf.set_font(FAMILY, "", 13)
        pdf.set_xy(left_x, y0 + 14)
        pdf.cell(left_w, 6, doc["number"], align="C")
        pdf.set_font(FAMILY, "I", 13)
        pdf.set_xy(right_x, y0 + 14)
        pdf.cell(right_w, 6, doc["place_date"], align="C")
        pdf.set_xy(LEFT, y0 + 26)

    def _rule(self, centre: float, y: float, width: float) -> None:
        self.pdf.set_line_width(0.3)
        self.pdf.line(centre - width / 2, y, centre + width / 2, y)

    def signature(self, doc: dict[str, Any]) -> None:
        """The closing sentence, recipients and signer, kept together on one page."""
        pdf = self.pdf
        lines = doc["recipient_lines"]
        self._keep(max(45.0, 5 * (len(lines) + 1) + 10) + 3 * LINE)
        self.paragraph(doc["closing"])
        pdf.ln(3)
        y0 = pdf.y
        half = TEXT_W / 2
        pdf.set_font(FAMILY, "BI", 12)
        pdf.set_xy(LEFT, y0)
        pdf.cell(half, 6, doc["recipients"])
        pdf.set_font(FAMILY, "", 11)
        for n, text in enumerate(lines, start=1):
            pdf.set_xy(LEFT, y0 + 0.8 + 5 * n)
            pdf.cell(half, 5, text)
        right = LEFT + half
        pdf.set_font(FAMILY, "B", 13)
        for n, text in enumerate((doc["signer_org"], doc["signer_title"])):
            pdf.set_xy(right, y0 + 6 * n)
            pdf.cell(half, 6, text, align="C")
        if doc["signer_name"]:
            pdf.set_xy(right, y0 + 36)
            pdf.cell(half, 6, doc["signer_name"], align="C")
        pdf.set_xy(LEFT, max(y0 + 44, y0 + 5 * (len(lines) + 2)))

    # -- tables and charts -------------------------------------------------------

    def table(self, table: DocTable) -> None:
        """Title, header (repeated on every page the table runs onto), rows, total row;
        every cell boxed. Drawn cell by cell: fpdf2's own table is many times slower."""
        pdf = self.pdf
        size, widths = fit_columns(table, pdf)
        line_h = size * 0.42
        x0 = LEFT + (TEXT_W - sum(widths)) / 2  # centred in the text area
        pdf.set_font(FAMILY, "B", size)
        head = [
            _wrap(pdf, text, w - 2 * CELL_PAD)
            for text, w in zip(table.headers, widths, strict=True)
        ]
        head_h = max(len(lines) for lines in head) * line_h + 2 * CELL_PAD
        pdf.set_font(FAMILY, "", size)
        body = [(cells, "") for cells in table.rows]
        if table.total is not None:
            body.append((table.total, "B"))
        laid = []
        for cells, style in body:
            pdf.set_font(FAMILY, style, size)
            lines = [
                _wrap(pdf, c.text, w - 2 * CELL_PAD) for c, w in zip(cells, widths, strict=True)
            ]
            height = max(len(cell) for cell in lines) * line_h + 2 * CELL_PAD
            laid.append((cells, style, lines, height))
        first_rows = sum(row[3] for row in laid[:KEEP_BODY_ROWS])
        self._keep(7.0 * (1 + len(table.title) // 80) + head_h + first_rows + 4)
        pdf.ln(1)
        self.line(table.title, style="B", size=12.5)
        pdf.ln(1)
        self._row(x0, widths, head, ["C"] * len(widths), "B", size, line_h, head_h, HEADER_FILL)
        for cells, style, lines, height in laid:
            if pdf.y + height > pdf.page_break_trigger:
                pdf.add_page()
                self._row(
                    x0, widths, head, ["C"] * len(widths), "B", size, line_h, head_h, HEADER_FILL
                )
            aligns = [c.align[0].upper() for c in cells]
            self._row(x0, widths, lines, aligns, style, size, line_h, height, None)
        for note in table.notes:
            pdf.set_font(FAMILY, "I", 11)
            pdf.set_x(LEFT)
            pdf.multi_cell(TEXT_W, 5, note, align="J", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def _row(
        self,
        x0: float,
        widths: list[float],
        lines: list[list[str]],
        aligns: list[str],
        style: str,
        size: float,
        line_h: float,
        height: float,
        fill: tuple[int, int, int] | None,
    ) -> None:
        pdf, y, x = self.pdf, self.pdf.y, x0
        pdf.set_font(FAMILY, style, size)
        pdf.set_line_width(0.2)
        if fill:
            pdf.set_fill_color(*fill)
        for width, cell_lines, align in zip(widths, lines, aligns, strict=True):
            pdf.rect(x, y, width, height, style="DF" if fill else "D")
            top = y + (height - len(cell_lines) * line_h) / 2  # vertically centred
            for n, text in enumerate(cell_lines):
                pdf.set_xy(x + CELL_PAD, top + n * line_h)
                pdf.cell(width - 2 * CELL_PAD, line_h, text, align=align)
            x += width
        pdf.set_xy(LEFT, y + height)

    def chart(self, key: str, caption: str, report: Report, t: ReportTexts) -> None:
        """A chart drawn in the page (see pdf_charts.py), then its "Biểu đồ N." caption."""
        pdf = self.pdf
        x = LEFT + (TEXT_W - CHART_W) / 2
        if key == "households":
            self._keep(pdf_charts.households_height(report) + 12)
            pdf.ln(2)
            pdf_charts.draw_households(pdf, FAMILY, report, x, CHART_W)
        else:
            self._keep(pdf_charts.months_height() + 12)
            pdf.ln(2)
            pdf_charts.draw_months(pdf, FAMILY, report, t, x, CHART_W)
        self.line(caption, style="B", size=12)
        pdf.ln(2)


def fit_columns(
    table: DocTable, pdf: FPDF | None = None, *, pad: float = CELL_PAD
) -> tuple[float, list[float]]:
    """A size (pt) and column widths (mm) where no word of a header or cell has to be
    broken; the Word template uses the same widths for its headers."""
    if pdf is None:
        pdf = _measuring_pdf()
    for size in TABLE_SIZES:
        needed = []
        pdf.set_font(FAMILY, "B", size)  # headers and totals are bold: measure in bold
        for index, header in enumerate(table.headers):
            widest = max(pdf.get_string_width(word) for word in header.split() or [""])
            for cells in (*table.rows, *([table.total] if table.total else [])):
                words = cells[index].text.split() or [""]
                widest = max(widest, *(pdf.get_string_width(word) for word in words))
            if table.aligns[index] == "left":  # names: room for two words a line
                widest = max(widest, NAME_MIN_W)
            needed.append(widest + 2 * pad + 1.2)
        if sum(needed) <= TEXT_W:
            break
    wanted = [TEXT_W * w / 100 for w in table.widths]
    widths = [max(n, w) for n, w in zip(needed, wanted, strict=True)]
    excess = sum(widths) - TEXT_W
    slack = [w - n for w, n in zip(widths, needed, strict=True)]
    if excess > 0 and sum(slack) >= excess:  # take the excess from columns with room
        widths = [w - excess * s / sum(slack) for w, s in zip(widths, slack, strict=True)]
    elif excess > 0:  # too many columns even at the smallest size: shrink them all
        widths = [w * TEXT_W / sum(needed) for w in needed]
    return size, widths


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Lines of `text` within `width` in the current font, broken between words only
    (`fit_columns` makes every word fit)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and pdf.get_string_width(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


def _measuring_pdf() -> FPDF:
    pdf = FPDF(format="A4", unit="mm")
    for style, path in serif_files().items():
        pdf.add_font(FAMILY, style, str(path))
    return pdf


def render_pdf(
    report: Report, charts: dict[str, bytes] | None = None, *, include_names: bool = False
) -> bytes:
    """`charts` is unused (the PDF draws its own); kept for callers that pass images."""
    t = ReportTexts(report.commune.unit_label)
    doc = document_texts(report, t)
    tables = document_tables(report, t, include_names=include_names)
    pdf = _Pdf(format="A4", unit="mm")
    pdf.set_margins(left=LEFT, top=TOP, right=RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    for style, path in serif_files().items():
        pdf.add_font(FAMILY, style, str(path))
    pdf.set_creator(report.commune.name)
    pdf.set_title(f"{doc['kind']} {doc['title']}")
    pdf.set_lang("vi")
    pdf.add_page()
    w = _Writer(pdf)
    w.header(doc)
    w.line(doc["kind"], style="B", size=14)
    w.line(doc["title"], style="B", size=14)
    if doc["scope"]:
        w.line(doc["scope"], style="B", size=14)
    w.line(doc["period"], style="I")
    if doc["period_status"]:
        w.line(doc["period_status"], style="I")
    pdf.ln(3)
    w.paragraph(doc["basis"])
    w.heading(doc["section_results"])
    w.heading(doc["section_direction"])
    for text in doc["direction"]:
        w.paragraph(text)
    w.heading(doc["section_figures"])
    for text in doc["results"]:
        w.paragraph(text)
    w.paragraph(doc["generated"], style="I")
    captions = doc["charts"]
    for key in ("summary", "villages", "teams", "services", "ages", "digital", "digital_villages"):
        if key in tables:
            w.table(tables[key])
        if key == "villages" and "households" in captions:
            w.chart("households", captions["households"], report, t)
    w.chart("months", captions["months"], report, t)
    w.heading(doc["section_assessment"])
    for heading, key in (("section_strengths", "strengths"), ("section_weaknesses", "weaknesses")):
        w.heading(doc[heading])
        for text in doc[key]:
            w.paragraph(text)
    for heading, key in (("section_plan", "plan"), ("section_proposals", "proposals")):
        w.heading(doc[heading])
        for text in doc[key]:
            w.paragraph(text)
    w.signature(doc)
    pdf.add_page()
    w.line(doc["annex"], style="B", size=14)
    w.line(doc["period"], style="I")
    pdf.ln(2)
    w.paragraph(doc["annex_note"], style="I")
    for key in ("rank_villages", "rank_teams", "rank_members"):
        if key in tables:
            w.table(tables[key])
    return bytes(pdf.output())
