"""The report as PDF, printed from the report's HTML with fpdf2.

fpdf2 is pure Python (installs with pip alone; WeasyPrint would need Pango and Cairo
from the system), embeds TrueType fonts with subsetting, and renders the HTML subset
our template keeps to: headings, paragraphs, tables, images. Writing PDF by hand
(fonts, cross-references, compression) is not worth owning.
"""

from __future__ import annotations

import re
from typing import Any

from fpdf import FPDF
from fpdf.fonts import TextStyle
from fpdf.html import HTML2FPDF

from bot.reports.fonts import serif_files
from bot.reports.model import Report
from bot.reports.render_html import render_html_text
from bot.reports.texts import ReportTexts

FAMILY = "dejavu-serif"


# Print sizes (pt) by table class; the browser's sizes are in the template's stylesheet.
TABLE_SIZES = {"grid": 9.5, "plain": 10.5}
CAPTION_ROOM_MM = 40  # a table caption needs this much page left, or starts a new page
BODY_SIZE = 12.5
_HEAD_ONLY = re.compile(r"<style>.*?</style>|<meta[^>]*>", re.DOTALL)


class _Html(HTML2FPDF):
    """fpdf2's HTML reader, with the table sizes a stylesheet would give."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p" and dict(attrs).get("class") == "caption":
            # Keep a table's caption with the table (CSS break-after: avoid).
            self._end_paragraph()
            if self.pdf.y > self.pdf.page_break_trigger - CAPTION_ROOM_MM:
                self.pdf.add_page()
        if tag == "table":
            # fpdf2 draws table cells in the font last used, so a table after italic
            # text would come out italic: start every table in the regular face.
            self._end_paragraph()
            self.font_size_pt = TABLE_SIZES.get(dict(attrs).get("class") or "", BODY_SIZE)
            self.pdf.set_font(self.font_family, "", self.font_size_pt)
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if tag == "table":
            self.font_size_pt = BODY_SIZE


class _Pdf(FPDF):
    HTML2FPDF_CLASS = _Html

    def __init__(self, footer: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._footer_text = footer

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "I", 9)
        self.cell(0, 6, self._footer_text.format(page=self.page_no()), align="C")


def render_pdf(report: Report, charts: dict[str, bytes], *, include_names: bool = False) -> bytes:
    html = render_html_text(report, charts, include_names=include_names)
    html = _HEAD_ONLY.sub("", html)  # fpdf2 would print the stylesheet as text
    t = ReportTexts(report.commune.unit_label)
    pdf = _Pdf(t("document.page", page="{page}"), format="A4", unit="mm")
    pdf.set_margins(left=30, top=20, right=15)  # Nghị định 30/2020 page margins
    pdf.set_auto_page_break(True, margin=20)
    for style, path in serif_files().items():
        pdf.add_font(FAMILY, style, str(path))
    pdf.set_creator(report.commune.name)
    pdf.set_lang("vi")
    pdf.add_page()
    pdf.set_font(FAMILY, size=BODY_SIZE)
    pdf.write_html(
        html,
        font_family=FAMILY,
        table_line_separators=True,
        tag_styles={
            "h1": TextStyle(font_family=FAMILY, font_style="B", font_size_pt=14, t_margin=4),
            "h2": TextStyle(font_family=FAMILY, font_style="B", font_size_pt=12, t_margin=4),
            "h3": TextStyle(font_family=FAMILY, font_style="B", font_size_pt=12, t_margin=2),
        },
    )
    return bytes(pdf.output())
