"""The campaign's own indicators: digital citizens per household and adult, by source.

Three sources are kept apart and never summed without saying so:
- **team** (Tổ): the newest household survey before the end of the period, as a team
  member recorded it on a visit (`household_surveys`, append-only);
- **bot**: what residents did in the chatbot (the basic programme, `programme_completed`);
- **resident**: what residents told the bot about themselves (`self_reports`).

One household counts once: its figures are those of its newest survey before the end
(the latest `surveyed_at`, the highest id on a tie). Definitions: docs/glossary.md,
"Digital citizens". Portable SQL, aggregated in the database like `indicators`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Integer, Select, and_, func, literal_column, select, union, union_all

from bot.reports import indicators as ind
from bot.reports.model import Digital
from storage.team_models import HouseholdSurvey, SelfReport

SURVEYS = HouseholdSurvey.__table__
SELF = SelfReport.__table__

# Survey columns summed over the households' newest surveys, as figure names.
ADULT_FIGURES = {
    "adults_total": "adults",
    "adults_smartphone": "smartphone",
    "adults_vneid_level2": "vneid_level2",
    "adults_payment_account": "payment_account",
    "adults_used_public_service": "used_public_service",
    "adults_health_book": "health_book",
}


DIGITAL_FIELDS = {f.name for f in fields(Digital)}
_ONE = literal_column("1", Integer)


def _latest_surveys(scope: ind.Scope) -> Any:
    """Each household's newest survey before the end."""
    s = SURVEYS
    before = [s.c.commune_id.in_(scope.commune_ids), s.c.surveyed_at < scope.end]
    newest_at = (
        select(s.c.household_id, func.max(s.c.surveyed_at).label("at"))
        .where(*before)
        .group_by(s.c.household_id)
        .subquery("newest_at")
    )
    newest_id = (
        select(func.max(s.c.id).label("id"))
        .select_from(
            s.join(
                newest_at,
                and_(
                    s.c.household_id == newest_at.c.household_id, s.c.surveyed_at == newest_at.c.at
                ),
            )
        )
        .group_by(s.c.household_id)
        .subquery("newest_id")
    )
    return select(s).join(newest_id, newest_id.c.id == s.c.id).subquery("latest")


def _bot_proficient(scope: ind.Scope) -> Any:
    """Households with a linked resident whose basic programme was finished before the end.
    The link may sit on the person's own row or on a messenger account merged into it;
    two plain equality joins (not one on a coalesce), so each is an index lookup."""
    done = ind._basic_done(scope).cte("done_people")
    own, merged = ind.PEOPLE.alias("linked_own"), ind.PEOPLE.alias("linked_merged")
    by_own = (
        select(own.c.household_id)
        .select_from(done.join(own, own.c.id == done.c.key))
        .where(own.c.household_id.is_not(None))
    )
    by_merged = (
        select(merged.c.household_id)
        .select_from(merged.join(done, done.c.key == merged.c.merged_into_person_id))
        .where(merged.c.household_id.is_not(None))
    )
    linked = union(by_own, by_merged).subquery("linked_households")
    h, v = ind.HOUSEHOLDS, ind.VILLAGES
    return (
        select(linked.c.household_id, h.c.village_id, v.c.commune_id)
        .select_from(
            linked.join(h, h.c.id == linked.c.household_id).join(v, v.c.id == h.c.village_id)
        )
        .where(v.c.commune_id.in_(scope.commune_ids))
    )


