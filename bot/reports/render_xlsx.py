"""The report as an Excel workbook (openpyxl).

openpyxl writes real .xlsx (styles, number formats, frozen panes, images) that Excel,
LibreOffice and Google Sheets open as the commune expects; the format is a zip of
several XML parts with relationships, not something to hand-write.

Sheets: summary first, then per village, per team, per kind of help, per age group,
per month, the emulation rankings, and the charts.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports import tables as tb
from bot.reports.model import Report
from bot.reports.texts import ReportTexts

NUMBER_FORMATS = {tb.INT: "#,##0", tb.PCT: "0.0", tb.DEC: "#,##0.0", tb.NUM: "#,##0", tb.TEXT: "@"}
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
MAX_SHEET_NAME = 31  # Excel's limit


def _sheet_name(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, "-")
    return text[:MAX_SHEET_NAME]


def _heading(ws: Worksheet, report: Report, t: ReportTexts, title: str) -> int:
    """Commune, report title, period and table title; returns the next free row."""
    lines = [
        (f"{t('document.committee')} {report.commune.name.upper()}", True),
        (f"{t('document.kind')}: {t('document.title')}", True),
        (t("document.period", label=report.period.label), False),
    ]
    if report.village_code:
        lines.insert(2, (t("document.scope_village", name=report.scope_name), False))
    lines.append((title, True))
    for row, (text, bold) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        cell.font = Font(bold=bold, size=12 if row == 2 else 11)
    return len(lines) + 2


def _write_table(ws: Worksheet, table: tb.Table, first_row: int) -> None:
    header_row = first_row
    for col, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=header_row, column=col, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(col)].width = column.width + 2
    ws.row_dimensions[header_row].height = 48
    body: list[tuple[list[Any], bool]] = [(row, False) for row in table.rows]
    if table.total is not None:
        body.append((table.total, True))
    for offset, (values, is_total) in enumerate(body, start=1):
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            cell = ws.cell(row=header_row + offset, column=col, value=value)
            cell.number_format = NUMBER_FORMATS[column.kind]
            if isinstance(value, float):
                cell.number_format = NUMBER_FORMATS[tb.DEC]
            cell.border = BORDER
            if column.kind == tb.TEXT:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if is_total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL
    note_row = header_row + len(body) + 2
    for note in table.notes:
        ws.cell(row=note_row, column=1, value=note).font = Font(italic=True)
        note_row += 1
    # Keep the header (and the name columns) in view while scrolling.
    ws.freeze_panes = ws.cell(row=header_row + 1, column=table.frozen_columns + 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if len(table.columns) > 7 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0


def render_xlsx(report: Report, charts: dict[str, bytes], *, include_names: bool = False) -> bytes:
    t = ReportTexts(report.commune.unit_label)
    sheets = [
        ("summary", tb.summary_table(report, t)),
        ("villages", tb.villages_table(report, t)),
        ("teams", tb.teams_table(report, t)),
        ("services", tb.services_table(report, t)),
        ("ages", tb.ages_table(report, t)),
        ("months", tb.months_table(report, t)),
    ]
    sheets += [
        (table.key, table) for table in tb.ranking_tables(report, t, include_names=include_names)
    ]
    workbook = Workbook()
    workbook.remove(workbook.active)
    for key, table in sheets:
        ws = workbook.create_sheet(_sheet_name(t(f"sheets.{key}")))
        first_row = _heading(ws, report, t, table.title)
        _write_table(ws, table, first_row)
    ws = workbook.create_sheet(_sheet_name(t("sheets.charts")))
    row = _heading(ws, report, t, t("sheets.charts"))
    for name in ("households", "months"):
        if name not in charts:
            continue
        image = Image(io.BytesIO(charts[name]))
        scale = 640 / image.width  # about the width of ten default columns
        image.width, image.height = int(image.width * scale), int(image.height * scale)
        ws.add_image(image, f"A{row}")
        row += int(image.height / 20) + 2  # default rows are 20 px high
    workbook.properties.title = f"{t('document.kind')} {t('document.title')}"
    workbook.properties.creator = report.commune.name
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
