"""The report as one self-contained HTML page (charts inlined), from a Jinja2 template.

The PDF is printed from this same HTML (`render_pdf.py`), so both say the same."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.reports.document import document_tables, document_texts
from bot.reports.model import Report
from bot.reports.texts import ReportTexts

TEMPLATES = Path(__file__).with_name("templates")
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,  # a missing text is a bug: fail, do not print nothing
    trim_blocks=False,
)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html_text(
    report: Report, charts: dict[str, bytes], *, include_names: bool = False
) -> str:
    t = ReportTexts(report.commune.unit_label)
    return _env.get_template("report.html.j2").render(
        doc=document_texts(report, t),
        tables=document_tables(report, t, include_names=include_names),
        charts={name: data_uri(png) for name, png in charts.items()},
    )


def render_html(report: Report, charts: dict[str, bytes], *, include_names: bool = False) -> bytes:
    return render_html_text(report, charts, include_names=include_names).encode("utf-8")
