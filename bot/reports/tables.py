"""The report's tables, format-neutral: titles, columns with Vietnamese headers, rows.

XLSX writes every column; the Word, HTML and PDF documents use the compact column sets
so that tables fit an A4 page. Values stay numbers here; each renderer formats them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.reports.model import Metrics, MonthRow, Report
from bot.reports.periods import TZ
from bot.reports.ranking import Ranked, rank_members, rank_teams, rank_villages
from bot.reports.texts import ReportTexts, fmt_int

INT, PCT, DEC, NUM, TEXT = "int", "pct", "dec", "num", "text"  # NUM: int or decimal


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = INT
    width: int = 12  # characters, a hint for spreadsheets and PDF column widths


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None  # shown last, in bold
    frozen_columns: int = 0  # columns kept in view when scrolling sideways
    notes: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """Rows as {column key: value}, for templates."""
        return [dict(zip((c.key for c in self.columns), row, strict=True)) for row in self.rows]


# Column key -> (kind, width, value from Metrics).
METRIC_COLUMNS: dict[str, tuple[str, int, Callable[[Metrics], Any]]] = {
    "households_total": (INT, 11, lambda m: m.households_total),
    "households_reached": (INT, 12, lambda m: m.households_reached),
    "households_pct": (PCT, 11, lambda m: m.households_pct),
    "households_verified": (INT, 14, lambda m: m.households_verified),
    "registered": (INT, 12, lambda m: m.registered),
    "new": (INT, 12, lambda m: m.new),
    "active": (INT, 12, lambda m: m.active),
    "completions": (INT, 13, lambda m: m.completions),
    "completed_any_cum": (INT, 14, lambda m: m.completed_any_cum),
    "basic_cum": (INT, 15, lambda m: m.basic_cum),
    "basic_new": (INT, 14, lambda m: m.basic_new),
    "quiz_pass_rate": (PCT, 12, lambda m: m.quiz_pass_rate),
    "visits": (INT, 12, lambda m: m.visits),
    "visits_verified": (INT, 11, lambda m: m.visits_verified),
    "assisted_learners": (INT, 12, lambda m: m.assisted_learners),
    "assisted_completions": (INT, 12, lambda m: m.assisted_completions),
    "members": (INT, 10, lambda m: m.members),
    "referred": (INT, 13, lambda m: m.referred),
    "referred_new": (INT, 13, lambda m: m.referred_new),
    "referred_per_member": (DEC, 14, lambda m: m.referred_per_member),
    "trained": (INT, 14, lambda m: m.trained),
    "assisted_basic": (INT, 14, lambda m: m.assisted_basic),
}
# The annex shows the parts of its score, each a column of the main tables too.
RANKING_COLUMNS = ("households_verified", "basic_new", "assisted_basic")

VILLAGE_COLUMNS_FULL = (
    "households_total",
    "households_reached",
    "households_pct",
    "registered",
    "new",
    "active",
    "completions",
    "completed_any_cum",
    "basic_cum",
    "basic_new",
    "assisted_basic",  # beside the bot's figure: two sources, never added
    "quiz_pass_rate",
    "visits",
    "visits_verified",
    "households_verified",
    "assisted_learners",
    "assisted_completions",
    "members",
    "referred",
)
VILLAGE_COLUMNS_COMPACT = (
    "households_total",
    "households_reached",
    "households_pct",
    "registered",
    "active",
    "completions",
    "basic_cum",
    "assisted_basic",  # the two sources side by side wherever one is shown
    "visits",
    "visits_verified",
)
TEAM_COLUMNS_FULL = (
    "members",
    "registered",
    "new",
    "active",
    "completions",
    "basic_cum",
    "basic_new",
    "assisted_basic",
    "visits",
    "visits_verified",
    "households_verified",
    "assisted_learners",
    "assisted_completions",
    "referred",
    "referred_new",
    "referred_per_member",
)
TEAM_COLUMNS_COMPACT = (
    "members",
    "registered",
    "active",
    "basic_cum",
    "assisted_basic",
    "visits",  # the parent of "Trong đó đã xác nhận"
    "visits_verified",
    "households_verified",
    "referred_per_member",
)
AGE_COLUMNS = ("registered", "new", "active", "completed_any_cum", "basic_cum")

# Summary indicators: (text key, measure, value in the period, cumulative value).
SUMMARY: tuple[tuple[str, str, Callable[[Metrics], Any], Callable[[Metrics], Any]], ...] = (
    ("registered", "people", lambda m: m.new, lambda m: m.registered),
    ("active", "people", lambda m: m.active, lambda m: m.learners_cum),
    ("completions", "events", lambda m: m.completions, lambda m: m.completions_cum),
    ("completed_any", "people", lambda m: m.completed_any, lambda m: m.completed_any_cum),
    ("basic", "people", lambda m: m.basic_new, lambda m: m.basic_cum),
    ("assisted_basic", "people", lambda m: m.assisted_basic, lambda m: None),
    ("quiz_attempts", "events", lambda m: m.quiz_attempts, lambda m: m.quiz_attempts_cum),
    ("quiz_pass_rate", "percent", lambda m: m.quiz_pass_rate, lambda m: m.quiz_pass_rate_cum),
    ("households_total", "households", lambda m: None, lambda m: m.households_total),
    (
        "households_reached",
        "households",
        lambda m: m.households_reached_new,
        lambda m: m.households_reached,
    ),
    ("households_pct", "percent", lambda m: None, lambda m: m.households_pct),
    ("visits", "events", lambda m: m.visits, lambda m: m.visits_cum),
    ("visits_verified", "events", lambda m: m.visits_verified, lambda m: m.visits_verified_cum),
    (
        "assisted_learners",
        "people",
        lambda m: m.assisted_learners,
        lambda m: m.assisted_learners_cum,
    ),
    (
        "assisted_completions",
        "events",
        lambda m: m.assisted_completions,
        lambda m: m.assisted_completions_cum,
    ),
    ("teams", "teams", lambda m: None, lambda m: m.teams),
    ("members", "people", lambda m: None, lambda m: m.members),
    ("referred", "people", lambda m: m.referred_new, lambda m: m.referred),
    ("referred_per_member", "people", lambda m: None, lambda m: m.referred_per_member),
)


def _metric_columns(keys: tuple[str, ...], t: ReportTexts) -> list[Column]:
    return [Column(k, t(f"columns.{k}"), METRIC_COLUMNS[k][0], METRIC_COLUMNS[k][1]) for k in keys]


def _metric_values(metrics: Metrics, keys: tuple[str, ...]) -> list[Any]:
    return [METRIC_COLUMNS[k][2](metrics) for k in keys]


def summary_table(report: Report, t: ReportTexts) -> Table:
    columns = [
        Column("number", t("columns.number"), TEXT, 7),
        Column("indicator", t("columns.indicator"), TEXT, 52),
        Column("measure", t("columns.measure"), TEXT, 10),
        Column("in_period", t("columns.in_period"), NUM, 14),
        Column("cumulative", t("columns.cumulative"), NUM, 16),
    ]
    rows = []
    for number, (key, measure, in_period, cumulative) in enumerate(SUMMARY, start=1):
        kind = INT if measure != "percent" and key != "referred_per_member" else DEC
        rows.append(
            [
                str(number),
                t(f"indicators.{key}"),
                t(f"measures.{measure}"),
                _typed(in_period(report.total), kind),
                _typed(cumulative(report.total), kind),
            ]
        )
    return Table("summary", t("tables.summary"), columns, rows, frozen_columns=2)


def _typed(value: Any, kind: str) -> Any:
    return int(value) if kind == INT and value is not None else value


def villages_table(report: Report, t: ReportTexts, *, compact: bool = False) -> Table:
    keys = VILLAGE_COLUMNS_COMPACT if compact else VILLAGE_COLUMNS_FULL
    head = [Column("number", t("columns.number"), TEXT, 7)]
    if not compact:
        head.append(Column("code", t("columns.code"), TEXT, 8))
    head.append(Column("name", t("columns.village"), TEXT, 22))
    rows = []
    for number, village in enumerate(report.villages, start=1):
        name = village.name if village.id is not None else t("rows.unplaced")
        if not village.active:
            name = f"{name} {t('rows.closed')}"
        label = [str(number)] + ([village.code] if not compact else []) + [name]
        rows.append(label + _metric_values(village.metrics, keys))
    columns = head + _metric_columns(keys, t)
    if report.village_code:  # one village: its row is the total, no "Cộng" row
        return Table("villages", t("tables.villages"), columns, rows, frozen_columns=len(head))
    total_label = [""] + ([""] if not compact else [])
    total = total_label + [t("rows.total")] + _metric_values(report.total, keys)
    notes = [" ".join(t("document.glossary").split())]
    return Table("villages", t("tables.villages"), columns, rows, total, len(head), notes=notes)


def teams_table(report: Report, t: ReportTexts, *, compact: bool = False) -> Table:
    keys = TEAM_COLUMNS_COMPACT if compact else TEAM_COLUMNS_FULL
    head = [Column("number", t("columns.number"), TEXT, 7)]
    if not compact:
        head.append(Column("code", t("columns.code"), TEXT, 10))
    head += [Column("name", t("columns.team"), TEXT, 30)]
    if not compact:
        head.append(Column("village", t("columns.village"), TEXT, 16))
    rows = []
    for number, team in enumerate(report.teams, start=1):
        label = [str(number)] + ([team.code] if not compact else []) + [team.name]
        label += [team.village_name] if not compact else []
        rows.append(label + _metric_values(team.metrics, keys))
    columns = head + _metric_columns(keys, t)
    return Table("teams", t("tables.teams"), columns, rows, frozen_columns=len(head))


def services_table(report: Report, t: ReportTexts) -> Table:
    columns = [
        Column("number", t("columns.number"), TEXT, 7),
        Column("service", t("columns.service"), TEXT, 34),
        Column("visits", t("columns.visits"), INT, 14),
        Column("verified", t("columns.visits_verified"), INT, 12),
        Column("unverified", t("columns.visits_unverified"), INT, 12),
        Column("households", t("columns.visit_households"), INT, 12),
    ]
    rows = [
        [str(n), t(f"services.{s.service}"), s.visits, s.verified, s.unverified, s.households]
        for n, s in enumerate(report.services, start=1)
    ]
    note = t("document.services_note", visits=fmt_int(report.total.visits))
    return Table("services", t("tables.services"), columns, rows, frozen_columns=2, notes=[note])


def ages_table(report: Report, t: ReportTexts) -> Table:
    columns = [Column("age_group", t("columns.age_group"), TEXT, 20)]
    columns += _metric_columns(AGE_COLUMNS, t)
    rows = [
        [t(f"ages.{row.age_group or 'unknown'}")] + _metric_values(row.metrics, AGE_COLUMNS)
        for row in report.ages
    ]
    return Table("ages", t("tables.ages"), columns, rows, frozen_columns=1)


def months_table(report: Report, t: ReportTexts) -> Table:
    columns = [
        Column("month", t("columns.month"), TEXT, 30),
        Column("completions", t("columns.month_completions"), INT, 16),
        Column("passes", t("columns.month_passes"), INT, 16),
    ]
    rows = [[month_label(m, report, t), m.completions, m.passes] for m in report.months]
    total = [t("rows.total_period"), sum(m.completions for m in report.months)]
    total.append(sum(m.passes for m in report.months))
    notes = [t("months.note")] if any(not _calendar(m) for m in report.months) else []
    return Table("months", t("tables.months"), columns, rows, total, 1, notes=notes)


def _calendar(month: MonthRow) -> bool:
    start, last = month.start.astimezone(TZ), (month.end.astimezone(TZ) - timedelta(days=1))
    return start.day == 1 and (last + timedelta(days=1)).day == 1


def month_label(month: MonthRow, report: Report, t: ReportTexts, *, short: bool = False) -> str:
    """What a month row really covers: "Tháng 02/2026" for a calendar month, else its days
    ("15/06–14/07/2026"); "(đến 06/12/2026)" when it had not ended when generated."""
    start = month.start.astimezone(TZ)
    last = (month.end.astimezone(TZ) - timedelta(microseconds=1)).date()
    if _calendar(month):
        label = t("months.calendar", month=f"{start.month:02d}", year=start.year)
    elif short:
        label = t("months.span", first=f"{start:%d/%m}", last=f"{last:%d/%m}")
    else:
        first = f"{start:%d/%m}" if start.year == last.year else f"{start:%d/%m/%Y}"
        label = t("months.span", first=first, last=f"{last:%d/%m/%Y}")
    generated = report.generated_at.astimezone(TZ)
    if generated < month.end and not short:
        label = t("months.open", label=label, date=f"{generated:%d/%m/%Y}")
    return label


def _ranking_table(
    key: str, title: str, ranked: list[Ranked], t: ReportTexts, name_header: str, detail: str
) -> Table:
    columns = [
        Column("rank", t("columns.rank"), TEXT, 6),
        Column("name", name_header, TEXT, 30),
    ]
    if detail:
        columns.append(Column("detail", detail, TEXT, 26))
    # The same columns (key, label, value) as the main tables: equal by construction.
    columns += _metric_columns(RANKING_COLUMNS, t)
    rows = [
        [str(r.rank), r.name]
        + ([r.detail] if detail else [])
        + [getattr(r, name) for name in RANKING_COLUMNS]
        for r in ranked
    ]
    return Table(key, title, columns, rows, frozen_columns=2, notes=[t("document.ranking_note")])


def ranking_tables(
    report: Report, t: ReportTexts, *, include_names: bool, member_limit: int | None = None
) -> list[Table]:
    members = rank_members(
        report, include_names=include_names, anonymous=t("rows.anonymous_member", rank="{rank}")
    )
    notes = [t("document.ranking_note")]
    notes += [] if include_names else [t("document.anonymous_note")]
    title = t("tables.rank_members")
    if member_limit is not None and len(members) > member_limit:
        members = members[:member_limit]
        title = f"{title}: {t('document.members_top', count=member_limit)}"
    member_table = _ranking_table(
        "rank_members", title, members, t, t("columns.member"), t("columns.team")
    )
    return [
        _ranking_table(
            "rank_villages",
            t("tables.rank_villages"),
            rank_villages(report),
            t,
            t("columns.village"),
            "",
        ),  # fmt: skip
        _ranking_table(
            "rank_teams",
            t("tables.rank_teams"),
            rank_teams(report),
            t,
            t("columns.team"),
            t("columns.village"),
        ),  # fmt: skip
        Table(
            member_table.key,
            member_table.title,
            member_table.columns,
            member_table.rows,
            frozen_columns=2,
            notes=notes,
        ),
    ]
