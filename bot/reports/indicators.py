"""Campaign indicators as portable SQL (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Every figure is aggregated in SQL with GROUP BY; nothing loops over rows in Python.
The people and event figures read the log once, into one row per (account, village,
team) (see `_unit_rows`); each unit level (commune, village, team, member, age group)
then counts distinct people over those rows with one grouping. The basic programme
reads only the ``programme_completed`` events. Households, visits, assisted learning and
roles each take one statement. Month buckets are index range scans.

Rules every figure follows (see docs of `bot.reports.model`):
- a person is ``coalesce(merged_into_person_id, person_id)``: linked messenger accounts
  count once; a deleted resident's events remain and still count;
- a person is attributed to the village and team snapshotted on each event, so a
  resident who moved counts in the old village for old events;
- a resident "registered in a unit" has a ``registered`` or ``village_set`` event there
  (the ``registered`` event comes before the village is chosen, so it carries none),
  and holds no staff role of the commune at the end (see `_staff_at_end`): team members,
  leaders and admins count as learners for what they learn, never as residents;
- the basic programme is finished at a person's first ``programme_completed`` event,
  written by the quiz pass that covered every lesson core at that moment
  (`bot.programme`); it is attributed to that event's unit;
- "in the period" is ``[start, end)`` in UTC; "cumulative" is everything before ``end``;
  a visit counts as verified when verified before ``end``, so a closed period's report
  reads the same when it is run again later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ParticipationEvent, Person, Team, Village
from storage.team_models import (
    VISIT_SERVICES,
    AssistedLearning,
    Household,
    StaffRole,
    SupportVisit,
)

EVENTS = ParticipationEvent.__table__
PEOPLE = Person.__table__
TEAMS = Team.__table__
VILLAGES = Village.__table__
HOUSEHOLDS = Household.__table__
VISITS = SupportVisit.__table__
ASSISTED = AssistedLearning.__table__
ROLES = StaffRole.__table__

# The covering index both passes over the log read in order, instead of sorting
# (`ix_participation_events_report`; bench/reports.py also times it as a second copy).
REPORT_INDEX_COLUMNS = (
    "commune_id",
    "person_id",
    "village_id",
    "team_id",
    "kind",
    "lesson_id",
    "occurred_at",
)

RESIDENCE_KINDS = ("registered", "village_set")
PROGRAMME_COMPLETED = "programme_completed"  # as written by `bot.programme`
TEAM_ROLES = ("member", "leader")
DEPLOYMENT_WIDE_ROLES = ("deployment_admin", "province_officer")  # staff of every commune

# Unit levels. Every query returns rows (level, commune_id, unit_id, unit_key, figures...).
COMMUNE, VILLAGE, TEAM = "commune", "village", "team"
MEMBER, AGE = "member", "age"
ALL_LEVELS = (COMMUNE, VILLAGE, TEAM, MEMBER, AGE)

UnitKey = tuple[str, int, Any]  # (level, commune_id, unit id or key)


@dataclass(frozen=True)
class Scope:
    """What to count: communes, UTC bounds, the basic programme and an optional village."""

    commune_ids: tuple[int, ...]
    start: datetime
    end: datetime
    core_lessons: tuple[str, ...]
    village_id: int | None = None
    levels: tuple[str, ...] = ALL_LEVELS
    # Only the events recorded for these teams (a one-village report's team and member
    # rows, read over the whole commune without the rest of its log).
    team_ids: tuple[int, ...] | None = None


# --- small SQL helpers --------------------------------------------------------


def _one_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(_one_if(condition))


def _distinct_if(condition: ColumnElement[bool], key: ColumnElement[Any]) -> ColumnElement[int]:
    return func.count(distinct(case((condition, key))))


def _level(name: str) -> ColumnElement[str]:
    return literal_column(f"'{name}'", String).label("level")


_NO_ID = cast(null(), Integer)
_NO_KEY = cast(null(), String)
_ZERO = literal_column("0", Integer)


def _unit_select(
    name: str,
    commune_id: ColumnElement[int],
    figures: Sequence[ColumnElement[Any]],
    *,
    unit_id: ColumnElement[Any] | None = None,
    unit_key: ColumnElement[Any] | None = None,
) -> Select[Any]:
    """One level of a UNION ALL: figures grouped by commune and the level's unit."""
    group: list[ColumnElement[Any]] = [commune_id]
    group += [c for c in (unit_id, unit_key) if c is not None]
    return select(
        _level(name),
        commune_id.label("commune_id"),
        (unit_id if unit_id is not None else _NO_ID).label("unit_id"),
        (unit_key if unit_key is not None else _NO_KEY).label("unit_key"),
        *figures,
    ).group_by(*group)


