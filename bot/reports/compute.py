"""Run the indicator queries for one commune (or a province) and assemble a `Report`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Curriculum
from bot.reports import digital as dg
from bot.reports import indicators as ind
from bot.reports.model import (
    AgeRow,
    CommuneInfo,
    MemberRow,
    Metrics,
    MonthRow,
    Report,
    ServiceRow,
    TeamRow,
    VillageRow,
)
from bot.reports.periods import Period, month_buckets
from bot.reports.targets import targets_for
from storage.db import Database
from storage.models import Commune, Team, Village
from storage.team_models import VISIT_SERVICES

AGE_GROUPS = ("duoi35", "35-59", "tu60")  # as offered at onboarding
_METRIC_FIELDS = {f.name for f in fields(Metrics)}
_ROLE_RANK = {"member": 0, "leader": 1}


class UnknownVillage(ValueError):
    """The report was restricted to a village code the commune does not have."""


@dataclass(frozen=True)
class Programme:
    """What reports need from the curriculum: lesson order, titles, the core set."""

    lessons: tuple[tuple[str, str, bool], ...]  # (id, title, core) in catalogue order

    @classmethod
    def of(cls, curriculum: Curriculum) -> Programme:
        return cls(tuple((x.id, x.title, x.core) for x in curriculum.lessons.values()))

    @property
    def core(self) -> tuple[str, ...]:
        return tuple(lesson_id for lesson_id, _, core in self.lessons if core)


def _metrics(values: dict[str, int] | None, **extra: int) -> Metrics:
    data = {k: v for k, v in (values or {}).items() if k in _METRIC_FIELDS}
    data.update(extra)
    return Metrics(**data)


async def _prepare(session: AsyncSession, database: Database) -> None:
    """One consistent snapshot for every statement, and room to aggregate in memory."""
    if not database.is_sqlite:
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        await session.execute(text("SET LOCAL work_mem = '128MB'"))


@dataclass(frozen=True)
class _Reads:
    """What the report's statements return, before it is assembled."""

    figures: ind.Figures
    services: dict[str, Any]  # service -> (visits, verified, households)
    roles: list[Any]
    months: dict[int, Any]  # bucket index -> (completions, passes)
    digital: ind.Figures | None = None  # household surveys and self-reports (digital.py)


async def _read(
    database: Database, session: AsyncSession, scope: ind.Scope, buckets: list[Period]
) -> _Reads:
    """Run every statement of the report.

    On PostgreSQL they share the session's snapshot, one after the other. SQLite runs a
    statement on one core, and its reads share no snapshot anyway (the driver opens no
    transaction for a SELECT), so the people figures, about half the work, are read on a
    second connection while this one runs the rest."""
    if not _reads_apart(database):
        people = await ind.collect(session, ind.log_statements(scope))
        rest = await _read_the_rest(session, scope, buckets)
        return replace(rest, figures=ind.combine(people, rest.figures))
    apart = asyncio.create_task(_collect_apart(database, ind.log_statements(scope)))
    try:
        rest = await _read_the_rest(session, scope, buckets)
    except BaseException:
        apart.cancel()
        await asyncio.gather(apart, return_exceptions=True)
        raise
    return replace(rest, figures=ind.combine(await apart, rest.figures))


def _reads_apart(database: Database) -> bool:
    """A SQLite file: an in-memory database would be a different one on each connection."""
    name = database.engine.url.database or ""
    return database.is_sqlite and name not in ("", ":memory:") and "mode=memory" not in name


async def _collect_apart(database: Database, statements: list[Any]) -> ind.Figures:
    async with database.session() as session:
        return await ind.collect(session, statements)


async def _read_the_rest(session: AsyncSession, scope: ind.Scope, buckets: list[Period]) -> _Reads:
    figures = await ind.collect(session, ind.other_statements(scope))
    services = {row.service: row for row in await session.execute(ind.services_statement(scope))}
    roles = list((await session.execute(ind.member_list_statement(scope))).all())
    bounds = [bucket.utc_bounds() for bucket in buckets]
    months = {row.bucket: row for row in await session.execute(ind.months_statement(scope, bounds))}
    digital = await ind.collect(session, dg.statements(scope))
    return _Reads(figures, services, roles, months, digital)


_PEOPLE_LEVELS = (ind.TEAM, ind.MEMBER)  # rows that follow people, not where they live


