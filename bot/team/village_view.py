"""A village's figures for its team and the commune: households reached, residents,
lessons, visits by kind of help, and this week against last week (local time)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.texts import Texts
from storage import team_repo
from storage.models import ParticipationEvent, Person, Village
from storage.team_models import VISIT_SERVICES, AssistedLearning, SupportVisit

ACTIVE_DAYS = 30
LEARNING_KINDS = ("lesson_started", "lesson_completed", "quiz_passed", "quiz_failed")


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


def _people(village_id: int):  # type: ignore[no-untyped-def]
    return (
        select(func.count())
        .select_from(Person)
        .where(
            Person.village_id == village_id,
            Person.deleted_at.is_(None),
            Person.merged_into_person_id.is_(None),
        )
    )


async def village_stats(
    session: AsyncSession, village: Village, now: datetime, tz: ZoneInfo
) -> VillageStats:
    vid = village.id
    scalar = session.scalar
    this_start, last_start = week_bounds(now, tz)
    completed = select(func.count()).where(
        ParticipationEvent.village_id == vid, ParticipationEvent.kind == "lesson_completed"
    )
    visits = list(
        await session.execute(
            select(SupportVisit.services, SupportVisit.verified_at, SupportVisit.visited_at).where(
                SupportVisit.village_id == vid
            )
        )
    )
    by_service: Counter[str] = Counter()
    for services, _verified, _at in visits:
        by_service.update(s for s in services if s in VISIT_SERVICES)

    def week(start: datetime, end: datetime) -> int:
        return sum(1 for _s, _v, at in visits if start <= at < end)

    async def weekly(start: datetime, end: datetime) -> Week:
        return Week(
            residents=int(
                await scalar(
                    _people(vid).where(Person.created_at >= start, Person.created_at < end)
                )
                or 0
            ),
            lessons=int(
                await scalar(
                    completed.where(
                        ParticipationEvent.occurred_at >= start,
                        ParticipationEvent.occurred_at < end,
                    )
                )
                or 0
            ),
            visits=week(start, end),
        )

    return VillageStats(
        name=village.name,
        households_total=village.households_total,
        households_reached=(await team_repo.households_reached(session, [vid])).get(vid, 0),
        residents=int(await scalar(_people(vid)) or 0),
        active=int(
            await scalar(
                select(func.count(func.distinct(ParticipationEvent.person_id))).where(
                    ParticipationEvent.village_id == vid,
                    ParticipationEvent.kind.in_(LEARNING_KINDS),
                    ParticipationEvent.occurred_at >= now - timedelta(days=ACTIVE_DAYS),
                )
            )
            or 0
        ),
        lessons_completed=int(await scalar(completed) or 0),
        assisted_lessons=int(
            await scalar(select(func.count()).where(AssistedLearning.village_id == vid)) or 0
        ),
        assisted_people=int(
            await scalar(
                select(func.count(func.distinct(AssistedLearning.learner_key))).where(
                    AssistedLearning.village_id == vid
                )
            )
            or 0
        ),
        visits=len(visits),
        verified=sum(1 for _s, verified, _at in visits if verified is not None),
        by_service=by_service,
        this_week=await weekly(this_start, now + timedelta(seconds=1)),
        last_week=await weekly(last_start, this_start),
    )


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


async def commune_overview(session: AsyncSession, commune_id: int) -> list[VillageLine]:
    """One line per active village: households reached and residents registered."""
    villages = list(
        await session.scalars(
            select(Village)
            .where(Village.commune_id == commune_id, Village.active.is_(True))
            .order_by(Village.position, Village.code)
        )
    )
    reached = await team_repo.households_reached(session, [v.id for v in villages])
    residents = dict(
        (
            await session.execute(
                select(Person.village_id, func.count())
                .where(
                    Person.commune_id == commune_id,
                    Person.deleted_at.is_(None),
                    Person.merged_into_person_id.is_(None),
                )
                .group_by(Person.village_id)
            )
        ).all()
    )
    return [
        VillageLine(v, int(reached.get(v.id, 0)), int(residents.get(v.id, 0))) for v in villages
    ]