def _union(selects: Iterable[Select[Any]]) -> Select[Any] | None:
    parts = list(selects)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return union_all(*parts)  # type: ignore[return-value]


# --- participation events -------------------------------------------------------
#
# The log is read once into one row per (account, village, team): `_by_kind` counts
# events per kind in the order of the covering index (no sort), `_unit_rows` turns the
# kinds into figures. Whether the row's person counts is kept as three "reach" values,
# 1 or 2 where 2 implies 1 (NULL: no such event), so one column holds two flags:
#   residence: 1 a registered/village_set event before the end, 2 also before the start
#   learning:  1 a learning event before the end, 2 also a completed lesson
#   activity:  1 a learning event in the period, 2 also a lesson completed in the period
# Each level then groups those rows once by its unit and counts distinct people; the
# commune, age groups and referring members add up (age group, referrer) profiles,
# since each person has exactly one. Event counts are plain sums.

_REACH = ("residence", "learning", "activity")
# The kinds the people figures read, as numbers: computed once per group of events, they
# let the per-unit step compare integers rather than strings (learning kinds are >= 2).
_RESIDENCE, _STARTED, _FAILED, _PASSED, _COMPLETED = 1, 2, 3, 4, 5
_KIND_CODES = {
    **dict.fromkeys(RESIDENCE_KINDS, _RESIDENCE),
    "lesson_started": _STARTED,
    "quiz_failed": _FAILED,
    "quiz_passed": _PASSED,
    "lesson_completed": _COMPLETED,
}
_SUMS = (
    "completions",
    "completions_cum",
    "quiz_attempts",
    "quiz_passed",
    "quiz_attempts_cum",
    "quiz_passed_cum",
)


def events_statement(scope: Scope) -> Select[Any] | None:
    """People and event figures for every requested level, in one statement."""
    units = _unit_rows(scope)
    staff = _staff_at_end(scope)
    # The canonical person gives the age group and the member who referred them.
    p, canon = PEOPLE.alias("p"), PEOPLE.alias("canon")
    key = func.coalesce(p.c.merged_into_person_id, units.c.person_id)
    pp_query = select(
        units.c.commune_id,
        key.label("key"),
        units.c.village_id,
        units.c.team_id,
        canon.c.age_group,
        canon.c.referred_by_person_id.label("referrer"),
        case((staff.c.key.is_not(None), 1), else_=0).label("staff"),
        *[units.c[name] for name in _REACH + _SUMS],
    ).select_from(
        units.outerjoin(p, p.c.id == units.c.person_id)
        .outerjoin(canon, canon.c.id == key)
        .outerjoin(staff, staff.c.key == key)
    )
    if scope.village_id is not None:
        # Filter after attribution so a one-village report equals that village's row.
        pp_query = pp_query.where(units.c.village_id == scope.village_id)
    pp = pp_query.cte("pp")  # evaluated once, read by every level
    parts: list[Select[Any]] = []
    wanted = set(scope.levels)
    if wanted & {COMMUNE, AGE, MEMBER}:
        parts += _profile_levels(pp, wanted)
    for name, unit in ((VILLAGE, pp.c.village_id), (TEAM, pp.c.team_id)):
        if name in wanted:
            parts.append(_unit_level(name, pp, unit))
    return _union(parts)


