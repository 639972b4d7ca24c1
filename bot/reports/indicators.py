"""Campaign indicators as portable SQL (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Every figure is aggregated in SQL with GROUP BY; nothing loops over rows in Python.
The event log is read in two narrow passes (see `_person_rows`) into one row per
(person, village, team); the unit levels (commune, village, team, member, age group)
are a UNION ALL over that materialised summary. Households, visits, assisted learning
and roles each take one statement. Month buckets are index range scans.

Rules every figure follows (see docs of `bot.reports.model`):
- a person is ``coalesce(merged_into_person_id, person_id)``: linked messenger accounts
  count once; a deleted resident's events remain and still count;
- a person is attributed to the village and team snapshotted on each event, so a
  resident who moved counts in the old village for old events;
- a resident "registered in a unit" has a ``registered`` or ``village_set`` event there
  (the ``registered`` event comes before the village is chosen, so it carries none);
- the basic programme is finished when every core lesson has a ``quiz_passed`` event;
  it is attributed to the unit of the pass that completed it;
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

from storage.models import ParticipationEvent, Person, Team, UTCDateTime, Village
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

# The index that lets both passes over the log stream in order instead of sorting
# (proposed to the lead; see bench/reports.py, which measures with and without it).
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
LEARNING_KINDS = ("lesson_started", "lesson_completed", "quiz_passed", "quiz_failed")
QUIZ_KINDS = ("quiz_passed", "quiz_failed")
TEAM_ROLES = ("member", "leader")

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


def events_statement(scope: Scope) -> Select[Any] | None:
    """People and event figures for every requested level, in one statement."""
    rows = _person_rows(scope)
    # The canonical person gives the age group and the member who referred them.
    canon = PEOPLE.alias("canon")
    referrer = canon.c.referred_by_person_id
    flags = _flags(rows, referrer, scope.start)
    pp_query = select(
        rows.c.commune_id,
        rows.c.key,
        rows.c.village_id,
        rows.c.team_id,
        canon.c.age_group,
        referrer.label("referrer"),
        *[condition.label(name) for name, condition in flags.items()],
        *[rows.c[name] for name in _SUMS],
    ).select_from(rows.outerjoin(canon, canon.c.id == rows.c.key))
    if scope.village_id is not None:
        # Filter after attribution so a one-village report equals that village's row.
        pp_query = pp_query.where(rows.c.village_id == scope.village_id)
    pp = pp_query.cte("pp")  # evaluated once, read by every level
    parts = []
    wanted = set(scope.levels)
    if wanted & {COMMUNE, AGE, MEMBER}:
        # Age group and referrer belong to the person: one grouping serves three levels.
        per_key = _per_person(pp, [pp.c.age_group, pp.c.referrer]).cte("per_key")
        if COMMUNE in wanted:
            parts.append(_people_level(COMMUNE, per_key))
        if AGE in wanted:
            parts.append(_people_level(AGE, per_key, unit_key=per_key.c.age_group))
        if MEMBER in wanted:
            parts.append(
                _people_level(MEMBER, per_key, unit_id=per_key.c.referrer).where(
                    per_key.c.referrer.is_not(None)
                )
            )
    for name, unit in ((VILLAGE, pp.c.village_id), (TEAM, pp.c.team_id)):
        if name in wanted:
            per_unit = _per_person(pp, [unit]).subquery(f"per_person_{name}")
            parts.append(_people_level(name, per_unit, unit_id=per_unit.c[unit.name]))
    return _union(parts)


def _log_scope(scope: Scope) -> list[ColumnElement[bool]]:
    e = EVENTS
    return [e.c.commune_id.in_(scope.commune_ids), e.c.occurred_at < scope.end]


def _person_rows(scope: Scope) -> Any:
    """One row per (person, village, team) with that unit's figures, plus one row per
    person who finished the basic programme, in the unit of the pass that finished it.

    The log is read in two narrow passes, because SQLite groups by sorting and every
    expression evaluated per event costs: (1) counts per (person, village, team, kind),
    keyed in the order of an index on those columns, with two cheap aggregates; and
    (2) the first pass of each core lesson. All the kind logic then runs on the few
    grouped rows, not on the events."""
    e = EVENTS
    at = e.c.occurred_at
    by_kind = (
        select(
            e.c.commune_id,
            e.c.person_id,
            e.c.village_id,
            e.c.team_id,
            e.c.kind,
            func.count().label("n"),
            _count_if(at >= scope.start).label("n_in"),
            func.min(at).label("first_at"),
        )
        .where(*_log_scope(scope))
        # The person leads the key: the sort compares fewer columns (commune is constant).
        .group_by(e.c.person_id, e.c.village_id, e.c.team_id, e.c.kind, e.c.commune_id)
        .subquery("by_kind")
    )
    k = by_kind.c
    learning, quiz = k.kind.in_(LEARNING_KINDS), k.kind.in_(QUIZ_KINDS)
    completed, passed = k.kind == "lesson_completed", k.kind == "quiz_passed"

    def total(condition: ColumnElement[bool], column: Any) -> ColumnElement[int]:
        return func.sum(case((condition, column), else_=0))

    p = PEOPLE.alias("p")
    key = func.coalesce(p.c.merged_into_person_id, k.person_id).label("key")
    main = (
        select(
            k.commune_id,
            key,
            k.village_id,
            k.team_id,
            func.min(case((k.kind.in_(RESIDENCE_KINDS), k.first_at))).label("resident_at"),
            func.max(case((and_(learning, k.n_in > 0), 1), else_=0)).label("active"),
            func.max(case((learning, 1), else_=0)).label("learned"),
            total(completed, k.n_in).label("completions"),
            total(completed, k.n).label("completions_cum"),
            total(quiz, k.n_in).label("quiz_attempts"),
            total(passed, k.n_in).label("quiz_passed"),
            total(quiz, k.n).label("quiz_attempts_cum"),
            total(passed, k.n).label("quiz_passed_cum"),
            cast(null(), UTCDateTime()).label("basic_at"),
        )
        .select_from(by_kind.outerjoin(p, p.c.id == k.person_id))
        .group_by(k.commune_id, key, k.village_id, k.team_id)
    )
    basic = _basic_programme(scope)
    return (union_all(main, basic) if basic is not None else main).subquery("rows")


def _basic_programme(scope: Scope) -> Select[Any] | None:
    """Rows for people who passed every core lesson before the end (linked accounts
    together), placed where the pass that completed the set happened."""
    core = scope.core_lessons
    if not core:
        return None
    e = EVENTS
    passes = (
        select(
            e.c.commune_id,
            e.c.person_id,
            e.c.village_id,
            e.c.team_id,
            e.c.lesson_id,
            func.min(e.c.occurred_at).label("at"),
        )
        # The first pass, kept if before the end: no time range in WHERE, so SQLite can
        # read these from a covering index without visiting the table.
        .where(
            e.c.commune_id.in_(scope.commune_ids),
            e.c.kind == "quiz_passed",
            e.c.lesson_id.in_(core),
        )
        .group_by(e.c.person_id, e.c.village_id, e.c.team_id, e.c.lesson_id, e.c.commune_id)
        .having(func.min(e.c.occurred_at) < scope.end)
        .subquery("core_passes")
    )
    p = PEOPLE.alias("bp")
    keyed = (
        select(
            passes,
            func.coalesce(p.c.merged_into_person_id, passes.c.person_id).label("key"),
        )
        .select_from(passes.outerjoin(p, p.c.id == passes.c.person_id))
        .cte("keyed_passes")
    )
    first = (
        select(keyed.c.commune_id, keyed.c.key, func.min(keyed.c.at).label("at"))
        .group_by(keyed.c.commune_id, keyed.c.key, keyed.c.lesson_id)
        .subquery("first_pass")
    )
    done = (
        select(first.c.commune_id, first.c.key, func.max(first.c.at).label("done_at"))
        .group_by(first.c.commune_id, first.c.key)
        .having(func.count() == len(core))
        .subquery("done")
    )
    zero = literal_column("0", Integer)
    return (
        select(
            done.c.commune_id,
            done.c.key,
            func.min(keyed.c.village_id),
            func.min(keyed.c.team_id),
            cast(null(), UTCDateTime()),
            *([zero] * (2 + len(_SUMS))),  # active, learned and the sums
            done.c.done_at,
        )
        .select_from(
            done.join(
                keyed,
                and_(
                    keyed.c.commune_id == done.c.commune_id,
                    keyed.c.key == done.c.key,
                    keyed.c.at == done.c.done_at,
                ),
            )
        )
        .group_by(done.c.commune_id, done.c.key, done.c.done_at)
    )


# Per-person 0/1 flags (summed per unit) and per-person sums of events.
_FLAGS = (
    "registered",
    "registered_before",
    "registered_placed",
    "registered_placed_before",
    "active",
    "learners_cum",
    "completed_any",
    "completed_any_cum",
    "basic_cum",
    "basic_before",
    "referred",
    "referred_before",
    "referred_placed",
    "referred_placed_before",
)
_SUMS = (
    "completions",
    "completions_cum",
    "quiz_attempts",
    "quiz_passed",
    "quiz_attempts_cum",
    "quiz_passed_cum",
)


def _flags(rows: Any, referrer: Any, start: datetime) -> dict[str, ColumnElement[int]]:
    """0/1 per (person, village, team) row, computed once; people are counted by summing
    their maximum per unit, not with COUNT(DISTINCT) (a B-tree insert per row each)."""
    resident_at, basic_at = rows.c.resident_at, rows.c.basic_at
    resident, early = resident_at.is_not(None), resident_at < start
    placed, referred = rows.c.village_id.is_not(None), referrer.is_not(None)
    conditions = {
        "registered": resident,
        "registered_before": early,
        "registered_placed": and_(resident, placed),
        "registered_placed_before": and_(early, placed),
        "active": rows.c.active == 1,
        "learners_cum": rows.c.learned == 1,
        "completed_any": rows.c.completions > 0,
        "completed_any_cum": rows.c.completions_cum > 0,
        "basic_cum": basic_at.is_not(None),
        "basic_before": basic_at < start,
        "referred": and_(resident, referred),
        "referred_before": and_(early, referred),
        "referred_placed": and_(resident, referred, placed),
        "referred_placed_before": and_(early, referred, placed),
    }
    return {name: _one_if(conditions[name]) for name in _FLAGS}


def _per_person(pp: Any, units: list[Any]) -> Select[Any]:
    """One row per (commune, person, units...): does the person count there, and events."""
    return select(
        pp.c.commune_id,
        *units,
        *[func.max(pp.c[flag]).label(flag) for flag in _FLAGS],
        *[func.sum(pp.c[column]).label(column) for column in _SUMS],
    ).group_by(pp.c.commune_id, pp.c.key, *units)


def _people_level(
    name: str, per_person: Any, *, unit_id: Any = None, unit_key: Any = None
) -> Select[Any]:
    return _unit_select(
        name,
        per_person.c.commune_id,
        [func.sum(per_person.c[column]).label(column) for column in _FLAGS + _SUMS],
        unit_id=unit_id,
        unit_key=unit_key,
    )


# --- households -------------------------------------------------------------------


def households_statement(scope: Scope) -> Select[Any] | None:
    """Households reached: a registered resident lives there, or a visit was logged."""
    p, e, h, sv, v = PEOPLE, EVENTS, HOUSEHOLDS, VISITS, VILLAGES
    by_resident = (
        select(p.c.household_id.label("household_id"), func.min(e.c.occurred_at).label("at"))
        .select_from(p.join(e, and_(e.c.person_id == p.c.id, e.c.kind == "registered")))
        .where(
            p.c.household_id.is_not(None),
            p.c.commune_id.in_(scope.commune_ids),
            e.c.occurred_at < scope.end,
        )
        .group_by(p.c.household_id)
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


def _visits_base(scope: Scope) -> Any:
    sv = VISITS
    query = select(sv).where(sv.c.commune_id.in_(scope.commune_ids), sv.c.visited_at < scope.end)
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
    """Visits in the period per kind of help: one row, three figures per service.

    `services` is a JSON list; matching its text for the quoted key is portable (JSON
    functions differ between SQLite and PostgreSQL) and exact, since keys are quoted."""
    sv = _visits_base(scope)
    in_period = sv.c.visited_at >= scope.start
    verified = sv.c.verified_at < scope.end
    text = cast(sv.c.services, String)
    columns: list[ColumnElement[Any]] = []
    for service in VISIT_SERVICES:
        has = and_(in_period, text.like(f'%"{service}"%'))
        columns += [
            _count_if(has).label(f"{service}__visits"),
            _count_if(and_(has, verified)).label(f"{service}__verified"),
            _distinct_if(has, sv.c.household_id).label(f"{service}__households"),
        ]
    return select(*columns)


# --- assisted learning ------------------------------------------------------------


def assisted_statement(scope: Scope) -> Select[Any] | None:
    al = ASSISTED
    query = select(al).where(al.c.commune_id.in_(scope.commune_ids), al.c.at < scope.end)
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
            _count_if(e.c.kind == "lesson_completed").label("completions"),
            _count_if(e.c.kind == "quiz_passed").label("passes"),
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


async def collect(session: AsyncSession, scope: Scope) -> dict[UnitKey, dict[str, int]]:
    """Run every level statement; figures keyed by (level, commune_id, unit)."""
    figures: dict[UnitKey, dict[str, int]] = defaultdict(dict)
    statements = (
        events_statement(scope),
        households_statement(scope),
        visits_statement(scope),
        assisted_statement(scope),
        members_statement(scope),
    )
    for statement in statements:
        if statement is None:
            continue
        result = await session.execute(statement)
        for row in result.mappings():
            level, commune_id = row["level"], row["commune_id"]
            unit = row["unit_id"] if row["unit_id"] is not None else row["unit_key"]
            target = figures[(level, commune_id, unit)]
            for name, value in row.items():
                if name not in ("level", "commune_id", "unit_id", "unit_key"):
                    target[name] = target.get(name, 0) + int(value or 0)
    return figures
