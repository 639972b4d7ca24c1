"""The province's roll-up: every commune's figures side by side, one row per commune.

The figures are `compute.province_rollup`'s, the very statements of a commune's report
(bot/reports/indicators.py), and the columns are those of the commune report's main
table (`tables.VILLAGE_COLUMNS_FULL`), so a commune's row says what its own report's
"Toàn xã" row says. Nothing personal is read or shown: no names, no households, no
member lists.

The "Toàn tỉnh" row is the sum of the rows. For event and household counts that is
plain addition. For people it is right because a person belongs to one commune: every
event carries its person's commune (`storage.repo.add_event`), so a person is counted
in that commune's row only. Percentages are recomputed from the sums, never averaged.

Exports are audited (action "province.export", no commune) like a commune's exports.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from bot.content.loader import default_content_root, load_curriculum
from bot.content.model import Curriculum
from bot.core.texts import Texts
from bot.reports import render_csv as rc
from bot.reports import tables as tb
from bot.reports.compute import Programme, province_rollup
from bot.reports.model import CommuneInfo, Metrics
from bot.reports.periods import TZ, Period
from bot.reports.texts import ReportTexts
from storage import team_repo
from storage.db import Database

FORMATS = ("xlsx", "csv")
COLUMNS = tb.VILLAGE_COLUMNS_FULL  # the commune report's main table, column for column
COMPACT_COLUMNS = tb.VILLAGE_COLUMNS_COMPACT


@dataclass(frozen=True)
class ProvinceReport:
    body: str  # "Tỉnh Quảng Ngãi", or "" when not set
    period: Period
    generated_at: datetime
    communes: list[tuple[CommuneInfo, Metrics]]

    @property
    def total(self) -> Metrics:
        return province_total(m for _, m in self.communes)


def province_total(rows: Any) -> Metrics:
    """Every stored figure summed over the communes (see the module's note on people)."""
    total = Metrics()
    for metrics in rows:
        total = total.merged(**{f.name: getattr(metrics, f.name) for f in fields(Metrics)})
    return total


async def compute_province(
    database: Database,
    period: Period,
    programme: Programme,
    *,
    body: str = "",
    commune_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ProvinceReport:
    rows = await province_rollup(database, period, programme, commune_ids)
    return ProvinceReport(body, period, now or datetime.now(UTC), rows)


def _texts() -> Texts:
    return Texts.load("vi")


def province_table(report: ProvinceReport, *, compact: bool = False) -> tb.Table:
    """Communes as rows, the commune report's main-table columns, "Toàn tỉnh" last."""
    texts, t = _texts(), ReportTexts("thôn")
    keys = COMPACT_COLUMNS if compact else COLUMNS
    head = [tb.Column("number", texts("province.columns.number"), tb.TEXT, 7)]
    if not compact:
        head.append(tb.Column("code", texts("province.columns.code"), tb.TEXT, 10))
    head.append(tb.Column("name", texts("province.columns.commune"), tb.TEXT, 24))
    columns = head + [
        tb.Column(k, t(f"columns.{k}"), tb.METRIC_COLUMNS[k][0], tb.METRIC_COLUMNS[k][1])
        for k in keys
    ]
    rows = []
    for number, (commune, metrics) in enumerate(report.communes, start=1):
        label = [str(number)] + ([commune.code] if not compact else []) + [commune.name]
        rows.append(label + [tb.METRIC_COLUMNS[k][2](metrics) for k in keys])
    total = [""] + ([""] if not compact else []) + [texts("province.total")]
    total += [tb.METRIC_COLUMNS[k][2](report.total) for k in keys]
    notes = [" ".join(texts("province.document.note").split())]
    return tb.Table("province", texts("province.sheet"), columns, rows, total, len(head), notes)


def heading(report: ProvinceReport) -> list[tuple[str, bool]]:
    """The document's head, Nghị định 30/2020 style: the issuing body (the province's
    People's Committee), the national title and motto, then the report's name and period."""
    texts, t = _texts(), ReportTexts("thôn")
    body = report.body.strip() or texts("province.document.body_default")
    generated = report.generated_at.astimezone(TZ)
    return [
        (f"{texts('province.document.committee')} {body.upper()}", True),
        (t("document.country"), True),
        (t("document.motto"), True),
        (f"{t('document.kind')}: {texts('province.document.title')}", True),
        (texts("province.document.period", label=report.period.label), False),
        (texts("province.document.communes", count=len(report.communes)), False),
        (
            texts(
                "province.document.generated",
                time=f"{generated:%H:%M}",
                date=f"{generated:%d/%m/%Y}",
            ),
            False,
        ),
    ]


def render_xlsx(report: ProvinceReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from bot.reports.render_xlsx import _sheet_name, _write_table

    table = province_table(report)
    workbook = Workbook()
    ws = workbook.active
    ws.title = _sheet_name(table.title)
    lines = heading(report)
    for row, (text, bold) in enumerate(lines, start=1):
        ws.cell(row=row, column=1, value=text).font = Font(bold=bold, size=12 if row == 4 else 11)
    _write_table(ws, table, len(lines) + 2, table.total[2] if table.total else "")
    workbook.properties.title = lines[3][0]
    workbook.properties.creator = lines[0][0]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Machine columns: the commune report's CSV columns, with the commune in place of the
# village; no total row (as in the commune's CSV: scripts add up what they need).
CSV_HEADER = [
    "commune_code",
    "commune_name",
    *rc.CSV_COLUMNS,
    "period_start",
    "period_end",
    *rc.LATER_COLUMNS,
]


def render_csv(report: ProvinceReport) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    start = report.period.start.date().isoformat()
    last_day = report.period.last_day.isoformat()
    for commune, metrics in report.communes:
        values = [fn(metrics) for fn in rc.CSV_COLUMNS.values()]
        later = [fn(metrics) for fn in rc.LATER_COLUMNS.values()]
        writer.writerow([commune.code, commune.name, *values, start, last_day, *later])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render(report: ProvinceReport, fmt: str) -> bytes:
    if fmt == "xlsx":
        return render_xlsx(report)
    if fmt == "csv":
        return render_csv(report)
    raise ValueError(f"unknown province report format {fmt!r}; one of {', '.join(FORMATS)}")


def filename(period: Period, fmt: str) -> str:
    """A plain-ASCII name, e.g. ``tong-hop-tinh-2026.xlsx``."""
    name = "-".join(["tong-hop-tinh", period.key.replace("..", "_")])
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_name) + f".{fmt}"


@dataclass(frozen=True)
class Export:
    data: bytes
    report: ProvinceReport


def programme_of(curriculum: Curriculum | Programme | None) -> Programme:
    if isinstance(curriculum, Programme):
        return curriculum
    return Programme.of(curriculum or load_curriculum(default_content_root()))


async def export_province(
    database: Database,
    period: Period,
    fmt: str,
    *,
    actor: str,
    body: str = "",
    curriculum: Curriculum | Programme | None = None,
    now: datetime | None = None,
) -> Export:
    """The roll-up as a file; audited, successful or not (no commune: it covers all)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown province report format {fmt!r}; one of {', '.join(FORMATS)}")
    detail: dict[str, Any] = {"period": period.key, "period_label": period.label, "format": fmt}
    try:
        report = await compute_province(
            database, period, programme_of(curriculum), body=body, now=now
        )
        data = await asyncio.to_thread(render, report, fmt)
    except Exception as exc:
        detail["error"] = f"{type(exc).__name__}: {exc}"[:300]
        await _audit_export(database, actor, now, detail, ok=False)
        raise
    detail["communes"] = len(report.communes)
    detail["bytes"] = len(data)
    await _audit_export(database, actor, now, detail, ok=True)
    return Export(data, report)


async def _audit_export(
    database: Database, actor: str, now: datetime | None, detail: dict[str, Any], *, ok: bool
) -> None:
    """One audit row per export (no commune: the roll-up covers every one)."""
    async with database.transaction() as session:
        team_repo.audit(session, actor, "province.export", None, at=now, succeeded=ok, **detail)