def _staff_at_end(scope: Scope) -> Any:
    """People (canonical keys) holding a staff role of the communes at the end: member or
    leader of one of their teams, their commune admin, a deployment admin or a province
    officer. Roles keep their grant and revoke times, so a closed period's answer never
    changes."""
    sr, t, p = ROLES, TEAMS, PEOPLE.alias("staff_person")
    commune = func.coalesce(sr.c.commune_id, t.c.commune_id)
    return (
        select(func.coalesce(p.c.merged_into_person_id, sr.c.person_id).label("key"))
        .select_from(sr.outerjoin(t, t.c.id == sr.c.team_id).outerjoin(p, p.c.id == sr.c.person_id))
        .where(
            or_(commune.in_(scope.commune_ids), sr.c.role.in_(DEPLOYMENT_WIDE_ROLES)),
            sr.c.created_at < scope.end,
            or_(sr.c.revoked_at.is_(None), sr.c.revoked_at >= scope.end),
        )
        .distinct()
        .subquery("staff")
    )


def _log_scope(scope: Scope) -> list[ColumnElement[bool]]:
    e = EVENTS
    return [e.c.commune_id.in_(scope.commune_ids), e.c.occurred_at < scope.end]


def _by_kind(scope: Scope) -> Any:
    """Events per (account, village, team, kind) before the end, and how many in the
    period. Grouped in the order of the covering index (commune first), so SQLite and
    PostgreSQL both stream, not sort or hash (a province's 10 million events);
    the kind comes out as its `_KIND_CODES` number (0 for kinds no figure reads)."""
    e = EVENTS
    # Rows of other villages would be dropped after attribution anyway (`events_statement`):
    # dropping them here spares a one-village read (a chat view) the rest of the commune.
    village_filter = [] if scope.village_id is None else [e.c.village_id == scope.village_id]
    if scope.team_ids is not None:
        village_filter.append(e.c.team_id.in_(scope.team_ids))
    return (
        select(
            e.c.commune_id,
            e.c.person_id,
            e.c.village_id,
            e.c.team_id,
            case(_KIND_CODES, value=e.c.kind, else_=0).label("kind"),
            func.count().label("n"),
            func.count().filter(e.c.occurred_at >= scope.start).label("n_in"),
        )
        .where(*_log_scope(scope), *village_filter)
        .group_by(e.c.commune_id, e.c.person_id, e.c.village_id, e.c.team_id, e.c.kind)
        .subquery("by_kind")
    )


def _unit_rows(scope: Scope) -> Any:
    """One row per (account, village, team): its reach values and event counts."""
    k = _by_kind(scope).c
    learning, completed = k.kind >= _STARTED, k.kind == _COMPLETED
    quiz, passed = k.kind.in_((_FAILED, _PASSED)), k.kind == _PASSED
    # Registered before the start: some of the events before the end are not in the period.
    residence = case((k.n > k.n_in, 2), else_=1)
    studied = case((completed, 2), else_=1)  # 2: completed a lesson
    in_period, cumulative = k.n_in, k.n
    return (
        select(
            k.commune_id,
            k.person_id,
            k.village_id,
            k.team_id,
            func.max(residence).filter(k.kind == _RESIDENCE).label("residence"),
            func.max(studied).filter(learning).label("learning"),
            func.max(studied).filter(learning, k.n_in > 0).label("activity"),
            # NULL rather than 0 where no such event: the figures read it as 0.
            func.sum(in_period).filter(completed).label("completions"),
            func.sum(cumulative).filter(completed).label("completions_cum"),
            func.sum(in_period).filter(quiz).label("quiz_attempts"),
            func.sum(in_period).filter(passed).label("quiz_passed"),
            func.sum(cumulative).filter(quiz).label("quiz_attempts_cum"),
            func.sum(cumulative).filter(passed).label("quiz_passed_cum"),
        )
        .where(k.kind > 0)
        .group_by(k.commune_id, k.person_id, k.village_id, k.team_id)
        .subquery("units")
    )


