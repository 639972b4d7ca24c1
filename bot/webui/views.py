"""What the pages show, read from the one read model (bot/reports): the statements of
`indicators.py` through `read_model.unit_figures`, or `compute_report` itself where a
page shows what a report file shows (teams, members, services), so a page and its
download agree.

A closed period's figures do not change (docs/glossary.md: events keep their time,
roles their grant and revoke times), so they are kept for a few minutes: the previous
period and past weeks of the trend cost nothing on the next page view. The current
period is always read live.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.communes import CommuneRef
from bot.core.context import Services
from bot.operations.reports import Scope, current_report_month
from bot.reports import digital_tables as dg_tables
from bot.reports import indicators as ind
from bot.reports import periods, read_model
from bot.reports.behind import VillageBehind, who_is_behind
from bot.reports.compute import Programme, compute_report
from bot.reports.model import Digital, Metrics, Report, ratio
from bot.reports.periods import Period
from bot.reports.targets import Target, Targets, targets_for
from bot.reports.texts import ReportTexts
from bot.scheduling.reports import Slot, next_report_slots
from storage import repo, scheduling_repo, team_repo
from storage.db import Database
from storage.models import Village

TREND_WEEKS = 8
CLOSED_TTL = 600.0  # seconds a closed period's figures are reused (a later /lienket merge)
_CLOSED: OrderedDict[tuple[object, ...], tuple[float, read_model.UnitFigures]] = OrderedDict()
_CLOSED_MAX = 512
# What the overview shows; assisted learning is on the report, not here.
OVERVIEW_PARTS = (read_model.PEOPLE, read_model.BASIC, read_model.HOUSEHOLDS, read_model.VISITS)


def month_periods(now: datetime) -> tuple[Period, Period]:
    """The current reporting month and the one before it."""
    year, month = current_report_month(now)
    prev_year, prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    return periods.report_month(year, month), periods.report_month(prev_year, prev_month)


async def report(
    database: Database,
    services: Services,
    commune: CommuneRef,
    scope: Scope,
    period: Period,
    now: datetime,
) -> Report:
    return await compute_report(
        database,
        commune.id,
        period,
        Programme.of(services.curriculum),
        village_code=scope.village_code,
        now=now,
    )


async def _figures(
    database: Database,
    services: Services,
    commune: CommuneRef,
    start: datetime,
    end: datetime,
    village_id: int | None,
    levels: tuple[str, ...],
    parts: tuple[str, ...],
    now: datetime,
) -> read_model.UnitFigures:
    """`unit_figures`, reused for a window that ended before `now`."""
    closed = end <= now
    key = (database.url, commune.id, start, end, village_id, levels, parts)
    if closed:
        hit = _CLOSED.get(key)
        if hit is not None and time.monotonic() - hit[0] < CLOSED_TTL:
            return hit[1]
    figures = await split_read(
        database, commune.id, start, end, levels=levels, village_id=village_id,
        parts=parts,
    )  # fmt: skip
    if closed:
        _CLOSED[key] = (time.monotonic(), figures)
        while len(_CLOSED) > _CLOSED_MAX:
            _CLOSED.popitem(last=False)
    return figures


async def split_read(
    database: Database,
    commune_id: int,
    start: datetime,
    end: datetime,
    *,
    levels: tuple[str, ...],
    village_id: int | None = None,
    parts: tuple[str, ...] = read_model.ALL_PARTS,
    core_lessons: tuple[str, ...] = (),
) -> read_model.UnitFigures:
    """`unit_figures` with the people statements (about half the work) on a second
    connection, as `compute_report` does: SQLite runs each statement on one core."""

    async def read(wanted: tuple[str, ...]) -> read_model.UnitFigures:
        if not wanted:
            return {}
        async with database.session() as session:
            return await read_model.unit_figures(
                session, commune_id, start, end, levels=levels, village_id=village_id,
                parts=wanted, core_lessons=core_lessons,
            )  # fmt: skip

    people = tuple(p for p in parts if p == read_model.PEOPLE)
    rest = tuple(p for p in parts if p != read_model.PEOPLE)
    first, second = await asyncio.gather(read(people), read(rest))
    merged = dict(first)
    for key, metrics in second.items():
        extra = {f: getattr(metrics, f) for f in metrics.__dataclass_fields__}
        merged[key] = merged[key].merged(**extra) if key in merged else metrics
    return merged


@dataclass(frozen=True)
class Week:
    label: str  # "dd/mm" of its Monday
    registered: int  # residents registered, cumulative at the week's end (or now)
    new: int  # registered during the week


@dataclass(frozen=True)
class VillageFigures:
    village: Village
    metrics: Metrics  # with households_total from the commune file


@dataclass(frozen=True)
class Overview:
    period: Period
    previous: Period
    now: Metrics
    prev: Metrics
    villages: list[VillageFigures]
    weeks: list[Week]


def _with_households(metrics: Metrics, total: int) -> Metrics:
    return metrics.merged(households_total=total - metrics.households_total)


async def overview(
    database: Database,
    services: Services,
    commune: CommuneRef,
    village: Village | None,
    now: datetime,
) -> Overview:
    """The current period (live), the previous one, every village, the weekly trend."""
    current, previous = month_periods(now)
    village_id = village.id if village is not None else None
    levels = (ind.VILLAGE,) if village is not None else (ind.COMMUNE, ind.VILLAGE)
    unit_level = ind.VILLAGE if village is not None else ind.COMMUNE
    async with database.session() as session:
        rows = await repo.villages(session, commune.id)
    households = (
        village.households_total if village is not None else sum(v.households_total for v in rows)
    )

    async def period_figures(period: Period) -> read_model.UnitFigures:
        start, end = period.utc_bounds()
        return await _figures(
            database, services, commune, start, end, village_id, levels, OVERVIEW_PARTS, now
        )

    live = await period_figures(current)
    before = await period_figures(previous)
    now_total = _with_households(read_model.of(live, unit_level, village_id), households)
    prev_total = _with_households(read_model.of(before, unit_level, village_id), households)
    shown = [
        VillageFigures(v, _with_households(of_village(live, v), v.households_total))
        for v in rows
        if village is None or v.id == village.id
    ]
    weeks = await _weeks(
        database, services, commune, village_id, unit_level, now, now_total.registered
    )
    return Overview(current, previous, now_total, prev_total, shown, weeks)


async def _weeks(
    database: Database,
    services: Services,
    commune: CommuneRef,
    village_id: int | None,
    level: str,
    now: datetime,
    registered_now: int,
) -> list[Week]:
    """Registered residents at the end of each of the last TREND_WEEKS local weeks; the
    current week mondays now, so its point is the live figure read already."""
    local = now.astimezone(services.tz)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    mondays = [monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    cumulative = []
    for end in mondays[1:]:  # the mondays of past weeks: closed windows, cached
        figures = await _figures(
            database, services, commune, end, end, village_id, (level,), (read_model.PEOPLE,), now
        )
        cumulative.append(read_model.of(figures, level, village_id).registered)
    cumulative.append(registered_now)
    first = await _figures(
        database,
        services,
        commune,
        mondays[0],
        mondays[0],
        village_id,
        (level,),
        (read_model.PEOPLE,),
        now,
    )
    before = read_model.of(first, level, village_id).registered
    weeks = []
    for start, value in zip(mondays, cumulative, strict=True):
        weeks.append(Week(start.strftime("%d/%m"), value, value - before))
        before = value
    return weeks


@dataclass(frozen=True)
class TeamFigures:
    team_name: str
    village: Village
    metrics: Metrics


@dataclass(frozen=True)
class Table:
    period: Period
    total: Metrics
    villages: list[VillageFigures]
    teams: list[TeamFigures]


async def villages_table(
    database: Database, services: Services, commune: CommuneRef, now: datetime
) -> Table:
    """The current period per village and per team, and the commune's total."""
    current, _ = month_periods(now)
    start, end = current.utc_bounds()
    async with database.session() as session:
        rows = await repo.villages(session, commune.id)
        teams = await team_repo.teams_of_commune(session, commune.id)
    figures = await split_read(
        database, commune.id, start, end, levels=(ind.COMMUNE, ind.VILLAGE, ind.TEAM),
        core_lessons=Programme.of(services.curriculum).core,
    )  # fmt: skip
    total = _with_households(
        read_model.of(figures, ind.COMMUNE), sum(v.households_total for v in rows)
    )
    shown = [VillageFigures(v, _with_households(of_village(figures, v), v.households_total))
             for v in rows]  # fmt: skip
    team_rows = [TeamFigures(t.name, v, read_model.of(figures, ind.TEAM, t.id)) for t, v in teams]
    return Table(current, total, shown, team_rows)


