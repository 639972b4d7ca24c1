"""The report as a Word document, filled from the Word template with docxtpl.

docxtpl (on python-docx) renders Jinja2 tags inside a real .docx, keeping every style
the commune sets in Word; its `{%tr %}` row loops and inline images are exactly what a
report with tables and charts needs, and editing a template in Word is what officers
already know. Merging into WordprocessingML by hand would be fragile.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from bot.reports.document import document_tables, document_texts
from bot.reports.model import Report
from bot.reports.texts import ReportTexts, place_name

CHART_WIDTH = Mm(150)
# Built by templates/build_docx_template.py (not imported here: it needs fpdf2).
TEMPLATE = Path(__file__).with_name("templates") / "bao-cao.docx"


def render_docx(
    report: Report,
    charts: dict[str, bytes],
    *,
    include_names: bool = False,
    template: Path | None = None,
) -> bytes:
    """`template`: a commune's own copy of `bao-cao.docx`, edited in Word."""
    document = DocxTemplate(str(template or TEMPLATE))
    t = ReportTexts(report.commune.unit_label)
    commune = report.commune.name
    context = {
        "doc": document_texts(report, t),
        "tables": document_tables(report, t, include_names=include_names),
        "charts": {
            name: InlineImage(document, io.BytesIO(png), width=CHART_WIDTH)
            for name, png in charts.items()
        },
        "unit": t.unit,
        "Unit": t.Unit,
        "commune": commune[:1].lower() + commune[1:],  # for templates a commune edited
        "place": place_name(commune, t),
    }
    document.render(context, autoescape=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