def _people_figures(pp: Any, *, placed: bool = False) -> list[ColumnElement[int]]:
    """Distinct people of the unit with each reach, and the sums of their events."""
    r = pp.c
    referred = r.referrer.is_not(None)
    resident = r.staff == 0
    conditions = {
        "registered": and_(r.residence >= 1, resident),
        "registered_before": and_(r.residence == 2, resident),
        "learners_cum": r.learning >= 1,
        "completed_any_cum": r.learning == 2,
        "active": r.activity >= 1,
        "completed_any": r.activity == 2,
        "referred": and_(r.residence >= 1, resident, referred),
        "referred_before": and_(r.residence == 2, resident, referred),
    }
    # Residents placed in some village: only the commune's are used (see
    # `compute._unplaced_row`), so other levels give zeros.
    in_village = r.village_id.is_not(None)
    placed_conditions = {
        "registered_placed": and_(r.residence >= 1, resident, in_village),
        "registered_placed_before": and_(r.residence == 2, resident, in_village),
        "referred_placed": and_(r.residence >= 1, resident, in_village, referred),
        "referred_placed_before": and_(r.residence == 2, resident, in_village, referred),
    }
    people = [_people_if(r.key, c).label(name) for name, c in conditions.items()]
    people += [
        (_people_if(r.key, c) if placed else _ZERO).label(name)
        for name, c in placed_conditions.items()
    ]
    return people + [func.sum(r[name]).label(name) for name in _SUMS]


def _people_if(key: ColumnElement[Any], condition: ColumnElement[bool]) -> ColumnElement[int]:
    """People with a row meeting the condition. One sort per level and a small index per
    figure cost less than grouping the rows per person first."""
    return func.count(distinct(key)).filter(condition)


def _unit_level(name: str, pp: Any, unit: Any) -> Select[Any]:
    """Village or team figures."""
    query = _unit_select(name, pp.c.commune_id, _people_figures(pp), unit_id=unit)
    if name == TEAM:  # events without a team have no team row to show
        query = query.where(unit.is_not(None))
    return query


def _profile_levels(pp: Any, wanted: set[str]) -> list[Select[Any]]:
    """Commune, age group and referring member: attributes of the person, so each person
    is in one (age group, referrer) profile, and the three levels sum profiles."""
    figures = _people_figures(pp, placed=True)
    group = [pp.c.commune_id, pp.c.age_group, pp.c.referrer]
    profiles = select(*group, *figures).group_by(*group).cte("profiles")
    c = profiles.c
    totals = [func.sum(c[column.name]).label(column.name) for column in figures]
    levels = {
        COMMUNE: lambda: _unit_select(COMMUNE, c.commune_id, totals),
        AGE: lambda: _unit_select(AGE, c.commune_id, totals, unit_key=c.age_group),
        MEMBER: lambda: _unit_select(MEMBER, c.commune_id, totals, unit_id=c.referrer).where(
            c.referrer.is_not(None)
        ),
    }
    return [levels[name]() for name in (COMMUNE, AGE, MEMBER) if name in wanted]


# --- the basic programme ------------------------------------------------------------