def surveys_statement(scope: ind.Scope) -> Select[Any] | None:
    """Households surveyed and proficient, and the adults' figures, per unit."""
    latest = _latest_surveys(scope)
    zero = ind._ZERO
    team_rows = select(
        latest.c.household_id,
        latest.c.village_id,
        latest.c.commune_id,
        ind._one_if(latest.c.proficient.is_(True)).label("team"),
        zero.label("bot"),
        ind._one_if(latest.c.surveyed_at >= scope.start).label("new"),
        *(latest.c[col].label(name) for name, col in ADULT_FIGURES.items()),
    )
    bot = _bot_proficient(scope).subquery("bot_households")
    bot_rows = select(
        bot.c.household_id,
        bot.c.village_id,
        bot.c.commune_id,
        zero.label("team"),
        _ONE.label("bot"),
        zero.label("new"),
        *(zero.label(name) for name in ADULT_FIGURES),
    )
    both = union_all(team_rows, bot_rows).subquery("both_sources")
    b = both.c
    per_household = (
        select(
            b.household_id,
            func.min(b.village_id).label("village_id"),
            func.min(b.commune_id).label("commune_id"),
            func.max(b.team).label("team"),
            func.max(b.bot).label("bot"),
            func.max(b.new).label("new"),
            *(func.sum(b[name]).label(name) for name in ADULT_FIGURES),
            # surveyed: the team rows carry at least one adult
            func.max(b.adults_total).label("surveyed_adults"),
        )
        .group_by(b.household_id)
        .cte("per_household")
    )
    hh = per_household.c
    where = [hh.village_id == scope.village_id] if scope.village_id is not None else []
    figures = [
        ind._count_if(hh.surveyed_adults > 0).label("households_surveyed"),
        ind._count_if(hh.new > 0).label("households_surveyed_new"),
        func.sum(hh.team).label("households_one_proficient_team"),
        func.sum(hh.bot).label("households_one_proficient_bot"),
        ind._count_if((hh.team + hh.bot) > 0).label("households_one_proficient"),
        *(func.sum(hh[name]).label(name) for name in ADULT_FIGURES),
    ]
    levels = {
        ind.COMMUNE: lambda: ind._unit_select(ind.COMMUNE, hh.commune_id, figures).where(*where),
        ind.VILLAGE: lambda: ind._unit_select(
            ind.VILLAGE, hh.commune_id, figures, unit_id=hh.village_id
        ).where(*where),
    }
    return ind._union(levels[name]() for name in scope.levels if name in levels)


def self_reports_statement(scope: ind.Scope) -> Select[Any] | None:
    """People who told the bot they finished a course / were certified, before the end,
    counted in the village they had when they said it (linked accounts once)."""
    r, p = SELF, ind.PEOPLE.alias("self_person")
    key = func.coalesce(p.c.merged_into_person_id, r.c.person_id)
    base = (
        select(r.c.commune_id, r.c.village_id, r.c.kind, key.label("key"))
        .select_from(r.outerjoin(p, p.c.id == r.c.person_id))
        .where(r.c.commune_id.in_(scope.commune_ids), r.c.reported_at < scope.end)
    )
    if scope.village_id is not None:
        base = base.where(r.c.village_id == scope.village_id)
    said = base.subquery("said")
    figures = [
        ind._distinct_if(said.c.kind == "course_finished", said.c.key).label(
            "residents_course_self"
        ),
        ind._distinct_if(said.c.kind == "platform_certified", said.c.key).label(
            "residents_platform_certified_self"
        ),
    ]
    levels = {
        ind.COMMUNE: lambda: ind._unit_select(ind.COMMUNE, said.c.commune_id, figures),
        ind.VILLAGE: lambda: ind._unit_select(
            ind.VILLAGE, said.c.commune_id, figures, unit_id=said.c.village_id
        ).where(said.c.village_id.is_not(None)),
    }
    return ind._union(levels[name]() for name in scope.levels if name in levels)


def statements(scope: ind.Scope) -> list[Select[Any]]:
    return ind._present(surveys_statement(scope), self_reports_statement(scope))


def digital_of(values: dict[str, int] | None, **extra: int) -> Digital:
    data = {k: int(v) for k, v in (values or {}).items() if k in DIGITAL_FIELDS}
    data.update(extra)
    return Digital(**data)
