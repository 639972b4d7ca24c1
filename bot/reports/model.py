"""What a campaign report holds: figures per unit, computed once, rendered many ways.

Every count of people (người) is of distinct persons, a person being
``coalesce(merged_into_person_id, person_id)``; every count of events (lượt) is of rows.
"In the period" means ``[start, end)``; "cumulative" means everything before ``end``.
Counts of people per unit are not additive: a resident who moved village counts in both
villages but once in the commune, so every total is computed, never summed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime

from bot.reports.periods import Period
from bot.reports.targets import Targets


def ratio(part: int, whole: int) -> float | None:
    """A percentage rounded to one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Metrics:
    """The indicators of one unit (village, team, member, age group, lesson or commune)."""

    # residents (người): "resident" means a registered or village_set event in the unit
    registered: int = 0  # cumulative to the end of the period
    registered_before: int = 0  # cumulative to the start (registered - this = new)
    active: int = 0  # any learning event in the period
    learners_cum: int = 0  # any learning event before the end
    completed_any: int = 0  # completed at least one lesson in the period
    completed_any_cum: int = 0
    basic_cum: int = 0  # passed every core lesson before the end
    basic_before: int = 0
    referred: int = 0  # registered residents brought by a team member (cumulative)
    referred_before: int = 0
    # events (lượt)
    completions: int = 0  # lesson_completed events in the period
    completions_cum: int = 0
    quiz_attempts: int = 0
    quiz_passed: int = 0
    quiz_attempts_cum: int = 0
    quiz_passed_cum: int = 0
    # households (hộ)
    households_total: int = 0
    households_reached: int = 0  # a registered resident lives there or a visit was logged
    households_reached_before: int = 0
    households_verified: int = 0  # distinct households with a verified visit in the period
    # support visits (lượt) and assisted learning
    visits: int = 0
    visits_verified: int = 0  # verified before the end of the period
    visits_cum: int = 0
    visits_verified_cum: int = 0
    assisted_learners: int = 0  # distinct learner_key in the period
    assisted_completions: int = 0  # assisted lessons in the period
    assisted_learners_cum: int = 0
    assisted_completions_cum: int = 0
    assisted_basic: int = 0  # assisted learners who finished every core lesson in the period
    # teams
    teams: int = 0
    members: int = 0  # active member/leader roles at the end of the period

    @property
    def new(self) -> int:
        return self.registered - self.registered_before

    @property
    def basic_new(self) -> int:
        return self.basic_cum - self.basic_before

    @property
    def referred_new(self) -> int:
        return self.referred - self.referred_before

    @property
    def households_reached_new(self) -> int:
        return self.households_reached - self.households_reached_before

    @property
    def households_pct(self) -> float | None:
        return ratio(self.households_reached, self.households_total)

    @property
    def quiz_pass_rate(self) -> float | None:
        return ratio(self.quiz_passed, self.quiz_attempts)

    @property
    def quiz_pass_rate_cum(self) -> float | None:
        return ratio(self.quiz_passed_cum, self.quiz_attempts_cum)

    @property
    def trained(self) -> int:
        """Residents trained in the period: basic programme finished, on the bot or assisted."""
        return self.basic_new + self.assisted_basic

    @property
    def referred_per_member(self) -> float | None:
        return round(self.referred / self.members, 1) if self.members else None

    def merged(self, **values: int) -> Metrics:
        """A copy with some fields added to (used to combine query results)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in values.items():
            current[name] += int(value or 0)
        return Metrics(**current)


@dataclass(frozen=True)
class Digital:
    """One unit's digital-citizen figures at the end of a period (cumulative)."""

    households_total: int = 0  # the commune file's number of households
    households_surveyed: int = 0  # with a survey before the end (team)
    households_surveyed_new: int = 0  # whose newest survey is in the period
    households_one_proficient_team: int = 0  # newest survey says someone is proficient
    households_one_proficient_bot: int = 0  # a linked resident finished the basic programme
    households_one_proficient: int = 0  # either of the two (team or bot), once per household
    adults_total: int = 0
    adults_smartphone: int = 0
    adults_vneid_level2: int = 0
    adults_payment_account: int = 0
    adults_used_public_service: int = 0
    adults_health_book: int = 0
    residents_course_self: int = 0  # people who said they finished a course (resident)
    residents_platform_certified_self: int = 0  # people who said they were certified
    registered: int = 0  # registered residents (the read model's `registered`)

    def denominator(self, indicator: str) -> int:
        """What an indicator's percentage divides by (docs/glossary.md)."""
        if indicator.startswith("households_"):
            return self.households_total
        if indicator.startswith("adults_"):
            return self.adults_total
        return self.registered

    def pct(self, indicator: str) -> float | None:
        return ratio(int(getattr(self, indicator)), self.denominator(indicator))


@dataclass(frozen=True)
class VillageRow:
    id: int | None  # None: residents who have not chosen a village yet
    code: str
    name: str
    active: bool
    metrics: Metrics
    digital: Digital = Digital()  # households' and adults' digital status (digital.py)


@dataclass(frozen=True)
class TeamRow:
    id: int
    code: str
    name: str
    village_code: str
    village_name: str
    metrics: Metrics


@dataclass(frozen=True)
class MemberRow:
    person_id: int
    name: str | None  # None when deleted or unnamed; shown only to admins anyway
    role: str
    team_code: str
    team_name: str
    metrics: Metrics


@dataclass(frozen=True)
class ServiceRow:
    service: str  # key from VISIT_SERVICES
    visits: int
    verified: int
    households: int

    @property
    def unverified(self) -> int:
        return self.visits - self.verified


@dataclass(frozen=True)
class AgeRow:
    age_group: str | None  # None: not given (or erased with the resident's data)
    metrics: Metrics


@dataclass(frozen=True)
class MonthRow:
    label: str  # "01/2026": the month the bucket belongs to
    start: datetime
    end: datetime
    completions: int  # lesson_completed events (lượt)
    passes: int  # quiz_passed events (lượt)


@dataclass(frozen=True)
class CommuneInfo:
    id: int
    code: str
    name: str
    unit_label: str  # thôn, tổ dân phố, ấp ...
    launch_date: date


@dataclass(frozen=True)
class Report:
    """Everything every renderer needs; renderers never query the database."""

    commune: CommuneInfo
    period: Period
    generated_at: datetime
    village_code: str | None  # set when the report covers one village only
    total: Metrics
    villages: list[VillageRow]
    teams: list[TeamRow]
    members: list[MemberRow]
    services: list[ServiceRow]
    ages: list[AgeRow]
    months: list[MonthRow]
    core_lessons: tuple[str, ...] = field(default=())
    digital: Digital = Digital()  # the commune's (or the one village's) digital figures
    targets: Targets = Targets()  # the commune plan's milestones (commune file)

    @property
    def scope_name(self) -> str:
        """The commune's name, or the village's when the report is restricted to one."""
        if self.village_code:
            village = next((v for v in self.villages if v.code == self.village_code), None)
            if village is not None:
                return village.name
        return self.commune.name
