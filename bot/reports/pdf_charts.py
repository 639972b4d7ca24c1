"""The PDF's two charts, drawn as vector shapes with fpdf2.

The Word and HTML documents take the charts as images from matplotlib (`charts.py`);
the PDF draws the same bars itself: they stay sharp when printed or zoomed, the text is
in the document's own font, and an export does not pay for importing and running
matplotlib (about half of a PDF's time from the command line).
"""

from __future__ import annotations

import math

from fpdf import FPDF

from bot.reports.model import Report
from bot.reports.tables import month_label
from bot.reports.texts import ReportTexts, fmt_dec, fmt_int

BAR = (47, 111, 159)  # the colours of charts.py
BAR_LIGHT = (156, 195, 223)
GRID = (200, 200, 200)
TEXT_SIZE = 9
ROW_H = 5.5  # mm per village
MONTHS_H = 55  # mm, the plot area of the month chart


def households_height(report: Report) -> float:
    return ROW_H * len(_villages(report)) + 12


def months_height() -> float:
    return MONTHS_H + 30


def _villages(report: Report) -> list[tuple[str, float]]:
    return [(v.name, v.metrics.households_pct or 0.0) for v in report.villages if v.id is not None]


def draw_households(pdf: FPDF, family: str, report: Report, x: float, width: float) -> None:
    """Households reached (%) per village: one horizontal bar each, 0-100 % scale."""
    rows = _villages(report)
    pdf.set_font(family, "", TEXT_SIZE)
    label_w = max((pdf.get_string_width(name) for name, _ in rows), default=10) + 3
    left, plot_w = x + label_w, width - label_w - 12
    top = pdf.y + 2
    bottom = top + ROW_H * len(rows)
    pdf.set_line_width(0.1)
    pdf.set_draw_color(*GRID)
    for tick in range(0, 101, 20):
        tx = left + plot_w * tick / 100
        pdf.line(tx, top, tx, bottom)
        pdf.set_xy(tx - 6, bottom + 0.5)
        pdf.cell(12, 4, str(tick), align="C")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(*BAR)
    for n, (name, value) in enumerate(rows):
        y = top + n * ROW_H
        pdf.set_xy(x, y)
        pdf.cell(label_w - 2, ROW_H, name, align="R")
        bar = plot_w * min(value, 100.0) / 100
        if bar > 0:
            pdf.rect(left, y + 0.9, bar, ROW_H - 1.8, style="F")
        pdf.set_xy(left + bar + 1, y)
        pdf.cell(11, ROW_H, fmt_dec(value))
    pdf.set_line_width(0.2)
    pdf.line(left, top, left, bottom)
    pdf.set_xy(x, bottom + 6)


def draw_months(
    pdf: FPDF, family: str, report: Report, t: ReportTexts, x: float, width: float
) -> None:
    """Lesson completions and quiz passes per report month: two columns a month."""
    months = report.months
    labels = [month_label(m, report, t, short=True) for m in months]
    series = (
        (t("charts.months_completions"), BAR, [m.completions for m in months]),
        (t("charts.months_passes"), BAR_LIGHT, [m.passes for m in months]),
    )
    peak = max([1, *(v for _, _, values in series for v in values)])
    step = _nice_step(peak)
    scale_max = step * math.ceil(peak / step)
    pdf.set_font(family, "", TEXT_SIZE)
    axis_w = pdf.get_string_width(fmt_int(scale_max)) + 3
    left, plot_w = x + axis_w, width - axis_w
    top = pdf.y + 9  # room for the legend
    bottom = top + MONTHS_H
    legend_x = left
    for name, colour, _ in series:  # legend above the plot
        pdf.set_fill_color(*colour)
        pdf.rect(legend_x, top - 7, 3.5, 3.5, style="F")
        pdf.set_xy(legend_x + 4.5, top - 7.8)
        pdf.cell(pdf.get_string_width(name) + 1, 5, name)
        legend_x += pdf.get_string_width(name) + 12
    pdf.set_line_width(0.1)
    pdf.set_draw_color(*GRID)
    value = 0
    while value <= scale_max:
        ty = bottom - MONTHS_H * value / scale_max
        pdf.line(left, ty, left + plot_w, ty)
        pdf.set_xy(x, ty - 2)
        pdf.cell(axis_w - 1.5, 4, fmt_int(value), align="R")
        value += step
    pdf.set_draw_color(0, 0, 0)
    slot = plot_w / max(1, len(months))
    bar_w = slot * 0.36
    for n, label in enumerate(labels):
        centre = left + slot * (n + 0.5)
        for k, (_, colour, values) in enumerate(series):
            height = MONTHS_H * values[n] / scale_max
            if height > 0:
                pdf.set_fill_color(*colour)
                pdf.rect(centre - bar_w + k * bar_w, bottom - height, bar_w, height, style="F")
        with pdf.rotation(45, centre + 1, bottom + 2):  # long labels, slanted
            pdf.set_xy(centre + 1 - pdf.get_string_width(label), bottom + 0.5)
            pdf.cell(pdf.get_string_width(label), 3, label)
    pdf.set_line_width(0.2)
    pdf.line(left, bottom, left + plot_w, bottom)
    pdf.line(left, top, left, bottom)
    if not any(any(values) for _, _, values in series):
        pdf.set_xy(left, top + MONTHS_H / 2 - 3)
        pdf.cell(plot_w, 6, t("charts.no_data"), align="C")
    pdf.set_xy(x, bottom + 20)


def _nice_step(peak: float) -> int:
    """A round step giving 4 to 8 grid lines up to `peak` (1, 2 or 5 times 10^n)."""
    raw = peak / 5
    power = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return int(factor * power)
    return int(10 * power)