def of_village(figures: read_model.UnitFigures, village: Village) -> Metrics:
    return read_model.of(figures, ind.VILLAGE, village.id)


def funnel(total: Metrics) -> list[tuple[str, int]]:
    """Registered -> started -> finished a lesson -> finished the basic programme."""
    return [
        ("Người dân đăng ký", total.registered),
        ("Đã bắt đầu học", total.learners_cum),
        ("Học xong ít nhất 1 bài", total.completed_any_cum),
        ("Hoàn thành chương trình cơ bản", total.basic_cum),
    ]


def furthest_behind(rows: list[VillageFigures], count: int = 5) -> list[VillageFigures]:
    """Villages with the smallest share of households reached (then fewest registered)."""
    ordered = sorted(
        rows,
        key=lambda v: (v.metrics.households_pct or 0.0, v.metrics.registered, v.village.code),
    )
    return ordered[:count]


# --- Công dân số: the campaign's own indicators, as the report's table shows them --------

# The report's rows (`digital_tables.COMMUNE_ROWS`) without `basic_cum`, which the key
# figures above already show; each source stays on its own row, as in the report.
DIGITAL_ROWS = tuple(row for row in dg_tables.COMMUNE_ROWS if row[0] != "basic_cum")


@dataclass(frozen=True)
class DigitalRow:
    key: str  # the indicator (or one source's part of it), as the CSV names it
    label: str
    source: str
    count: int
    denominator: int
    pct: float | None
    target: Target | None
    progress: float | None