def basic_statement(scope: Scope) -> Select[Any] | None:
    """People who completed the basic programme before the end (linked accounts
    together), counted in the unit of their first `programme_completed` event. Each
    person has one such row, so every level simply counts rows."""
    done = _basic_done(scope).subquery("basic_done")
    query = select(done)
    if scope.village_id is not None:  # as for the other figures: after attribution
        query = query.where(done.c.village_id == scope.village_id)
    finished = query.cte("finished")
    f = finished.c
    canon = PEOPLE.alias("basic_canon")
    with_canon = finished.outerjoin(canon, canon.c.id == f.key)
    figures = [
        func.count().label("basic_cum"),
        _count_if(f.done_at < scope.start).label("basic_before"),
    ]
    referrer = canon.c.referred_by_person_id
    levels = {
        COMMUNE: lambda: _unit_select(COMMUNE, f.commune_id, figures),
        AGE: lambda: _unit_select(
            AGE, f.commune_id, figures, unit_key=canon.c.age_group
        ).select_from(with_canon),
        MEMBER: lambda: (
            _unit_select(MEMBER, f.commune_id, figures, unit_id=referrer)
            .select_from(with_canon)
            .where(referrer.is_not(None))
        ),
        VILLAGE: lambda: _unit_select(VILLAGE, f.commune_id, figures, unit_id=f.village_id),
        TEAM: lambda: _unit_select(TEAM, f.commune_id, figures, unit_id=f.team_id).where(
            f.team_id.is_not(None)
        ),
    }
    return _union(levels[name]() for name in scope.levels if name in levels)


def _basic_done(scope: Scope) -> Select[Any]:
    """(commune, person, village, team, done_at) of everyone who completed the programme:
    the first `programme_completed` event per person. The event is written when the pass
    happens, against the core set of that moment (`bot.programme`), so a closed period
    never changes when the curriculum grows."""
    e = EVENTS
    # Read from the partial index of these events alone (`ix_participation_events_basic`),
    # grouped in its order; a person has about one such row. The kind is written into the
    # SQL, not bound, so that both databases can tell the partial index applies.
    per_unit = (
        select(
            e.c.commune_id,
            e.c.person_id,
            e.c.village_id,
            e.c.team_id,
            func.min(e.c.occurred_at).label("occurred_at"),
        )
        .where(
            e.c.commune_id.in_(scope.commune_ids),
            e.c.kind == literal_column(f"'{PROGRAMME_COMPLETED}'", String),
            e.c.occurred_at < scope.end,
        )
        .group_by(e.c.commune_id, e.c.person_id, e.c.village_id, e.c.team_id)
        .subquery("completed_per_unit")
    )
    u = per_unit.c
    p = PEOPLE.alias("bp")
    completions = (
        select(
            u.commune_id,
            func.coalesce(p.c.merged_into_person_id, u.person_id).label("key"),
            u.village_id,
            u.team_id,
            u.occurred_at,
        )
        .select_from(per_unit.outerjoin(p, p.c.id == u.person_id))
        .cte("completions")
    )
    c = completions.c
    done = (
        select(c.commune_id, c.key, func.min(c.occurred_at).label("done_at"))
        .group_by(c.commune_id, c.key)
        .subquery("done")
    )
    # Where the first completion happened (the lowest ids on a tie).
    return (
        select(
            done.c.commune_id,
            done.c.key,
            func.min(c.village_id).label("village_id"),
            func.min(c.team_id).label("team_id"),
            done.c.done_at,
        )
        .select_from(
            done.join(
                completions,
                and_(
                    c.commune_id == done.c.commune_id,
                    c.key == done.c.key,
                    c.occurred_at == done.c.done_at,
                ),
            )
        )
        .group_by(done.c.commune_id, done.c.key, done.c.done_at)
    )


# --- households -------------------------------------------------------------------


