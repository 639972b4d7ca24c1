"""What the Word, HTML and PDF reports say, in one place, so the three say the same.

The content follows the form of a commune report (Nghị định 30/2020/NĐ-CP): the
committee and national motto header, number and place/date line, title, period,
sections with room for the officer's own assessment, the figures, charts, the
signature block, and the emulation annex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.reports import tables as tb
from bot.reports.model import Report
from bot.reports.periods import TZ
from bot.reports.texts import ReportTexts, fmt_value, place_name

MEMBERS_IN_DOCUMENTS = 10  # the spreadsheet lists every member


@dataclass(frozen=True)
class Cell:
    text: str
    align: str  # left | right | center


@dataclass(frozen=True)
class DocTable:
    key: str
    title: str
    keys: list[str]  # column keys, as in `records`
    headers: list[str]
    widths: list[int]  # per cent of the page width, adding up to 100
    aligns: list[str]
    rows: list[list[Cell]]
    total: list[Cell] | None
    notes: list[str]
    records: list[dict[str, str]]  # rows as {column key: text}, for the Word template
    total_record: dict[str, str] | None

    @property
    def note(self) -> str:
        return " ".join(self.notes)


def _align(kind: str, key: str) -> str:
    if kind == tb.TEXT:
        return "center" if key in ("number", "rank", "measure", "month") else "left"
    return "right"


def doc_table(table: tb.Table) -> DocTable:
    weights = [c.width for c in table.columns]
    widths = [round(100 * w / sum(weights)) for w in weights]
    widths[1 if len(widths) > 1 else 0] += 100 - sum(widths)  # rounding into the name column
    aligns = [_align(c.kind, c.key) for c in table.columns]

    def cells(values: list[Any]) -> list[Cell]:
        return [
            Cell(fmt_value(v, c.kind), a)
            for v, c, a in zip(values, table.columns, aligns, strict=True)
        ]

    def record(values: list[Any]) -> dict[str, str]:
        return {c.key: fmt_value(v, c.kind) for v, c in zip(values, table.columns, strict=True)}

    return DocTable(
        key=table.key,
        title=table.title,
        keys=[c.key for c in table.columns],
        headers=[c.header for c in table.columns],
        widths=widths,
        aligns=aligns,
        rows=[cells(row) for row in table.rows],
        total=cells(table.total) if table.total is not None else None,
        notes=list(table.notes),
        records=[record(row) for row in table.rows],
        total_record=record(table.total) if table.total is not None else None,
    )


def document_tables(report: Report, t: ReportTexts, *, include_names: bool) -> dict[str, DocTable]:
    """The tables of the documents, compact enough for an A4 page."""
    tables = [
        tb.summary_table(report, t),
        tb.villages_table(report, t, compact=True),
        tb.teams_table(report, t, compact=True),
        tb.services_table(report, t),
        tb.ages_table(report, t),
        *tb.ranking_tables(
            report, t, include_names=include_names, member_limit=MEMBERS_IN_DOCUMENTS
        ),
    ]
    return {table.key: doc_table(table) for table in tables}


def document_texts(report: Report, t: ReportTexts) -> dict[str, Any]:
    """Every sentence of the document, filled in for this commune and period."""
    commune = report.commune.name
    generated = report.generated_at.astimezone(TZ)
    keys = [
        "committee",
        "country",
        "motto",
        "number",
        "kind",
        "title",
        "section_results",
        "section_direction",
        "section_figures",
        "section_assessment",
        "section_strengths",
        "section_weaknesses",
        "section_plan",
        "section_proposals",
        "placeholder",
        "recipients",
        "signer_org",
        "signer_title",
        "signer_name",
        "annex",
        "annex_note",
    ]
    texts: dict[str, Any] = {key: t(f"document.{key}") for key in keys}
    texts.update(
        commune_upper=commune.upper(),
        place_date=t("document.place_date", place=place_name(commune, t)),
        period=t("document.period", label=report.period.label),
        scope=(
            t("document.scope_village", name=_lower_first(report.scope_name))
            if report.village_code
            else ""
        ),
        generated=t(
            "document.generated",
            time=generated.strftime("%H:%M"),
            date=generated.strftime("%d/%m/%Y"),
        ),
        basis=t("document.basis", commune=_lower_first(commune)),
        closing=t("document.closing", commune=_lower_first(commune)),
        recipient_lines=t.items("document.recipient_lines"),
        chart_households=t("charts.households"),
        chart_months=t("charts.months"),
    )
    return texts


def _lower_first(name: str) -> str:
    """ "Xã Hòa An" -> "xã Hòa An", as it reads inside a sentence."""
    return name[:1].lower() + name[1:]