async def compute_report(
    database: Database,
    commune_id: int,
    period: Period,
    programme: Programme,
    *,
    village_code: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Every figure of the commune's report for ``period`` (optionally one village)."""
    start, end = period.utc_bounds()
    async with database.session() as session, session.begin():
        await _prepare(session, database)
        commune = await session.get(Commune, commune_id)
        if commune is None:
            raise ValueError(f"no commune with id {commune_id}")
        villages = list(
            await session.scalars(
                select(Village)
                .where(Village.commune_id == commune_id)
                .order_by(Village.position, Village.code)
            )
        )
        teams = list(
            await session.scalars(
                select(Team).where(Team.commune_id == commune_id).order_by(Team.code)
            )
        )
        village_id = None
        if village_code is not None:
            match = next((v for v in villages if v.code == village_code), None)
            if match is None:
                known = ", ".join(v.code for v in villages)
                raise UnknownVillage(f"unknown village code {village_code!r} (known: {known})")
            village_id = match.id
            villages = [match]
            teams = [t for t in teams if t.village_id == village_id]
        scope = ind.Scope((commune_id,), start, end, programme.core, village_id)
        buckets = month_buckets(period)
        reads = await _read(database, session, scope, buckets)
        # A team's and a member's figures count the residents they brought wherever those
        # live now: one village's report reads its teams' and members' rows over the
        # whole commune, so they equal the same rows of the commune's report.
        # Only the people figures differ (visits, households... happen in the village),
        # and only the events of the village's teams are read.
        across: ind.Figures = {}
        if village_id is not None:
            wide = ind.Scope(
                (commune_id,), start, end, programme.core,
                levels=_PEOPLE_LEVELS, team_ids=tuple(t.id for t in teams),
            )  # fmt: skip
            across = await ind.collect(
                session, [*ind.log_statements(wide), ind.basic_statement(wide)]
            )

    def get(level: str, unit: Any) -> dict[str, int] | None:
        key = (level, commune_id, unit)
        if village_id is not None and level in _PEOPLE_LEVELS:
            local, wide_values = reads.figures.get(key), across.get(key)
            if local is None and wide_values is None:
                return None
            return {**(local or {}), **(wide_values or {})}
        return reads.figures.get(key)

    def digital(level: str, unit: Any, metrics: Metrics) -> dg.Digital:
        values = (reads.digital or {}).get((level, commune_id, unit))
        return dg.digital_of(
            values, households_total=metrics.households_total, registered=metrics.registered
        )

    village_by_id = {v.id: v for v in villages}
    teams_per_village: dict[int, int] = {}
    for team in teams:
        teams_per_village[team.village_id] = teams_per_village.get(team.village_id, 0) + 1
    households_total = sum(v.households_total for v in villages)
    total_values = get(ind.COMMUNE, None)
    total = _metrics(total_values, households_total=households_total, teams=len(teams))

    village_rows = []
    for village in villages:
        values = get(ind.VILLAGE, village.id)
        if not village.active and not values:
            continue  # closed village with nothing to show
        metrics = _metrics(
            values,
            households_total=village.households_total,
            teams=teams_per_village.get(village.id, 0),
        )
        row = VillageRow(
            village.id,
            village.code,
            village.name,
            village.active,
            metrics,
            digital(ind.VILLAGE, village.id, metrics),
        )
        village_rows.append(row)
    unplaced = get(ind.VILLAGE, None)
    if village_id is None and unplaced:
        row = _unplaced_row(unplaced, total_values or {})
        if row is not None:
            village_rows.append(row)

    team_rows = []
    for team in teams:
        village = village_by_id.get(team.village_id)
        metrics = _metrics(
            get(ind.TEAM, team.id),
            households_total=village.households_total if village else 0,
            teams=1,
        )
        team_rows.append(
            TeamRow(
                team.id,
                team.code,
                team.name,
                village.code if village else "",
                village.name if village else "",
                metrics,
            )
        )

    team_by_id = {t.id: t for t in teams}
    chosen: dict[int, Any] = {}
    for role in reads.roles:
        held = chosen.get(role.person_id)
        if held is None or _ROLE_RANK[role.role] > _ROLE_RANK[held.role]:
            chosen[role.person_id] = role
    member_rows = []
    for person_id, role in chosen.items():
        team = team_by_id.get(role.team_id)
        metrics = _metrics(get(ind.MEMBER, person_id), members=1)
        member_rows.append(
            MemberRow(
                person_id,
                role.display_name,
                role.role,
                team.code if team else "",
                team.name if team else "",
                metrics,
            )
        )

    service_rows = [_service_row(service, reads.services[service]) for service in VISIT_SERVICES]

    age_rows = [AgeRow(age, _metrics(get(ind.AGE, age))) for age in (*AGE_GROUPS, None)]
    age_rows = [row for row in age_rows if row.age_group is not None or row.metrics.registered]

    month_rows = []
    for index, bucket in enumerate(buckets):
        counts = reads.months.get(index)
        month_rows.append(
            MonthRow(
                bucket.key,
                bucket.start,
                bucket.end,
                int(counts.completions or 0) if counts else 0,
                int(counts.passes or 0) if counts else 0,
            )
        )

    return Report(
        commune=CommuneInfo(
            commune.id, commune.code, commune.name, commune.unit_label, commune.launch_date
        ),
        period=period,
        generated_at=now or datetime.now(UTC),
        village_code=village_code,
        total=total,
        villages=village_rows,
        teams=team_rows,
        members=member_rows,
        services=service_rows,
        ages=age_rows,
        months=month_rows,
        core_lessons=programme.core,
        digital=digital(ind.COMMUNE, None, total),
        targets=targets_for(commune.code),
    )


def _service_row(service: str, counts: Any) -> ServiceRow:
    return ServiceRow(service, int(counts.visits), int(counts.verified), int(counts.households))


def _unplaced_row(values: dict[str, int], total: dict[str, int]) -> VillageRow | None:
    """Residents who have not chosen a village yet. Their `registered` event carries no
    village (it comes before the choice), so every resident has a row here: the people
    figures are the commune's minus those of residents placed in some village."""
    figures = dict(values)
    for name in ("registered", "registered_before", "referred", "referred_before"):
        placed = name.replace("registered", "registered_placed").replace(
            "referred", "referred_placed"
        )
        figures[name] = total.get(name, 0) - total.get(placed, 0)
    metrics = _metrics(figures)
    if not any(getattr(metrics, name) for name in _METRIC_FIELDS):
        return None
    return VillageRow(None, "", "", True, metrics)


async def province_rollup(
    database: Database,
    period: Period,
    programme: Programme,
    commune_ids: Sequence[int] | None = None,
    *,
    concurrency: int = 2,
) -> list[tuple[CommuneInfo, Metrics]]:
    """Commune totals side by side, for a deployment serving several communes.

    Communes are independent, so they are counted in ``concurrency`` chunks on as many
    connections at once: one big statement would use one processor core."""
    start, end = period.utc_bounds()
    async with database.session() as session:
        query = select(Commune).order_by(Commune.code)
        if commune_ids is not None:
            query = query.where(Commune.id.in_(commune_ids))
        communes = list(await session.scalars(query))
        ids = [c.id for c in communes]
        totals = dict(
            (
                await session.execute(
                    select(Village.commune_id, func.sum(Village.households_total))
                    .where(Village.commune_id.in_(ids))
                    .group_by(Village.commune_id)
                )
            ).all()
        )
        team_counts = dict(
            (
                await session.execute(
                    select(Team.commune_id, func.count())
                    .where(Team.commune_id.in_(ids))
                    .group_by(Team.commune_id)
                )
            ).all()
        )

    async def count(chunk: tuple[int, ...]) -> dict[ind.UnitKey, dict[str, int]]:
        async with database.session() as session, session.begin():
            await _prepare(session, database)
            scope = ind.Scope(chunk, start, end, programme.core, levels=(ind.COMMUNE,))
            statements = ind.log_statements(scope) + ind.other_statements(scope)
            return await ind.collect(session, statements)

    size = max(1, -(-len(ids) // max(1, concurrency)))
    chunks = [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]
    figures: dict[ind.UnitKey, dict[str, int]] = {}
    for part in await asyncio.gather(*(count(chunk) for chunk in chunks)):
        figures.update(part)
    return [
        (
            CommuneInfo(c.id, c.code, c.name, c.unit_label, c.launch_date),
            _metrics(
                figures.get((ind.COMMUNE, c.id, None)),
                households_total=int(totals.get(c.id) or 0),
                teams=int(team_counts.get(c.id) or 0),
            ),
        )
        for c in communes
    ]
