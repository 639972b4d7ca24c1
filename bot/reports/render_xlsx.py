"""The report as an Excel workbook (openpyxl).

openpyxl writes real .xlsx (styles, number formats, frozen panes, images) that Excel,
LibreOffice and Google Sheets open as the commune expects; the format is a zip of
several XML parts with relationships, not something to hand-write.

Sheets: summary first, then per village, per team, per kind of help, per age group,
per month, the emulation rankings, and the charts. Numbers are numbers (STT too),
percentages are % cells, counts of events are totalled with SUM formulas, and the
commune row of people counts is a computed figure, marked as such (people are not
additive across villages). Charts are native Excel charts over the sheets' cells, so
they follow any correction an officer makes.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports import digital_tables as dt
from bot.reports import tables as tb
from bot.reports.document import period_status
from bot.reports.model import Report
from bot.reports.texts import ReportTexts

NUMBER_FORMATS = {
    tb.INT: "#,##0",
    tb.PCT: "0.0%",
    tb.DEC: "#,##0.0",
    tb.NUM: "#,##0",
    tb.TEXT: "@",
}
NUMBERED = ("number", "rank")  # STT and rank: whole numbers, not text
SUMMED = ("services", "months")  # tables of events, whose total is the sum of the rows
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
    if status := period_status(report, t):
        lines.append((status, False))
    lines.append((title, True))
    for row, (text, bold) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        cell.font = Font(bold=bold, size=12 if row == 2 else 11)
    return len(lines) + 2


def _cell_value(column: tb.Column, value: Any) -> Any:
    if column.key in NUMBERED and isinstance(value, str) and value.isdigit():
        return int(value)
    if column.kind == tb.PCT and value is not None:
        return value / 100  # a % cell holds the fraction
    return value


def _write_table(
    ws: Worksheet, table: tb.Table, first_row: int, total_label: str
) -> tuple[int, int]:
    """The table from `first_row`; returns its first and last data rows (no total)."""
    header_row = first_row
    for col, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=header_row, column=col, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(col)].width = column.width + 2
    ws.row_dimensions[header_row].height = 48
    total = table.total
    if total is None and table.key in SUMMED and table.rows:
        total = [None] * len(table.columns)  # filled with SUM formulas below
    body: list[tuple[list[Any], bool]] = [(row, False) for row in table.rows]
    if total is not None:
        body.append((total, True))
    first, last = header_row + 1, header_row + len(table.rows)
    for offset, (values, is_total) in enumerate(body, start=1):
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            value = _cell_value(column, value)
            summed = is_total and table.key in SUMMED and column.kind == tb.INT
            if summed:
                letter = get_column_letter(col)
                value = f"=SUM({letter}{first}:{letter}{last})"
            cell = ws.cell(row=header_row + offset, column=col, value=value)
            cell.number_format = NUMBER_FORMATS[column.kind]
            if isinstance(value, float) and column.kind != tb.PCT:
                cell.number_format = NUMBER_FORMATS[tb.DEC]
            if column.key in NUMBERED:
                cell.number_format = "0"
                cell.alignment = Alignment(horizontal="center", vertical="top")
            cell.border = BORDER
            if column.kind == tb.TEXT and column.key not in NUMBERED:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if is_total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL
        if is_total and table.key in SUMMED and table.total is None:
            label = next(
                i for i, c in enumerate(table.columns) if c.kind == tb.TEXT and c.key != "number"
            )
            ws.cell(row=header_row + offset, column=label + 1).value = total_label
    note_row = header_row + len(body) + 2
    for note in table.notes:
        cell = ws.cell(row=note_row, column=1, value=note)
        cell.font = Font(italic=True)
        note_row += 1
    # Keep the header (and the name columns) in view while scrolling.
    ws.freeze_panes = ws.cell(row=header_row + 1, column=table.frozen_columns + 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if len(table.columns) > 7 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    return first, last


def _bar_chart(title: str, horizontal: bool) -> BarChart:
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.style = 10
    chart.width, chart.height = 16, 9  # cm: fits an A4 page across
    chart.legend.position = "b"
    chart.varyColors = False  # one colour per series, not per bar
    return chart


def _charts(
    report: Report, t: ReportTexts, placed: dict[str, tuple[Worksheet, tb.Table, int, int]]
) -> list[BarChart]:
    """Per village (households reached, %) and per report month (lessons, quiz passes)."""
    charts = []
    ws, table, first, last = placed["villages"]
    keys = [c.key for c in table.columns]
    if report.village_code is None and last >= first:
        chart = _bar_chart(t("charts.households"), horizontal=True)
        column = keys.index("households_pct") + 1
        data = Reference(ws, min_col=column, min_row=first - 1, max_row=last)
        chart.add_data(data, titles_from_data=True)
        names = keys.index("name") + 1
        chart.set_categories(Reference(ws, min_col=names, min_row=first, max_row=last))
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        chart.height = max(9, 0.7 * (last - first + 1) + 3)  # every village named
        chart.x_axis.scaling.orientation = "maxMin"  # first village on top, as in the table
        charts.append(chart)
    ws, table, first, last = placed["months"]
    if last >= first:
        chart = _bar_chart(t("charts.months"), horizontal=False)
        data = Reference(ws, min_col=2, max_col=3, min_row=first - 1, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        charts.append(chart)
    return charts


def render_xlsx(report: Report, charts: dict[str, bytes], *, include_names: bool = False) -> bytes:
    t = ReportTexts(report.commune.unit_label)
    sheets = [
        ("summary", tb.summary_table(report, t)),
        ("villages", tb.villages_table(report, t)),
        ("teams", tb.teams_table(report, t)),
        ("services", tb.services_table(report, t)),
        ("ages", tb.ages_table(report, t)),
        ("months", tb.months_table(report, t)),
        ("digital", dt.digital_table(report, t)),
        ("digital_villages", dt.digital_villages_table(report, t)),
    ]
    sheets += [
        (table.key, table) for table in tb.ranking_tables(report, t, include_names=include_names)
    ]
    workbook = Workbook()
    workbook.remove(workbook.active)
    placed: dict[str, tuple[Worksheet, tb.Table, int, int]] = {}
    for key, table in sheets:
        ws = workbook.create_sheet(_sheet_name(t(f"sheets.{key}")))
        first_row = _heading(ws, report, t, table.title)
        first, last = _write_table(ws, table, first_row, t("rows.sum"))
        placed[key] = (ws, table, first, last)
    ws = workbook.create_sheet(_sheet_name(t("sheets.charts")))
    row = _heading(ws, report, t, t("sheets.charts"))
    for chart in _charts(report, t, placed):
        ws.add_chart(chart, f"A{row}")
        row += 24
    workbook.properties.title = f"{t('document.kind')} {t('document.title')}"
    workbook.properties.creator = report.commune.name
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
