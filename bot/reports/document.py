"""What the Word, HTML and PDF reports say, in one place, so the three say the same.

The content follows the form of a commune report (Nghị định 30/2020/NĐ-CP): the
committee and national motto header, number and place/date line, title, period,
sections written from the figures (plus the commune's own wording from its commune
file), the tables and charts, the signature block, and the emulation annex. Nothing is
left for an officer to fill in: the document can be signed and filed as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.reports import digital_tables as dt
from bot.reports import tables as tb
from bot.reports.model import Metrics, Report, VillageRow
from bot.reports.notes import notes_for
from bot.reports.periods import TZ
from bot.reports.texts import ReportTexts, fmt_dec, fmt_int, fmt_value, place_name
from config.commune import ReportInfo

MEMBERS_IN_DOCUMENTS = 10  # the spreadsheet lists every member
VILLAGES_NAMED = 3  # villages named as furthest ahead / behind


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


def doc_table(table: tb.Table, title: str | None = None) -> DocTable:
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
        title=title or table.title,
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


def single_village(report: Report) -> bool:
    return report.village_code is not None


def document_tables(report: Report, t: ReportTexts, *, include_names: bool) -> dict[str, DocTable]:
    """The tables of the documents, compact enough for an A4 page, numbered "Bảng N."
    in the order shown. A single-village report leaves out the commune-only tables (the
    village table and village ranking would hold one row)."""
    single = single_village(report)
    main = [tb.summary_table(report, t)]
    if not single:
        main.append(tb.villages_table(report, t, compact=True))
    main += [tb.teams_table(report, t, compact=True), tb.services_table(report, t)]
    main.append(tb.ages_table(report, t))
    main.append(dt.digital_table(report, t))
    if not single:
        main.append(dt.digital_villages_table(report, t, compact=True))
    result = {
        table.key: doc_table(table, t("document.table_title", number=n, title=table.title))
        for n, table in enumerate(main, start=1)
    }
    number = len(main)
    for table in tb.ranking_tables(
        report, t, include_names=include_names, member_limit=MEMBERS_IN_DOCUMENTS
    ):
        if single and table.key == "rank_villages":
            continue
        number += 1  # every table of a document is numbered, the annex's too
        title = t("document.table_title", number=number, title=table.title)
        result[table.key] = doc_table(table, title)
    return result


def chart_captions(report: Report, t: ReportTexts) -> dict[str, str]:
    """Chart key -> "Biểu đồ N. ..." caption; no village chart for a single village."""
    keys = ["months"] if single_village(report) else ["households", "months"]
    return {
        key: t("document.chart_title", number=n, title=t(f"charts.{key}"))
        for n, key in enumerate(keys, start=1)
    }


def document_texts(
    report: Report, t: ReportTexts, notes: ReportInfo | None = None
) -> dict[str, Any]:
    """Every sentence of the document, filled in for this commune and period."""
    notes = notes or notes_for(report.commune.code)
    commune = report.commune.name
    generated = report.generated_at.astimezone(TZ)
    keys = [
        "committee",
        "country",
        "motto",
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
        "recipients",
        "annex",
        "annex_note",
    ]
    texts: dict[str, Any] = {key: t(f"document.{key}") for key in keys}
    place = place_name(commune, t)
    in_sentence = _lower_first(commune)
    narrative = Narrative(report, t)
    texts.update(
        commune_upper=commune.upper(),
        number=(
            t("document.number_given", number=notes.number)
            if notes.number
            else t("document.number")
        ),
        place_date=t(
            "document.place_date",
            place=place,
            day=f"{generated.day:02d}",
            month=f"{generated.month:02d}",
            year=generated.year,
        ),
        period=t("document.period", label=report.period.label),
        period_status=period_status(report, t),
        scope=(
            t("document.scope_village", name=_lower_first(report.scope_name))
            if single_village(report)
            else ""
        ),
        generated=t(
            "document.generated",
            time=generated.strftime("%H:%M"),
            date=generated.strftime("%d/%m/%Y"),
        ),
        basis=(
            t("document.basis_plan", plan=notes.plan, commune=in_sentence)
            if notes.plan
            else t("document.basis", commune=in_sentence)
        ),
        direction=_paragraphs(notes.leadership) + narrative.direction(),
        results=narrative.results(),
        strengths=narrative.strengths(),
        weaknesses=narrative.weaknesses() + _paragraphs(notes.difficulties),
        plan=narrative.plan() + _paragraphs(notes.tasks),
        proposals=_paragraphs(notes.proposals) or [t("narrative.no_proposals")],
        closing=t("document.closing", commune=in_sentence),
        recipient_lines=list(notes.recipients) or t.items("document.recipient_lines"),
        signer_org=notes.signer_org or t("document.signer_org"),
        signer_title=notes.signer_title or t("document.signer_title"),
        signer_name=notes.signer_name or "",
        charts=chart_captions(report, t),
        single=single_village(report),
    )
    return texts


def period_status(report: Report, t: ReportTexts) -> str:
    """ "Số liệu đến ngày ..." when the period has not ended (or not begun) when generated."""
    generated = report.generated_at.astimezone(TZ)
    day = generated.strftime("%d/%m/%Y")
    if generated < report.period.start:
        return t("document.period_future", date=day)
    if generated < report.period.end:
        return t("document.period_open", date=day)
    return ""


def figures_as_of(report: Report) -> str:
    """The day the figures run to: the period's last day, or the day generated when the
    period has not ended (the documents' "Số liệu đến ngày ...")."""
    generated = report.generated_at.astimezone(TZ)
    day = generated.date() if generated < report.period.end else report.period.last_day
    return day.strftime("%d/%m/%Y")


class Narrative:
    """The sections' sentences, each stating figures from the report's tables."""

    def __init__(self, report: Report, t: ReportTexts) -> None:
        self.report, self.t, self.m = report, t, report.total
        self.scope = _lower_first(report.scope_name)
        places = [v for v in report.villages if v.id is not None and v.metrics.households_total]
        self.ranked = sorted(places, key=lambda v: (v.metrics.households_pct or 0.0, v.name))

    def _list(self, villages: list[VillageRow]) -> str:
        return ", ".join(
            self.t("narrative.village_pct", name=v.name, pct=fmt_dec(v.metrics.households_pct))
            for v in villages
        )

    def _behind(self) -> list[VillageRow]:
        if single_village(self.report) or len(self.ranked) < 2:
            return []
        return self.ranked[:VILLAGES_NAMED]

    def direction(self) -> list[str]:
        m, t = self.m, self.t
        return [
            t(
                "narrative.teams",
                scope=self.scope,
                teams=fmt_int(m.teams),
                members=fmt_int(m.members),
            ),
            t(
                "narrative.visits",
                visits=fmt_int(m.visits),
                verified=fmt_int(m.visits_verified),
                assisted=fmt_int(m.assisted_learners),
            ),
        ]

    def results(self) -> list[str]:
        m, t = self.m, self.t
        return [
            t(
                "narrative.registered",
                date=self.report.period.last_day.strftime("%d/%m/%Y")
                if not period_status(self.report, t)
                else self.report.generated_at.astimezone(TZ).strftime("%d/%m/%Y"),
                registered=fmt_int(m.registered),
                new=fmt_int(m.new),
                before=fmt_int(m.registered_before),
            ),
            t(
                "narrative.learning",
                active=fmt_int(m.active),
                completions=fmt_int(m.completions),
                basic=fmt_int(m.basic_cum),
                basic_new=fmt_int(m.basic_new),
                assisted_basic=fmt_int(m.assisted_basic),
            ),
            t(
                "narrative.households",
                reached=fmt_int(m.households_reached),
                total=fmt_int(m.households_total),
                pct=fmt_dec(m.households_pct or 0.0),
                reached_new=fmt_int(m.households_reached_new),
            ),
        ]

    def strengths(self) -> list[str]:
        m, t = self.m, self.t
        lines = []
        if m.quiz_attempts:
            lines.append(
                t(
                    "narrative.quiz",
                    rate=fmt_dec(m.quiz_pass_rate),
                    attempts=fmt_int(m.quiz_attempts),
                )
            )
        if not single_village(self.report) and len(self.ranked) >= 2:
            leaders = list(reversed(self.ranked[-VILLAGES_NAMED:]))
            lines.append(t("narrative.leaders", list=self._list(leaders)))
        return lines or [self.results()[0]]

    def weaknesses(self) -> list[str]:
        m, t = self.m, self.t
        lines = []
        if behind := self._behind():
            lines.append(t("narrative.laggards", list=self._list(behind)))
        if missing := _not_reached(m):
            lines.append(t("narrative.not_reached", count=fmt_int(missing)))
        if m.visits > m.visits_verified:
            lines.append(t("narrative.unverified", count=fmt_int(m.visits - m.visits_verified)))
        return lines or [t("narrative.no_weakness")]

    def plan(self) -> list[str]:
        m, t = self.m, self.t
        lines = []
        if missing := _not_reached(m):
            behind = self._behind()
            focus = (
                t("narrative.plan_focus", list=", ".join(v.name for v in behind)) if behind else ""
            )
            lines.append(t("narrative.plan_reach", count=fmt_int(missing), focus=focus))
        if (remaining := m.registered - m.basic_cum) > 0:
            lines.append(t("narrative.plan_basic", count=fmt_int(remaining)))
        lines.append(t("narrative.plan_verify"))
        return lines


def _not_reached(m: Metrics) -> int:
    return max(0, m.households_total - m.households_reached)


def _paragraphs(text: str | None) -> list[str]:
    """The commune's own text, one paragraph per line (a folded YAML block is one line)."""
    if not text:
        return []
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _lower_first(name: str) -> str:
    """ "Xã Hòa An" -> "xã Hòa An", as it reads inside a sentence."""
    return name[:1].lower() + name[1:]
