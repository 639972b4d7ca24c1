"""A household's digital status and residents' own word: the rules, for chat and web.

A team member records, on a visit, how many adults live in the household and how many
of them have a smartphone, a level-2 VNeID account, a payment account (bank or
e-wallet), have used an online public service, have an e-health book, and whether at
least one member is proficient in the five basic skills. Each survey is a new row
(dated, attributed): the newest before a report's end is the one counted, so a closed
period keeps its figures when a later survey supersedes an earlier one.

Screens call these functions; none of them writes SQL of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ParticipationEvent, Person
from storage.team_models import SELF_REPORT_KINDS, Household, HouseholdSurvey, SelfReport

MAX_ADULTS = 30  # more adults in one household is a typing slip, not a household
# The counts asked after the number of adults, in the order the chat asks them.
COUNT_FIELDS = (
    "smartphone",
    "vneid_level2",
    "payment_account",
    "used_public_service",
    "health_book",
)
FIELDS = ("adults", *COUNT_FIELDS)


class SurveyError(ValueError):
    """A typed answer that cannot be recorded; `key` is the catalog key that says why."""

    def __init__(self, key: str, **values: int) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def parse_count(text: str, field: str, adults: int | None) -> int:
    """A whole number typed as digits, within what the household can have."""
    typed = text.strip()
    if not typed.isdigit() or not typed.isascii():
        raise SurveyError("status.not_a_number")
    value = int(typed)
    if field == "adults":
        if not 1 <= value <= MAX_ADULTS:
            raise SurveyError("status.adults_range", max=MAX_ADULTS)
    elif adults is not None and value > adults:
        raise SurveyError("status.more_than_adults", adults=adults)
    return value


@dataclass(frozen=True)
class Survey:
    """What a team member answered (validated)."""

    adults: int
    smartphone: int
    vneid_level2: int
    payment_account: int
    used_public_service: int
    health_book: int
    proficient: bool

    def __post_init__(self) -> None:
        if not 1 <= self.adults <= MAX_ADULTS:
            raise SurveyError("status.adults_range", max=MAX_ADULTS)
        for name in COUNT_FIELDS:
            value = getattr(self, name)
            if not 0 <= value <= self.adults:
                raise SurveyError("status.more_than_adults", adults=self.adults)


async def record_survey(
    session: AsyncSession,
    household: Household,
    survey: Survey,
    *,
    commune_id: int,
    member_person_id: int,
    team_id: int | None,
    now: datetime,
) -> HouseholdSurvey:
    """Append a survey; earlier ones stay for the periods they belong to."""
    row = HouseholdSurvey(
        household_id=household.id,
        village_id=household.village_id,
        commune_id=commune_id,
        member_person_id=member_person_id,
        team_id=team_id,
        surveyed_at=now,
        adults=survey.adults,
        smartphone=survey.smartphone,
        vneid_level2=survey.vneid_level2,
        payment_account=survey.payment_account,
        used_public_service=survey.used_public_service,
        health_book=survey.health_book,
        proficient=survey.proficient,
    )
    session.add(row)
    await session.flush()
    return row


async def latest_survey(
    session: AsyncSession, household_id: int, before: datetime | None = None
) -> HouseholdSurvey | None:
    """The survey in force (the newest, optionally before a moment)."""
    query = select(HouseholdSurvey).where(HouseholdSurvey.household_id == household_id)
    if before is not None:
        query = query.where(HouseholdSurvey.surveyed_at < before)
    query = query.order_by(HouseholdSurvey.surveyed_at.desc(), HouseholdSurvey.id.desc())
    return await session.scalar(query.limit(1))


async def record_self_report(
    session: AsyncSession,
    *,
    person_id: int,
    commune_id: int,
    village_id: int | None,
    kind: str,
    now: datetime,
) -> SelfReport:
    """A resident's own word. Saying it twice adds a row but the person counts once."""
    if kind not in SELF_REPORT_KINDS:
        raise ValueError(f"unknown self-report kind {kind!r}")
    row = SelfReport(
        person_id=person_id,
        commune_id=commune_id,
        village_id=village_id,
        kind=kind,
        reported_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def self_reported(session: AsyncSession, person_id: int) -> set[str]:
    """The kinds this person has already told the bot about."""
    rows = await session.scalars(
        select(SelfReport.kind).where(SelfReport.person_id == person_id).distinct()
    )
    return set(rows)


async def household_has_basic(session: AsyncSession, household_id: int) -> bool:
    """Whether a resident linked to the household finished the basic programme on the bot
    (its `programme_completed` event): the team need not judge that member again."""
    own = Person.__table__.alias("own")
    canon = Person.__table__.alias("canon")
    e = ParticipationEvent.__table__
    found = await session.scalar(
        select(e.c.id)
        .select_from(
            e.join(own, own.c.id == e.c.person_id).join(
                canon, canon.c.id == func.coalesce(own.c.merged_into_person_id, own.c.id)
            )
        )
        .where(canon.c.household_id == household_id, e.c.kind == "programme_completed")
        .limit(1)
    )
    return found is not None
