"""The report's "Công dân số" tables, format-neutral (like `tables.py`): the commune's
indicators with their source, denominator, percentage and the plan's target, and the
same per village. Every value is read from `Report.digital` and `VillageRow.digital`."""

from __future__ import annotations

from typing import Any

from bot.reports.model import Digital, Report
from bot.reports.tables import INT, PCT, TEXT, Column, Table
from bot.reports.texts import ReportTexts

# (indicator, source) in the order shown; each source stays on its own row.
COMMUNE_ROWS = (
    ("households_surveyed", "team"),
    ("households_one_proficient_team", "team"),
    ("households_one_proficient_bot", "bot"),
    ("households_one_proficient", "team_or_bot"),
    ("adults_smartphone", "team"),
    ("adults_vneid_level2", "team"),
    ("adults_payment_account", "team"),
    ("adults_used_public_service", "team"),
    ("adults_health_book", "team"),
    ("basic_cum", "bot"),
    ("residents_course_self", "resident"),
    ("residents_platform_certified_self", "resident"),
)
# Per village: counts, and the percentage of each adult figure.
ADULT_INDICATORS = (
    "adults_smartphone",
    "adults_vneid_level2",
    "adults_payment_account",
    "adults_used_public_service",
    "adults_health_book",
)
VILLAGE_FULL = (
    "households_surveyed",
    "households_one_proficient",
    "households_one_proficient_team",
    "households_one_proficient_bot",
    "adults_total",
    *ADULT_INDICATORS,
    "residents_course_self",
    "residents_platform_certified_self",
)
WITH_PCT = ("households_one_proficient", *ADULT_INDICATORS, "residents_platform_certified_self")
VILLAGE_COMPACT_PCT = ("households_one_proficient", *ADULT_INDICATORS[:4])


def _label(indicator: str) -> str:
    """The indicator a split row belongs to (its label and target)."""
    return indicator.removesuffix("_team").removesuffix("_bot")


def digital_table(report: Report, t: ReportTexts) -> Table:
    """The commune's (or the one village's) indicators, one row per source."""
    d = report.digital
    year = report.period.last_day.year
    columns = [
        Column("number", t("columns.number"), TEXT, 7),
        Column("indicator", t("columns.indicator"), TEXT, 44),
        Column("source", t("digital.columns.source"), TEXT, 14),
        Column("count", t("digital.columns.count"), INT, 10),
        Column("denominator", t("digital.columns.denominator"), INT, 10),
        Column("pct", t("digital.columns.pct"), PCT, 10),
        Column("target", t("digital.columns.target"), PCT, 10),
        Column("progress", t("digital.columns.progress"), PCT, 12),
    ]
    rows = []
    for number, (indicator, source) in enumerate(COMMUNE_ROWS, start=1):
        name = _label(indicator)
        count = report.total.basic_cum if indicator == "basic_cum" else getattr(d, indicator)
        whole = d.denominator(name)
        pct = round(100.0 * count / whole, 1) if whole else None
        # A target belongs to the figure the plan names, not to one source's part of it.
        target = report.targets.of(name, year, report.village_code) if name == indicator else None
        rows.append(
            [
                str(number),
                t(f"digital.indicators.{name}") + _part(indicator, t),
                t(f"digital.sources.{source}"),
                int(count),
                int(whole),
                pct,
                target.percent if target else None,
                target.progress(pct) if target else None,
            ]
        )
    notes = [" ".join(t("digital.note").split()), *_target_years(report, t)]
    return Table("digital", t("digital.table"), columns, rows, frozen_columns=3, notes=notes)


def _part(indicator: str, t: ReportTexts) -> str:
    if indicator.endswith("_team"):
        return f" ({t('digital.sources.team')})"
    if indicator.endswith("_bot"):
        return f" ({t('digital.sources.bot')})"
    return ""


def _target_years(report: Report, t: ReportTexts) -> list[str]:
    year = report.period.last_day.year
    years = sorted(
        {
            target.year
            for name in report.targets.indicators()
            if (target := report.targets.of(name, year, report.village_code)) is not None
        }
    )
    if not years:
        return []
    return [f"{t('digital.columns.target_year')}: {', '.join(str(y) for y in years)}."]


def digital_villages_table(report: Report, t: ReportTexts, *, compact: bool = False) -> Table:
    """Per village. Full (spreadsheets): every count, percentage and the plan's target;
    compact (documents): households surveyed and the percentages."""
    head = [
        Column("number", t("columns.number"), TEXT, 7),
        Column("name", t("columns.village"), TEXT, 22),
    ]
    year = report.period.last_day.year
    targeted = set(report.targets.indicators())
    keys: list[tuple[str, str, str]] = []  # (column key, figure, kind: count|pct|target)
    if compact:
        keys.append(("households_surveyed", "households_surveyed", "count"))
        keys += [(f"{name}_pct", name, "pct") for name in VILLAGE_COMPACT_PCT]
        keys.append(
            ("residents_platform_certified_self", "residents_platform_certified_self", "count")
        )
    else:
        for name in VILLAGE_FULL:
            keys.append((name, name, "count"))
            if name in WITH_PCT:
                keys.append((f"{name}_pct", name, "pct"))
            if name in targeted:
                keys.append((f"{name}_target", name, "target"))
    columns = head + [
        Column(
            key,
            _header(key, figure, kind, t),
            INT if kind == "count" else PCT,
            11 if kind == "count" else 10,
        )
        for key, figure, kind in keys
    ]

    def values(digital: Digital, village_code: str | None) -> list[Any]:
        out: list[Any] = []
        for _key, figure, kind in keys:
            if kind == "count":
                out.append(int(getattr(digital, figure)))
            elif kind == "pct":
                out.append(digital.pct(figure))
            else:
                target = report.targets.of(figure, year, village_code)
                out.append(target.percent if target else None)
        return out

    rows = []
    number = 0
    for village in report.villages:
        if village.id is None:
            continue  # residents with no village yet: in the commune row only
        number += 1
        rows.append([str(number), village.name, *values(village.digital, village.code)])
    title = t("digital.villages_table")
    if report.village_code:
        return Table("digital_villages", title, columns, rows, frozen_columns=2)
    total = ["", t("rows.total"), *values(report.digital, None)]
    return Table("digital_villages", title, columns, rows, total, frozen_columns=2)


def _header(key: str, figure: str, kind: str, t: ReportTexts) -> str:
    if kind == "target":
        return f"{t(f'digital.columns.{figure}')}: {t('digital.columns.target_suffix')}"
    return t(f"digital.columns.{key}")