@dataclass(frozen=True)
class DigitalBlock:
    period: Period
    rows: list[DigitalRow]
    surveyed_new: int  # households whose status was updated in the period


def digital_rows(
    digital: Digital, targets: Targets, year: int, village_code: str | None, unit_label: str
) -> list[DigitalRow]:
    """One unit's indicators with the target the report gives them (a village's own
    target wins over the commune's; a source's part has none, as in the report)."""
    t = ReportTexts(unit_label)
    rows = []
    for indicator, source in DIGITAL_ROWS:
        name = dg_tables._label(indicator)
        count = int(getattr(digital, indicator))
        whole = digital.denominator(name)
        pct = ratio(count, whole)
        target = targets.of(name, year, village_code) if name == indicator else None
        rows.append(
            DigitalRow(
                indicator,
                t(f"digital.indicators.{name}") + dg_tables._part(indicator, t),
                t(f"digital.sources.{source}"),
                count,
                whole,
                pct,
                target,
                target.progress(pct) if target else None,
            )
        )
    return rows


async def digital_block(
    database: Database,
    services: Services,
    commune: CommuneRef,
    village: Village | None,
    now: datetime,
) -> DigitalBlock:
    """The current reporting year's indicators, to now, for the commune or one village."""
    period = periods.report_year(periods.current_report_year(now))
    start, _ = period.utc_bounds()
    end = read_model.live_end(now)
    village_id = village.id if village is not None else None
    async with database.session() as session:
        status = await read_model.digital_status(
            session, commune.id, start, end, village_id=village_id
        )
    key = (ind.VILLAGE, village_id) if village is not None else (ind.COMMUNE, None)
    digital = status.get(key) or Digital()
    code = village.code if village is not None else None
    rows = digital_rows(
        digital,
        targets_for(commune.code),
        period.last_day.year,
        code,
        commune.unit_label,
    )
    return DigitalBlock(period, rows, digital.households_surveyed_new)


async def village_behind(
    database: Database, services: Services, commune: CommuneRef, village: Village, now: datetime
) -> VillageBehind | None:
    """What the village still misses before the deadline, for the reporting year to now."""
    period = periods.report_year(periods.current_report_year(now))
    start, _ = period.utc_bounds()
    async with database.session() as session:
        found = await who_is_behind(
            session,
            commune.id,
            start,
            now,
            idle_weeks=services.scheduler.idle_weeks,
            village_id=village.id,
        )
    return next((v for v in found if v.village_id == village.id), None)


# --- Báo cáo: the scheduled reports, as the scheduler records them ----------------------


@dataclass(frozen=True)
class ScheduleStatus:
    upcoming: list[Slot]  # in time order; local times
    last_key: str | None  # the dedupe key of the last report message sent
    last_at: datetime | None

    @property
    def last(self) -> Slot | None:
        """The last message sent, read back from its key: "report:y:2026:<person>" is
        the annual report, "report:d3:2026:<person>" the reminder 3 days before."""
        parts = (self.last_key or "").split(":")
        if self.last_at is None or len(parts) < 3 or not parts[2].isdigit():
            return None
        year = int(parts[2])
        if parts[1] == "y":
            return Slot("annual", year, self.last_at)
        days = parts[1][1:]
        return Slot("reminder", year, self.last_at, int(days) if days.isdigit() else 0)


async def schedule_status(database: Database, services: Services, now: datetime) -> ScheduleStatus:
    upcoming = next_report_slots(services.scheduler, now.astimezone(services.tz))
    async with database.session() as session:
        last = await scheduling_repo.last_report_sent(session)
    return ScheduleStatus(upcoming, *(last or (None, None)))
