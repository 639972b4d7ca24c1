"""The report's charts as PNG images (matplotlib), for the Word and HTML documents.

matplotlib lays out axes, ticks and long Vietnamese labels, and ships the DejaVu fonts,
which have every Vietnamese glyph, so the images look the same on any machine. The PDF
draws the same two charts itself (`pdf_charts.py`) and the XLSX has native charts.
The object API (`Figure`) is used instead of pyplot: no global state, safe in a server.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display needed; must be set before any pyplot import

from matplotlib.figure import Figure  # noqa: E402

from bot.reports.model import Report  # noqa: E402
from bot.reports.tables import month_label  # noqa: E402
from bot.reports.texts import ReportTexts  # noqa: E402

FONT = "DejaVu Sans"
BAR = "#2f6f9f"
BAR_LIGHT = "#9cc3df"
DPI = 120  # sharp at the 15 cm they are printed; higher only costs time


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # Margins are set from the labels' lengths: a layout engine or bbox_inches="tight"
    # would draw the figure twice, and drawing is most of a report's rendering time.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def households_chart(report: Report, t: ReportTexts) -> bytes:
    """Households reached, in per cent of all households, for each village."""
    villages = [v for v in report.villages if v.id is not None]
    names = [v.name for v in villages]
    values = [v.metrics.households_pct or 0.0 for v in villages]
    height = max(2.4, 0.32 * len(names) + 1.2)
    fig = Figure(figsize=(7.0, height))
    longest = max((len(name) for name in names), default=4)
    fig.subplots_adjust(left=0.04 + 0.0105 * longest, right=0.97, top=0.97, bottom=0.6 / height)
    ax = fig.subplots()
    positions = range(len(names))
    ax.barh(list(positions), values, color=BAR)
    ax.set_yticks(list(positions), names, fontfamily=FONT, fontsize=9)
    ax.invert_yaxis()  # first village at the top, as in the tables
    ax.set_xlim(0, max(100.0, max(values, default=0) * 1.1))
    for y, value in zip(positions, values, strict=True):
        ax.text(value + 1, y, f"{value:.1f}".replace(".", ","), va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    if not names:
        ax.text(0.5, 0.5, t("charts.no_data"), transform=ax.transAxes, ha="center")
    return _png(fig)


def months_chart(report: Report, t: ReportTexts) -> bytes:
    """Lesson completions (and quiz passes) per month of the period."""
    labels = [month_label(m, report, t, short=True) for m in report.months]
    completions = [m.completions for m in report.months]
    passes = [m.passes for m in report.months]
    fig = Figure(figsize=(7.0, 3.2))
    rotated = len(labels) > 4
    fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.3 if rotated else 0.12)
    ax = fig.subplots()
    x = list(range(len(labels)))
    width = 0.4
    ax.bar(
        [i - width / 2 for i in x],
        completions,
        width,
        color=BAR,
        label=t("charts.months_completions"),
    )
    ax.bar(
        [i + width / 2 for i in x], passes, width, color=BAR_LIGHT, label=t("charts.months_passes")
    )
    ax.set_xticks(x, labels, rotation=45 if rotated else 0, ha="right", fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if not any(completions) and not any(passes):
        ax.text(0.5, 0.5, t("charts.no_data"), transform=ax.transAxes, ha="center")
    return _png(fig)


def all_charts(report: Report, t: ReportTexts) -> dict[str, bytes]:
    """The documents' charts (their "Biểu đồ N." captions are in the documents); a
    single-village report has no per-village chart (it would be one bar)."""
    charts = {"months": months_chart(report, t)}
    if report.village_code is None:
        charts = {"households": households_chart(report, t), **charts}
    return charts