def households_statement(scope: Scope) -> Select[Any] | None:
    """Households reached: a registered resident lives there, or a visit was logged."""
    h, sv, v = HOUSEHOLDS, VISITS, VILLAGES
    # Kept on the household itself, so a resident who later unlinks or deletes their
    # data does not take the household's reach with them (Household.resident_reached_at).
    scope_villages = select(v.c.id).where(v.c.commune_id.in_(scope.commune_ids))
    by_resident = select(h.c.id.label("household_id"), h.c.resident_reached_at.label("at")).where(
        h.c.resident_reached_at < scope.end, h.c.village_id.in_(scope_villages)
    )
    by_visit = (
        select(sv.c.household_id, func.min(sv.c.visited_at).label("at"))
        .where(sv.c.commune_id.in_(scope.commune_ids), sv.c.visited_at < scope.end)
        .group_by(sv.c.household_id)
    )
    reach = union_all(by_resident, by_visit).subquery("reach")
    first = (
        select(reach.c.household_id, func.min(reach.c.at).label("reached_at"))
        .group_by(reach.c.household_id)
        .subquery("first_reach")
    )
    query = (
        select(h.c.id, h.c.village_id, v.c.commune_id, first.c.reached_at)
        .select_from(
            h.join(v, v.c.id == h.c.village_id).join(first, first.c.household_id == h.c.id)
        )
        .where(v.c.commune_id.in_(scope.commune_ids))
    )
    if scope.village_id is not None:
        query = query.where(h.c.village_id == scope.village_id)
    hv = query.cte("hv")
    figures = [
        func.count().label("households_reached"),
        _count_if(hv.c.reached_at < scope.start).label("households_reached_before"),
    ]
    t = TEAMS
    levels = {
        COMMUNE: lambda: _unit_select(COMMUNE, hv.c.commune_id, figures),
        VILLAGE: lambda: _unit_select(VILLAGE, hv.c.commune_id, figures, unit_id=hv.c.village_id),
        # A team reaches the households of its village.
        TEAM: lambda: _unit_select(TEAM, hv.c.commune_id, figures, unit_id=t.c.id).select_from(
            hv.join(t, t.c.village_id == hv.c.village_id)
        ),
    }
    return _union(levels[name]() for name in scope.levels if name in levels)


# --- support visits ---------------------------------------------------------------


_VISIT_COLUMNS = (
    "commune_id",
    "village_id",
    "team_id",
    "member_person_id",
    "household_id",
    "visited_at",
    "verified_at",
)


def _visits_base(scope: Scope, *, services: bool = False) -> Any:
    """Visits before the end, with only the columns read (SQLite copies what a CTE has)."""
    sv = VISITS
    columns = [sv.c[name] for name in _VISIT_COLUMNS]
    if services:
        columns.append(sv.c.services)
    query = select(*columns).where(
        sv.c.commune_id.in_(scope.commune_ids), sv.c.visited_at < scope.end
    )
    if scope.village_id is not None:
        query = query.where(sv.c.village_id == scope.village_id)
    return query.cte("sv")


def visits_statement(scope: Scope) -> Select[Any] | None:
    sv = _visits_base(scope)
    in_period = sv.c.visited_at >= scope.start
    verified = sv.c.verified_at < scope.end  # as known at the end: reruns give the same
    figures = [
        _count_if(in_period).label("visits"),
        _count_if(and_(in_period, verified)).label("visits_verified"),
        func.count().label("visits_cum"),
        _count_if(verified).label("visits_verified_cum"),
        _distinct_if(and_(in_period, verified), sv.c.household_id).label("households_verified"),
    ]
    levels = {
        COMMUNE: lambda: _unit_select(COMMUNE, sv.c.commune_id, figures),
        VILLAGE: lambda: _unit_select(VILLAGE, sv.c.commune_id, figures, unit_id=sv.c.village_id),
        TEAM: lambda: _unit_select(TEAM, sv.c.commune_id, figures, unit_id=sv.c.team_id),
        MEMBER: lambda: _unit_select(
            MEMBER, sv.c.commune_id, figures, unit_id=sv.c.member_person_id
        ),
    }
    return _union(levels[name]() for name in scope.levels if name in levels)


def services_statement(scope: Scope) -> Select[Any]:
    """Visits in the period per kind of help: one row per service, with its visits,
    verified visits and distinct households.

    `services` is a JSON list; matching its text for the quoted key is portable (JSON
    functions differ between SQLite and PostgreSQL) and exact, since keys are quoted."""
    sv = _visits_base(scope, services=True)
    in_period = sv.c.visited_at >= scope.start
    text = cast(sv.c.services, String)
    parts = [
        select(
            literal_column(f"'{service}'", String).label("service"),
            func.count().label("visits"),
            func.count().filter(sv.c.verified_at < scope.end).label("verified"),
            func.count(distinct(sv.c.household_id)).label("households"),
        ).where(in_period, text.like(f'%"{service}"%'))
        for service in VISIT_SERVICES
    ]
    return union_all(*parts)  # type: ignore[return-value]


