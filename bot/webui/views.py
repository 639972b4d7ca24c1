"""What the pages show, read from the one read model (bot/reports): the report of the
current period (the same `compute_report` the downloads are written from, so a page
and its file agree), the previous period beside it, and a weekly trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.context import Services
from bot.operations.reports import Scope, current_report_month
from bot.reports import indicators as ind
from bot.reports import periods, read_model
from bot.reports.compute import Programme, compute_report
from bot.reports.model import Metrics, Report, VillageRow
from bot.reports.periods import Period
from storage.db import Database

TREND_WEEKS = 8


def month_periods(now: datetime) -> tuple[Period, Period]:
    """The current reporting month and the one before it."""
    year, month = current_report_month(now)
    prev_year, prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    return periods.report_month(year, month), periods.report_month(prev_year, prev_month)


async def report(
    database: Database, services: Services, scope: Scope, period: Period, now: datetime
) -> Report:
    return await compute_report(
        database,
        services.commune.id,
        period,
        Programme.of(services.curriculum),
        village_code=scope.village_code,
        now=now,
    )


@dataclass(frozen=True)
class Week:
    label: str  # "dd/mm" of its Monday
    registered: int  # cumulative at the week's end
    active: int  # learners during the week


async def weekly_trend(
    database: Database, services: Services, village_id: int | None, now: datetime
) -> list[Week]:
    """Registered residents and learners per local week, the last TREND_WEEKS weeks."""
    local = now.astimezone(services.tz)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    level = ind.VILLAGE if village_id is not None else ind.COMMUNE
    weeks = []
    async with database.session() as session:
        for n in range(TREND_WEEKS - 1, -1, -1):
            start = monday - timedelta(weeks=n)
            end = min(start + timedelta(weeks=1), read_model.live_end(now))
            figures = await read_model.unit_figures(
                session,
                services.commune.id,
                start,
                end,
                levels=(level,),
                village_id=village_id,
                parts=(read_model.PEOPLE,),
            )
            m = read_model.of(figures, level, village_id)  # the commune's unit id is None
            weeks.append(Week(start.strftime("%d/%m"), m.registered, m.active))
    return weeks


def funnel(total: Metrics) -> list[tuple[str, int]]:
    """Registered -> started -> finished a lesson -> finished the basic programme."""
    return [
        ("Người dân đăng ký", total.registered),
        ("Đã bắt đầu học", total.learners_cum),
        ("Học xong ít nhất 1 bài", total.completed_any_cum),
        ("Hoàn thành chương trình cơ bản", total.basic_cum),
    ]


def furthest_behind(rows: list[VillageRow], count: int = 5) -> list[VillageRow]:
    """Villages with the smallest share of households reached (then fewest registered)."""
    placed = [v for v in rows if v.id is not None and v.active]
    placed.sort(key=lambda v: (v.metrics.households_pct or 0.0, v.metrics.registered, v.code))
    return placed[:count]
