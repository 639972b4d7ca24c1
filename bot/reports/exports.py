"""`build_report`: the one way to export a campaign report, for the CLI, chat and scheduler.

Every export, successful or not, is written to the audit log (action "report_export")
with the period, format and village, so the commune can see who took which figures.
Rendering (charts, PDF) is CPU work, so it runs in a worker thread: a bot serving
residents from the same event loop keeps answering while a report is built.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.content.loader import default_content_root, load_curriculum
from bot.content.model import Curriculum
from bot.reports.compute import Programme, UnknownVillage, compute_report
from bot.reports.model import Report
from bot.reports.periods import Period
from bot.reports.texts import ReportTexts
from storage.db import Database
from storage.team_models import AuditEntry

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "Export",
    "UnknownVillage",
    "build_report",
    "export_report",
    "render",
    "report_filename",
]

FORMATS = ("xlsx", "csv", "docx", "pdf", "html")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
EXPORT_ACTION = "report_export"


def render(
    report: Report,
    fmt: str,
    *,
    include_names: bool = False,
    docx_template: Path | None = None,
) -> bytes:
    """Render an already computed report (no database access).

    Each renderer (and matplotlib, fpdf2, docxtpl, openpyxl) is imported when first
    needed: a command-line export pays only for its own format's libraries."""
    if fmt == "csv":
        from bot.reports.render_csv import render_csv

        return render_csv(report)
    if fmt == "xlsx":  # native Excel charts: no images to draw
        from bot.reports.render_xlsx import render_xlsx

        return render_xlsx(report, {}, include_names=include_names)
    if fmt == "pdf":  # the PDF draws its charts itself
        from bot.reports.render_pdf import render_pdf

        return render_pdf(report, include_names=include_names)
    from bot.reports.charts import all_charts

    charts = all_charts(report, ReportTexts(report.commune.unit_label))
    if fmt == "docx":
        from bot.reports.render_docx import render_docx

        return render_docx(report, charts, include_names=include_names, template=docx_template)
    if fmt == "html":
        from bot.reports.render_html import render_html

        return render_html(report, charts, include_names=include_names)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class Export:
    data: bytes
    report: Report  # the figures, e.g. for a one-line summary


async def build_report(
    database: Database,
    commune_id: int,
    period: Period,
    fmt: str,
    *,
    village_code: str | None = None,
    include_names: bool = False,
    actor: str,
    curriculum: Curriculum | Programme | None = None,
    docx_template: Path | None = None,
    now: datetime | None = None,
) -> bytes:
    """The commune's report for ``period`` as a file; see `export_report`."""
    export = await export_report(
        database,
        commune_id,
        period,
        fmt,
        village_code=village_code,
        include_names=include_names,
        actor=actor,
        curriculum=curriculum,
        docx_template=docx_template,
        now=now,
    )
    return export.data


async def export_report(
    database: Database,
    commune_id: int,
    period: Period,
    fmt: str,
    *,
    village_code: str | None = None,
    include_names: bool = False,
    actor: str,
    curriculum: Curriculum | Programme | None = None,
    docx_template: Path | None = None,
    now: datetime | None = None,
) -> Export:
    """The commune's report for ``period`` as a file in ``fmt`` (xlsx, csv, docx, pdf, html).

    ``include_names`` shows team members' names in the emulation annex: pass True only
    when ``actor`` is an admin. ``actor`` is recorded in the audit log ("cli:<os user>",
    "person:12", "scheduler"). ``curriculum`` gives the basic programme (lessons marked
    ``core``); by default the content shipped with the code. Raises ValueError for an
    unknown format and UnknownVillage for a village code the commune does not have.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    detail = {
        "period": period.key,
        "period_label": period.label,
        "format": fmt,
        "village": village_code,
        "include_names": include_names,
    }
    try:
        programme = (
            curriculum
            if isinstance(curriculum, Programme)
            else Programme.of(curriculum or load_curriculum(default_content_root()))
        )
        report = await compute_report(
            database, commune_id, period, programme, village_code=village_code, now=now
        )
        data = await asyncio.to_thread(
            render, report, fmt, include_names=include_names, docx_template=docx_template
        )
    except Exception as exc:
        detail["error"] = f"{type(exc).__name__}: {exc}"[:300]
        await _audit(database, actor, commune_id, detail, succeeded=False, now=now)
        raise
    detail["bytes"] = len(data)
    await _audit(database, actor, commune_id, detail, succeeded=True, now=now)
    return Export(data, report)


async def _audit(
    database: Database,
    actor: str,
    commune_id: int,
    detail: dict[str, object],
    *,
    succeeded: bool,
    now: datetime | None,
) -> None:
    async with database.transaction() as session:
        session.add(
            AuditEntry(
                at=now or datetime.now(UTC),
                actor=actor[:64],
                action=EXPORT_ACTION,
                commune_id=commune_id,
                detail=detail,
                succeeded=succeeded,
            )
        )


def report_filename(
    commune_code: str, period: Period, fmt: str, village_code: str | None = None
) -> str:
    """A plain-ASCII file name, e.g. ``bao-cao-hoa-an-2026-Q2-T01.xlsx``."""
    parts = ["bao-cao", commune_code, period.key.replace("..", "_")]
    if village_code:
        parts.append(village_code)
    ascii_name = unicodedata.normalize("NFKD", "-".join(parts)).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_name) + f".{fmt}"
