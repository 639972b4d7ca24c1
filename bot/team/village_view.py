"""A village's figures for its team and the commune: households reached, residents,
lessons, visits by kind of help, and this week against last week (local time).

The figures come from the read model (`bot.reports.read_model`), so they are the
report's figures "đến nay" (to now): docs/glossary.md defines each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.texts import Texts
from bot.reports import indicators as ind
from bot.reports import read_model
from bot.reports.model import Metrics
from storage.models import Village
from storage.team_models import VISIT_SERVICES

ACTIVE_DAYS = read_model.ACTIVE_DAYS


@dataclass
class Week:
    residents: int = 0
    lessons: int = 0
    visits: int = 0


@dataclass
class VillageStats:
    name: str
    households_total: int
    households_reached: int
    residents: int
    active: int
    lessons_completed: int
    assisted_lessons: int
    assisted_people: int
    visits: int
    verified: int
    by_service: Counter[str] = field(default_factory=Counter)
    this_week: Week = field(default_factory=Week)
    last_week: Week = field(default_factory=Week)

    @property
    def percent(self) -> int:
        if self.households_total <= 0:
            return 0
        return round(100 * self.households_reached / self.households_total)


def week_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start of this week and of last week (Monday 00:00 local time), as aware times."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday, monday - timedelta(days=7)


async def village_stats(
    session: AsyncSession, village: Village, now: datetime, tz: ZoneInfo
) -> VillageStats:
    live = await read_model.village_live(
        session, village.commune_id, village.id, now, week_bounds(now, tz)
    )
    m = live.now
    by_service = Counter({s: live.services[s].visits for s in VISIT_SERVICES if s in live.services})
    return VillageStats(
        name=village.name,
        households_total=village.households_total,
        households_reached=m.households_reached,
        residents=m.registered,
        active=m.active,
        lessons_completed=m.completions_cum,
        assisted_lessons=m.assisted_completions_cum,
        assisted_people=m.assisted_learners_cum,
        visits=m.visits_cum,
        verified=m.visits_verified_cum,
        by_service=by_service,
        this_week=_week(live.this_week),
        last_week=_week(live.last_week),
    )


def _week(metrics: Metrics) -> Week:
    return Week(residents=metrics.new, lessons=metrics.completions, visits=metrics.visits)


def render_stats(texts: Texts, stats: VillageStats) -> str:
    lines = [
        texts(
            "team.view.header",
            village=stats.name,
            reached=stats.households_reached,
            total=stats.households_total,
            percent=stats.percent,
            residents=stats.residents,
            active=stats.active,
            days=ACTIVE_DAYS,
            lessons=stats.lessons_completed,
            assisted_lessons=stats.assisted_lessons,
            assisted_people=stats.assisted_people,
        ),
        texts("team.view.visits", visits=stats.visits),
    ]
    for service in VISIT_SERVICES:
        if stats.by_service[service]:
            lines.append(
                texts(
                    "team.view.service_line",
                    label=texts(f"team.services.{service}"),
                    count=stats.by_service[service],
                )
            )
    lines.append(
        texts(
            "team.view.verified", verified=stats.verified, unverified=stats.visits - stats.verified
        )
    )
    this, last = stats.this_week, stats.last_week
    lines.append(
        texts(
            "team.view.weeks",
            residents=this.residents,
            residents_last=last.residents,
            lessons=this.lessons,
            lessons_last=last.lessons,
            visits=this.visits,
            visits_last=last.visits,
        )
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class VillageLine:
    village: Village
    reached: int
    residents: int

    @property
    def percent(self) -> int:
        total = self.village.households_total
        return round(100 * self.reached / total) if total > 0 else 0


async def commune_overview(
    session: AsyncSession, commune_id: int, now: datetime
) -> list[VillageLine]:
    """One line per active village: households reached and residents registered, to now."""
    villages = list(
        await session.scalars(
            select(Village)
            .where(Village.commune_id == commune_id, Village.active.is_(True))
            .order_by(Village.position, Village.code)
        )
    )
    figures = await read_model.villages_live(session, commune_id, now)
    lines = []
    for v in villages:
        m = read_model.of(figures, ind.VILLAGE, v.id)
        lines.append(VillageLine(v, m.households_reached, m.registered))
    return lines
