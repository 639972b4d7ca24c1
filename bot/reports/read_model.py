"""The one read model of village, team and commune figures.

Every place that shows a count (the team's village view, the admin overview, the weekly
and monthly digests, `/baocao` and the CLI reports with their annex) takes it from the
statements of `bot.reports.indicators`, through `compute_report` or the functions here;
each figure has one definition, in docs/glossary.md. Chat views ask for a window ending
now ("đến nay": cumulative figures to this moment, plus the learners of the last 30
days); digests and reports ask for a period ("trong kỳ").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports import digital as dg
from bot.reports import indicators as ind
from bot.reports.model import Digital, Metrics
from storage.models import Village

ACTIVE_DAYS = 30  # "đang học": a learning event in the last 30 days
# The start of the log, for figures counted "since the launch" in a live view.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# Which statements a caller needs; each reads only its own tables.
PEOPLE, BASIC, HOUSEHOLDS = "people", "basic", "households"
VISITS, ASSISTED = "visits", "assisted"
ALL_PARTS = (PEOPLE, BASIC, HOUSEHOLDS, VISITS, ASSISTED)

UnitFigures = dict[tuple[str, Any], Metrics]  # (level, unit id) -> figures


def live_end(now: datetime) -> datetime:
    """The exclusive end of a live window: what was recorded at `now` is included."""
    return now + timedelta(seconds=1)


async def unit_figures(
    session: AsyncSession,
    commune_id: int,
    start: datetime,
    end: datetime,
    *,
    levels: tuple[str, ...] = (ind.VILLAGE,),
    village_id: int | None = None,
    parts: Iterable[str] = ALL_PARTS,
    core_lessons: tuple[str, ...] = (),
) -> UnitFigures:
    """The report's figures for ``[start, end)``, per (level, unit) asked for. The core
    lessons are needed only for `assisted_basic`."""
    scope = ind.Scope((commune_id,), start, end, core_lessons, village_id, levels)
    wanted = set(parts)
    builders = {
        PEOPLE: ind.events_statement,
        BASIC: ind.basic_statement,
        HOUSEHOLDS: ind.households_statement,
        VISITS: ind.visits_statement,
        ASSISTED: ind.assisted_statement,
    }
    statements = [builders[name](scope) for name in ALL_PARTS if name in wanted]
    figures = await ind.collect(session, [s for s in statements if s is not None])
    return {(level, unit): _metrics(values) for (level, _, unit), values in figures.items()}


def _metrics(values: dict[str, int]) -> Metrics:
    known = Metrics.__dataclass_fields__
    return Metrics(**{k: v for k, v in values.items() if k in known})


def of(figures: UnitFigures, level: str, unit: Any = None) -> Metrics:
    """A unit's figures, zeros when it has none."""
    return figures.get((level, unit)) or Metrics()


@dataclass(frozen=True)
class ServiceCount:
    visits: int = 0
    verified: int = 0
    households: int = 0


async def service_counts(
    session: AsyncSession,
    commune_id: int,
    start: datetime,
    end: datetime,
    *,
    village_id: int | None = None,
) -> dict[str, ServiceCount]:
    """Support visits in ``[start, end)`` per kind of help (as Bảng 3 counts them)."""
    scope = ind.Scope((commune_id,), start, end, (), village_id)
    rows = await session.execute(ind.services_statement(scope))
    return {
        row.service: ServiceCount(int(row.visits), int(row.verified), int(row.households))
        for row in rows
    }


@dataclass(frozen=True)
class VillageLive:
    """A village "đến nay" (to now), with this week and last week (local Mondays)."""

    now: Metrics  # cumulative to now; `active` over the last ACTIVE_DAYS days
    this_week: Metrics
    last_week: Metrics
    services: dict[str, ServiceCount] = field(default_factory=dict)  # since the launch


async def village_live(
    session: AsyncSession,
    commune_id: int,
    village_id: int,
    now: datetime,
    week_starts: tuple[datetime, datetime],
) -> VillageLive:
    """One village's live figures: the team's village view."""
    end = live_end(now)
    this_start, last_start = week_starts

    async def window(start: datetime, stop: datetime, parts: Iterable[str]) -> Metrics:
        figures = await unit_figures(
            session, commune_id, start, stop, village_id=village_id, parts=parts
        )
        return of(figures, ind.VILLAGE, village_id)

    shown = (PEOPLE, HOUSEHOLDS, VISITS, ASSISTED)  # the view shows no basic programme
    return VillageLive(
        now=await window(now - timedelta(days=ACTIVE_DAYS), end, shown),
        this_week=await window(this_start, end, (PEOPLE, VISITS)),
        last_week=await window(last_start, this_start, (PEOPLE, VISITS)),
        services=await service_counts(session, commune_id, EPOCH, end, village_id=village_id),
    )


async def villages_live(session: AsyncSession, commune_id: int, now: datetime) -> UnitFigures:
    """Every village's registered residents and households reached, to now: the admin
    overview."""
    end = live_end(now)
    return await unit_figures(session, commune_id, end, end, parts=(PEOPLE, HOUSEHOLDS))


async def villages_in_period(
    session: AsyncSession, commune_id: int, start: datetime, end: datetime
) -> UnitFigures:
    """Every village's figures in ``[start, end)`` and the commune's (people are counted
    once in the commune, so its total is computed, not summed): the digests."""
    return await unit_figures(
        session, commune_id, start, end, levels=(ind.COMMUNE, ind.VILLAGE), parts=(PEOPLE, VISITS)
    )


async def digital_status(
    session: AsyncSession,
    commune_id: int,
    start: datetime,
    end: datetime,
    *,
    village_id: int | None = None,
) -> dict[tuple[str, Any], Digital]:
    """Households' and adults' digital status and residents' own word at ``end``, per
    village and for the commune (the report's Bảng "Công dân số", the dashboard's
    figures); `households_surveyed_new` counts surveys updated in ``[start, end)``.
    Denominators come with them: households of the commune file, registered residents."""
    scope = ind.Scope((commune_id,), start, end, (), village_id, (ind.COMMUNE, ind.VILLAGE))
    values = await ind.collect(session, dg.statements(scope))
    people = await unit_figures(
        session,
        commune_id,
        start,
        end,
        levels=(ind.COMMUNE, ind.VILLAGE),
        village_id=village_id,
        parts=(PEOPLE,),
    )
    query = select(Village.id, Village.households_total).where(Village.commune_id == commune_id)
    if village_id is not None:
        query = query.where(Village.id == village_id)
    households = dict((await session.execute(query)).all())
    out: dict[tuple[str, Any], Digital] = {}
    for vid, total in households.items():
        out[(ind.VILLAGE, vid)] = dg.digital_of(
            values.get((ind.VILLAGE, commune_id, vid)),
            households_total=int(total or 0),
            registered=of(people, ind.VILLAGE, vid).registered,
        )
    out[(ind.COMMUNE, None)] = dg.digital_of(
        values.get((ind.COMMUNE, commune_id, None)),
        households_total=sum(int(t or 0) for t in households.values()),
        registered=of(people, ind.COMMUNE).registered,
    )
    return out
