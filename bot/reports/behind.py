"""Who is behind before the deadline: per village, what is still missing for the period.

Three things the commune expects of every village, DHIS2's "expected versus received"
made local:
- every household's digital status updated in the period (`households_surveyed_new` of
  `digital.py`, against the commune file's number of households);
- every support visit of the period confirmed by the household (`visits` minus
  `visits_verified`, as the report counts them);
- every team active lately: a visit, a survey or a lesson given in person in the last
  `idle_weeks` weeks.
Read by the weekly notes before the cut-off and, later, the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports import indicators as ind
from bot.reports import read_model
from storage.models import Team, Village
from storage.team_models import AssistedLearning, HouseholdSurvey, SupportVisit


@dataclass(frozen=True)
class VillageBehind:
    village_id: int
    name: str
    households_total: int
    households_updated: int  # households whose newest survey is in the period
    visits: int  # support visits in the period
    visits_unverified: int  # of those, not confirmed by the household yet
    idle_teams: tuple[str, ...]  # teams with no visit, survey or assisted lesson lately

    @property
    def surveys_missing(self) -> int:
        return max(0, self.households_total - self.households_updated)

    @property
    def behind(self) -> bool:
        return bool(self.surveys_missing or self.visits_unverified or self.idle_teams)


async def team_last_activity(
    session: AsyncSession, commune_id: int, team_ids: list[int] | None = None
) -> dict[int, datetime]:
    """Each team's latest visit, household survey or assisted lesson (of `team_ids`)."""
    sv, hs, al = SupportVisit, HouseholdSurvey, AssistedLearning
    parts = [
        select(sv.team_id, sv.visited_at.label("at")).where(sv.commune_id == commune_id),
        select(hs.team_id, hs.surveyed_at.label("at")).where(hs.commune_id == commune_id),
        select(al.team_id, al.at.label("at")).where(al.commune_id == commune_id),
    ]
    if team_ids is not None:
        parts = [
            part.where(table.team_id.in_(team_ids))
            for part, table in zip(parts, (sv, hs, al), strict=True)
        ]
    acts = union_all(*parts).subquery("acts")
    rows = await session.execute(
        select(acts.c.team_id, func.max(acts.c.at))
        .where(acts.c.team_id.is_not(None))
        .group_by(acts.c.team_id)
    )
    return {team_id: at for team_id, at in rows}


async def who_is_behind(
    session: AsyncSession,
    commune_id: int,
    start: datetime,
    now: datetime,
    *,
    idle_weeks: int = 2,
    village_id: int | None = None,
) -> list[VillageBehind]:
    """Every active village of the commune (or just `village_id`) for the period
    ``[start, now]``, in list order. One village reads only that village's rows: the
    dashboard's village page asks for one."""
    end = read_model.live_end(now)
    digital = await read_model.digital_status(
        session, commune_id, start, end, village_id=village_id
    )
    visits = await read_model.unit_figures(
        session, commune_id, start, end, village_id=village_id, parts=(read_model.VISITS,)
    )
    team_query = select(Team.id, Team.name, Team.village_id).where(Team.commune_id == commune_id)
    if village_id is not None:
        team_query = team_query.where(Team.village_id == village_id)
    teams = list(await session.execute(team_query))
    last = await team_last_activity(
        session, commune_id, [t[0] for t in teams] if village_id is not None else None
    )
    idle_since = now - timedelta(weeks=idle_weeks)
    idle: dict[int, list[str]] = {}
    for team_id, name, team_village in teams:
        seen = last.get(team_id)
        if seen is None or seen < idle_since:
            idle.setdefault(team_village, []).append(name)
    village_query = (
        select(Village.id, Village.name)
        .where(Village.commune_id == commune_id, Village.active.is_(True))
        .order_by(Village.position, Village.code)
    )
    if village_id is not None:
        village_query = village_query.where(Village.id == village_id)
    villages = await session.execute(village_query)
    out = []
    for vid, name in villages:
        d = digital.get((ind.VILLAGE, vid))
        m = read_model.of(visits, ind.VILLAGE, vid)
        out.append(
            VillageBehind(
                vid,
                name,
                d.households_total if d else 0,
                d.households_surveyed_new if d else 0,
                m.visits,
                m.visits - m.visits_verified,
                tuple(idle.get(vid, ())),
            )
        )
    return out