# --- assisted learning ------------------------------------------------------------


def assisted_statement(scope: Scope) -> Select[Any] | None:
    al = ASSISTED
    columns = ("commune_id", "village_id", "team_id", "member_person_id", "learner_key")
    query = select(*[al.c[name] for name in columns], al.c.lesson_id, al.c.at).where(
        al.c.commune_id.in_(scope.commune_ids), al.c.at < scope.end
    )
    if scope.village_id is not None:
        query = query.where(al.c.village_id == scope.village_id)
    base = query.cte("al")
    in_period = base.c.at >= scope.start
    units = {
        COMMUNE: None,
        VILLAGE: base.c.village_id,
        TEAM: base.c.team_id,
        MEMBER: base.c.member_person_id,
    }
    parts = []
    for name, unit in units.items():
        if name not in scope.levels:
            continue
        figures = [
            _distinct_if(in_period, base.c.learner_key).label("assisted_learners"),
            _count_if(in_period).label("assisted_completions"),
            func.count(distinct(base.c.learner_key)).label("assisted_learners_cum"),
            func.count().label("assisted_completions_cum"),
            literal_column("0", Integer).label("assisted_basic"),
        ]
        parts.append(_unit_select(name, base.c.commune_id, figures, unit_id=unit))
        if scope.core_lessons:
            parts.append(_assisted_basic(name, base, unit, scope))
    return _union(parts)


def _assisted_basic(name: str, base: Any, unit: Any, scope: Scope) -> Select[Any]:
    """Assisted learners whose help covered every core lesson, finishing in the period."""
    unit_col = unit if unit is not None else _NO_ID
    per_lesson = (
        select(
            base.c.commune_id,
            unit_col.label("unit_id"),
            base.c.learner_key,
            func.min(base.c.at).label("at"),
        )
        .where(base.c.lesson_id.in_(scope.core_lessons))
        .group_by(base.c.commune_id, unit_col, base.c.learner_key, base.c.lesson_id)
        .subquery()
    )
    per_learner = (
        select(
            per_lesson.c.commune_id,
            per_lesson.c.unit_id,
            func.max(per_lesson.c.at).label("done_at"),
        )
        .group_by(per_lesson.c.commune_id, per_lesson.c.unit_id, per_lesson.c.learner_key)
        .having(func.count() == len(scope.core_lessons))
        .subquery()
    )
    zero = literal_column("0", Integer)
    return select(
        _level(name),
        per_learner.c.commune_id,
        per_learner.c.unit_id,
        _NO_KEY.label("unit_key"),
        zero.label("assisted_learners"),
        zero.label("assisted_completions"),
        zero.label("assisted_learners_cum"),
        zero.label("assisted_completions_cum"),
        _count_if(per_learner.c.done_at >= scope.start).label("assisted_basic"),
    ).group_by(per_learner.c.commune_id, per_learner.c.unit_id)


# --- teams ------------------------------------------------------------------------


def _active_roles(scope: Scope, *, during_period: bool) -> Any:
    """Member and leader roles held at the end (or at any time in the period)."""
    sr, t = ROLES, TEAMS
    still_held = sr.c.revoked_at >= (scope.start if during_period else scope.end)
    query = (
        select(sr.c.person_id, sr.c.role, sr.c.team_id, t.c.commune_id, t.c.village_id)
        .select_from(sr.join(t, t.c.id == sr.c.team_id))
        .where(
            t.c.commune_id.in_(scope.commune_ids),
            sr.c.role.in_(TEAM_ROLES),
            sr.c.created_at < scope.end,
            or_(sr.c.revoked_at.is_(None), still_held),
        )
    )
    if scope.village_id is not None:
        query = query.where(t.c.village_id == scope.village_id)
    return query


def members_statement(scope: Scope) -> Select[Any] | None:
    roles = _active_roles(scope, during_period=False).cte("roles")
    p = PEOPLE
    joined = roles.outerjoin(p, p.c.id == roles.c.person_id)
    key = func.coalesce(p.c.merged_into_person_id, roles.c.person_id)
    figures = [func.count(distinct(key)).label("members")]
    levels = {
        COMMUNE: None,
        VILLAGE: roles.c.village_id,
        TEAM: roles.c.team_id,
    }
    return _union(
        _unit_select(name, roles.c.commune_id, figures, unit_id=unit).select_from(joined)
        for name, unit in levels.items()
        if name in scope.levels
    )


def member_list_statement(scope: Scope) -> Select[Any]:
    """Who served on a team during the period, for the per-member tables."""
    roles = _active_roles(scope, during_period=True).subquery("roles")
    p = PEOPLE
    return (
        select(roles.c.person_id, roles.c.role, roles.c.team_id, p.c.display_name)
        .select_from(roles.outerjoin(p, p.c.id == roles.c.person_id))
        .order_by(roles.c.team_id, roles.c.person_id)
    )


# --- months -----------------------------------------------------------------------


def months_statement(scope: Scope, buckets: Sequence[tuple[datetime, datetime]]) -> Select[Any]:
    """Completions and quiz passes per bucket of UTC bounds ``[start, end)``.

    One aggregate per bucket, joined by UNION ALL: each reads its time range through the
    (commune, time) index and needs no GROUP BY, so nothing is sorted; and no SQL time
    zone function is needed (they differ between SQLite and PostgreSQL)."""
    e = EVENTS
    at = e.c.occurred_at
    parts = []
    for index, (start, end) in enumerate(buckets):
        query = select(
            literal_column(str(index), Integer).label("bucket"),
            func.count().filter(e.c.kind == "lesson_completed").label("completions"),
            func.count().filter(e.c.kind == "quiz_passed").label("passes"),
        ).where(
            e.c.commune_id.in_(scope.commune_ids),
            at >= start,
            at < end,
            e.c.kind.in_(("lesson_completed", "quiz_passed")),
        )
        if scope.village_id is not None:
            query = query.where(e.c.village_id == scope.village_id)
        parts.append(query)
    return union_all(*parts)  # type: ignore[return-value]


# --- running ----------------------------------------------------------------------

Figures = dict[UnitKey, dict[str, int]]


def log_statements(scope: Scope) -> list[Select[Any]]:
    """People and event figures: the one full read of the event log, the heaviest part."""
    return _present(events_statement(scope))


def other_statements(scope: Scope) -> list[Select[Any]]:
    """Every other level statement: basic programme, households, visits, assisted, teams."""
    return _present(
        basic_statement(scope),
        households_statement(scope),
        visits_statement(scope),
        assisted_statement(scope),
        members_statement(scope),
    )


def _present(*statements: Select[Any] | None) -> list[Select[Any]]:
    return [statement for statement in statements if statement is not None]


async def collect(session: AsyncSession, statements: Iterable[Select[Any]]) -> Figures:
    """Run level statements; figures keyed by (level, commune_id, unit), summed by name."""
    figures: Figures = defaultdict(dict)
    for statement in statements:
        result = await session.execute(statement)
        for row in result.mappings():
            level, commune_id = row["level"], row["commune_id"]
            unit = row["unit_id"] if row["unit_id"] is not None else row["unit_key"]
            _add(figures[(level, commune_id, unit)], row)
    return figures


def combine(*parts: Figures) -> Figures:
    """Figures of several `collect` calls, summed unit by unit."""
    figures: Figures = defaultdict(dict)
    for part in parts:
        for unit, values in part.items():
            _add(figures[unit], values)
    return figures


def _add(target: dict[str, int], values: Any) -> None:
    for name, value in values.items():
        if name not in ("level", "commune_id", "unit_id", "unit_key"):
            target[name] = target.get(name, 0) + int(value or 0)
