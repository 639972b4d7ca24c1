"""A realistic commune's worth of activity, for demos, manual checks and benchmarks.

Deterministic for a seed: households per village, teams of 4-10 members (one leader),
residents with age groups, households and referrals, then a funnel of lessons and quizzes
spread over the months after launch, with the cases reports must get right: residents
who move village, delete their data, or link a second messenger. Teams visit households
(some visits verified) and help residents without a phone through lessons.

Rows are plain tuples in table column order with ids assigned here, so they can be
written in bulk: `executemany` on any database, or COPY on PostgreSQL (`bench/reports.py`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.programme import PROGRAMME_COMPLETED, completes_programme
from bot.reports.periods import TZ
from bot.reports.texts import ReportTexts
from storage.models import ChannelAccount, ParticipationEvent, Person, Team, Village
from storage.team_models import (
    VISIT_SERVICES,
    AssistedLearning,
    Household,
    HouseholdSurvey,
    SelfReport,
    StaffRole,
    SupportVisit,
)

AGE_WEIGHTS = {"duoi35": 35, "35-59": 40, "tu60": 20, None: 5}
SERVICE_WEIGHTS = (20, 18, 14, 14, 16, 8, 5, 5)  # in VISIT_SERVICES order
DAY = timedelta(days=1)

# Column orders of the rows produced below (also the COPY column lists).
COLUMNS: dict[str, tuple[str, ...]] = {
    "households": ("id", "village_id", "code", "head_name", "created_at", "resident_reached_at"),
    "people": (
        "id",
        "commune_id",
        "display_name",
        "phone",
        "village_id",
        "age_group",
        "attributed_team_id",
        "source",
        "household_id",
        "referred_by_person_id",
        "merged_into_person_id",
        "created_at",
        "deleted_at",
    ),
    "staff_roles": (
        "id",
        "person_id",
        "role",
        "commune_id",
        "team_id",
        "referral_code",
        "created_at",
        "revoked_at",
    ),
    "participation_events": (
        "id",
        "occurred_at",
        "kind",
        "person_id",
        "commune_id",
        "village_id",
        "team_id",
        "channel",
        "lesson_id",
    ),
    "support_visits": (
        "id",
        "household_id",
        "member_person_id",
        "team_id",
        "village_id",
        "commune_id",
        "services",
        "note",
        "visited_at",
        "verification_asked_at",
        "verified_at",
        "verified_by_person_id",
    ),
    "household_surveys": (
        "id",
        "household_id",
        "village_id",
        "commune_id",
        "member_person_id",
        "team_id",
        "surveyed_at",
        "adults",
        "smartphone",
        "vneid_level2",
        "payment_account",
        "used_public_service",
        "health_book",
        "proficient",
    ),
    "self_reports": ("id", "person_id", "commune_id", "village_id", "kind", "reported_at"),
    "assisted_learning": (
        "id",
        "member_person_id",
        "team_id",
        "village_id",
        "commune_id",
        "household_id",
        "learner_key",
        "lesson_id",
        "at",
    ),
}
TABLES = {
    "households": Household.__table__,
    "people": Person.__table__,
    "staff_roles": StaffRole.__table__,
    "participation_events": ParticipationEvent.__table__,
    "support_visits": SupportVisit.__table__,
    "assisted_learning": AssistedLearning.__table__,
    "household_surveys": HouseholdSurvey.__table__,
    "self_reports": SelfReport.__table__,
}


@dataclass(frozen=True)
class VillageRef:
    id: int
    code: str
    households_total: int


@dataclass(frozen=True)
class TeamRef:
    id: int
    code: str
    village_id: int


@dataclass(frozen=True)
class Profile:
    """How residents behave; the defaults give a plausible funnel."""

    start_first_lesson: float = 0.85
    continue_next_lesson: float = 0.75  # over the first `committed_after` lessons
    committed_after: int = 3  # who got this far mostly keeps going
    continue_committed: float = 0.985
    complete_started_lesson: float = 0.97
    pass_each_attempt: float = 0.75
    max_quiz_attempts: int = 3
    reopen_lesson: float = 0.15  # a lesson started again later (another lesson_started)
    referred: float = 0.4
    with_household: float = 0.7
    movers: float = 0.03
    deleters: float = 0.01
    two_messengers: float = 0.02
    visits_per_household: float = 0.6
    verified_visits: float = 0.6
    assisted_per_household: float = 0.04
    surveyed_households: float = 0.55  # households the team recorded a digital status for
    surveyed_again: float = 0.35  # of those, surveyed a second time, usually improved
    self_certified: float = 0.12  # residents who tell the bot they were certified
    self_course: float = 0.2  # residents who tell the bot they finished a course
    ramp_months: float = 3.0  # sign-ups grow over the first months, then run steadily


@dataclass
class DemoRows:
    """Rows per table in `COLUMNS` order, ready for bulk insert."""

    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )

    def count(self, table: str) -> int:
        return len(self.tables[table])


@lru_cache(maxsize=1)
def _name_parts() -> tuple[list[str], list[str], list[str]]:
    t = ReportTexts()
    return tuple(t(f"demo.{part}_names").split() for part in ("family", "middle", "given"))  # type: ignore[return-value]


def _name(rng: random.Random) -> str:
    family, middle, given = _name_parts()
    return f"{rng.choice(family)} {rng.choice(middle)} {rng.choice(given)}"


def generate(
    *,
    commune_id: int,
    launch: date,
    villages: Sequence[VillageRef],
    teams: Sequence[TeamRef],
    lessons: Sequence[tuple[str, bool]],
    residents: int,
    months: int | None,
    seed: int,
    first_ids: dict[str, int] | None = None,
    profile: Profile = Profile(),
    until: datetime | None = None,
) -> DemoRows:
    """Rows for one commune; the same arguments always give the same rows.

    Activity runs `months` after launch or, without `months`, up to `until` (the app's
    clock), so a demo is alive today: its current period has sign-ups and lessons."""
    start = datetime.combine(launch, time(7, 30), tzinfo=TZ).astimezone(UTC)
    if months:
        end = start + timedelta(days=round(30.44 * months))
    elif until is not None and until > start:
        end = until.astimezone(UTC)
    else:
        raise ValueError("demo.generate needs months, or an `until` after the launch")
    gen = _Generator(commune_id, start, end, villages, teams, lessons, seed, profile)
    gen.next_id = dict(first_ids or {name: 1 for name in COLUMNS})
    gen.households()
    gen.teams()
    for _ in range(residents):
        gen.resident()
    gen.finish_events()
    gen.finish_households()
    gen.visits()
    gen.assisted()
    gen.surveys()
    gen.self_reports()
    return gen.out


class _Generator:
    def __init__(
        self,
        commune_id: int,
        start: datetime,
        end: datetime,
        villages: Sequence[VillageRef],
        teams: Sequence[TeamRef],
        lessons: Sequence[tuple[str, bool]],
        seed: int,
        profile: Profile,
    ) -> None:
        self.rng = random.Random(seed)
        # Surveys and self-reports draw from their own stream, so adding them left every
        # other generated row as it was for a given seed.
        self.rng_status = random.Random(seed * 7919 + 15)
        self.said: list[tuple[int, int | None, datetime]] = []  # (person, village, since)
        self.commune_id = commune_id
        self.villages = list(villages)
        self.team_list = sorted(teams, key=lambda x: x.code)
        self.team_of_village = {team.village_id: team for team in reversed(self.team_list)}
        self.lesson_ids = [lesson_id for lesson_id, _ in lessons]
        self.core = {lesson_id for lesson_id, core in lessons if core}
        self.profile = profile
        self.start, self.end = start, end
        self.span = (self.end - self.start).total_seconds()
        self.out = DemoRows()
        self.next_id: dict[str, int] = {}
        self.homes: dict[int, list[int]] = {}
        self.reached: dict[int, datetime] = {}  # household -> first resident's sign-up
        self.crews: dict[int, list[tuple[int, datetime | None]]] = {}
        self.weights = [max(v.households_total, 1) for v in self.villages]

    def id(self, table: str) -> int:
        value = self.next_id.get(table, 1)
        self.next_id[table] = value + 1
        return value

    def row(self, table: str, *values: Any) -> None:
        self.out.tables[table].append(values)

    def moment(self) -> datetime:
        return self.start + timedelta(seconds=self.span * self.rng.random())

    def keeps_on(self, index: int) -> bool:
        """Whether a learner goes on to lesson `index`: most who drop out do so early."""
        p = self.profile
        rate = p.continue_committed if index >= p.committed_after else p.continue_next_lesson
        return self.rng.random() <= rate

    def ramp(self, u: float) -> float:
        """Where in the span (0..1) a sign-up falls, for a uniform `u`: the density grows
        linearly over the first `ramp_months`, then stays flat up to the end (inverse of
        its distribution function)."""
        r = min(0.5, self.profile.ramp_months * 30.44 * 86400 / self.span)
        area = u * (1 - r / 2)
        return (2 * r * area) ** 0.5 if area < r / 2 else r + area - r / 2

    def households(self) -> None:
        for village in self.villages:
            homes = self.homes.setdefault(village.id, [])
            for n in range(village.households_total):
                hid = self.id("households")
                homes.append(hid)
                code = f"{village.code}-{n + 1:04d}"
                created = self.start - 30 * DAY
                self.row("households", hid, village.id, code, _name(self.rng), created)

    def teams(self) -> None:
        rng = self.rng
        for team in self.team_list:
            crew = self.crews.setdefault(team.id, [])
            for n in range(rng.randint(4, 10)):
                pid = self.id("people")
                joined = self.start - rng.randint(5, 30) * DAY
                age = rng.choice(("duoi35", "35-59"))
                self.row(
                    "people", pid, self.commune_id, _name(rng), None, team.village_id, age,
                    None, None, None, None, None, joined, None,
                )  # fmt: skip
                revoked = self.moment() if rng.random() < 0.05 else None
                role = "leader" if n == 0 else "member"
                self.row(
                    "staff_roles", self.id("staff_roles"), pid, role, self.commune_id, team.id,
                    f"R{pid}", joined, revoked,
                )  # fmt: skip
                crew.append((pid, revoked))

    def event(self, at: datetime, kind: str, pid: int, place: tuple[int | None, int | None],
              channel: str, lesson: str | None = None) -> None:  # fmt: skip
        village, team = place
        self.row("participation_events", 0, at, kind, pid, self.commune_id, village, team,
                 channel, lesson)  # fmt: skip

    def programme(self, passed: set[str], lesson_id: str, at: datetime, who: int,
                  where: tuple[int | None, int | None], channel: str) -> None:  # fmt: skip
        """As the bot does (`bot.programme`): the pass that covers the core set."""
        if completes_programme(passed, lesson_id, self.core):
            self.event(at, PROGRAMME_COMPLETED, who, where, channel, lesson_id)
        passed.add(lesson_id)

    def resident(self) -> None:
        """One resident's whole story: sign-up, maybe a move, lessons, maybe deletion."""
        rng, p = self.rng, self.profile
        village = rng.choices(self.villages, self.weights)[0]
        team = self.team_of_village.get(village.id)
        referrer = attributed = None
        if team is not None and self.crews.get(team.id) and rng.random() < p.referred:
            referrer = rng.choice(self.crews[team.id])[0]
            attributed = team.id
        registered_at = self.start + timedelta(seconds=self.span * self.ramp(rng.random()))
        channel = "zalo" if rng.random() < 0.7 else "telegram"
        other_channel = "telegram" if channel == "zalo" else "zalo"
        pid = self.id("people")
        homes = self.homes.get(village.id) or []
        household = rng.choice(homes) if homes and rng.random() < p.with_household else None
        age = rng.choices(list(AGE_WEIGHTS), list(AGE_WEIGHTS.values()))[0]
        home = (village.id, attributed or (team.id if team else None))

        moved_at, new_home = None, home
        if len(self.villages) > 1 and rng.random() < p.movers:
            moved_at = registered_at + rng.randint(10, 120) * DAY
            other = rng.choice([v for v in self.villages if v.id != village.id])
            other_team = self.team_of_village.get(other.id)
            new_home = (other.id, attributed or (other_team.id if other_team else None))
        deleted_at = None
        if rng.random() < p.deleters:
            deleted_at = registered_at + rng.randint(3, 200) * DAY
        second = self.id("people") if rng.random() < p.two_messengers else None
        switch_at = registered_at + rng.randint(5, 60) * DAY if second else None

        def place(at: datetime) -> tuple[int, int | None]:
            return new_home if moved_at is not None and at >= moved_at else home

        def alive(at: datetime) -> bool:
            return at < self.end and (deleted_at is None or at < deleted_at)

        unplaced = (None, attributed)
        self.event(registered_at, "registered", pid, unplaced, channel)
        self.event(registered_at, "consented", pid, unplaced, channel)
        self.event(registered_at + timedelta(seconds=40), "village_set", pid, home, channel)
        if moved_at is not None and alive(moved_at):
            self.event(moved_at, "village_set", pid, new_home, channel)
        linked = second is not None and switch_at is not None and alive(switch_at)
        if linked:  # the second messenger is linked later; later lessons happen there
            assert second is not None and switch_at is not None
            self.event(switch_at, "registered", second, unplaced, other_channel)
            self.event(switch_at, "consented", second, unplaced, other_channel)
            after = switch_at + timedelta(seconds=30)
            self.event(after, "village_set", second, place(after), other_channel)

        at = registered_at + timedelta(minutes=2)
        passed_lessons: set[str] = set()
        if rng.random() < p.start_first_lesson:
            for index, lesson_id in enumerate(self.lesson_ids):
                if index and not self.keeps_on(index):
                    break
                if index:
                    at += timedelta(seconds=rng.expovariate(1 / (4 * 86400)))
                if not alive(at):
                    break
                who, ch = pid, channel
                if linked and switch_at is not None and at >= switch_at:
                    who, ch = second, other_channel  # type: ignore[assignment]
                where = place(at)
                self.event(at, "lesson_started", who, where, ch, lesson_id)
                if rng.random() < p.reopen_lesson and alive(at + 2 * DAY):
                    self.event(at + 2 * DAY, "lesson_started", who, where, ch, lesson_id)
                at += timedelta(minutes=rng.randint(3, 15))
                if rng.random() > p.complete_started_lesson or not alive(at):
                    break
                self.event(at, "lesson_completed", who, where, ch, lesson_id)
                passed = False
                for _attempt in range(p.max_quiz_attempts):
                    at += timedelta(minutes=rng.randint(2, 6))
                    if not alive(at):
                        break
                    passed = rng.random() < p.pass_each_attempt
                    kind = "quiz_passed" if passed else "quiz_failed"
                    self.event(at, kind, who, where, ch, lesson_id)
                    if passed:
                        self.programme(passed_lessons, lesson_id, at, who, where, ch)
                        break
                if not passed:
                    break

        if deleted_at is not None and alive(deleted_at - timedelta(seconds=1)):
            self.event(deleted_at, "data_deleted", pid, place(deleted_at), channel)
        else:
            deleted_at = None
        final_village = place(self.end)[0]
        source = f"team_{team.code}" if attributed and team else None
        if household is not None:
            first = self.reached.get(household)
            self.reached[household] = min(first, registered_at) if first else registered_at
            if deleted_at:  # deleting one's data removes the link; the reach stays
                household = None
        self.row(
            "people", pid, self.commune_id, None if deleted_at else _name(rng), None,
            final_village, None if deleted_at else age, attributed, source, household,
            referrer, None, registered_at, deleted_at,
        )  # fmt: skip
        if deleted_at is None:
            self.said.append((pid, final_village, registered_at))
        if linked:
            self.row(
                "people", second, self.commune_id, None, None, final_village, None,
                attributed, None, household, referrer, pid, switch_at, None,
            )  # fmt: skip

    def finish_households(self) -> None:
        self.out.tables["households"] = [
            (*row, self.reached.get(row[0])) for row in self.out.tables["households"]
        ]

    def finish_events(self) -> None:
        """Sort the log by time, as the bot writes it, then number it."""
        events = self.out.tables["participation_events"]
        events.sort(key=lambda row: row[1])
        self.out.tables["participation_events"] = [
            (self.id("participation_events"), *row[1:]) for row in events
        ]

    def visits(self) -> None:
        rng, p = self.rng, self.profile
        for team in self.team_list:
            crew = self.crews.get(team.id) or []
            homes = self.homes.get(team.village_id) or []
            if not crew or not homes:
                continue
            for _ in range(int(len(homes) * p.visits_per_household)):
                member, revoked = rng.choice(crew)
                visited = self.moment()
                if revoked is not None and visited >= revoked:
                    continue
                picked = set(rng.choices(VISIT_SERVICES, SERVICE_WEIGHTS, k=rng.randint(1, 3)))
                services = [s for s in VISIT_SERVICES if s in picked]
                asked = verified = None
                if rng.random() < p.verified_visits:
                    asked = visited + timedelta(hours=1)
                    verified = visited + timedelta(hours=rng.randint(2, 96))
                    if verified >= self.end:  # not yet: nothing is recorded in the future
                        asked = asked if asked < self.end else None
                        verified = None
                self.row(
                    "support_visits", self.id("support_visits"), rng.choice(homes), member,
                    team.id, team.village_id, self.commune_id, services, None, visited, asked,
                    verified, None,
                )  # fmt: skip

    def assisted(self) -> None:
        rng, p = self.rng, self.profile
        for village in self.villages:
            team = self.team_of_village.get(village.id)
            crew = self.crews.get(team.id) if team else None
            homes = self.homes.get(village.id) or []
            if team is None or not crew or not homes:
                continue
            for n in range(int(len(homes) * p.assisted_per_household)):
                member = rng.choice(crew)[0]
                home = rng.choice(homes)
                learner = f"{village.code}-HT{n + 1:03d}"
                at = self.moment()
                for index, lesson_id in enumerate(self.lesson_ids):
                    if index and not self.keeps_on(index):
                        break
                    at += timedelta(days=rng.randint(1, 14)) if index else timedelta(0)
                    if at >= self.end:
                        break
                    self.row(
                        "assisted_learning", self.id("assisted_learning"), member, team.id,
                        village.id, self.commune_id, home, learner, lesson_id, at,
                    )  # fmt: skip

    def surveys(self) -> None:
        """Household digital status surveys, as teams record them on visits: a newer one
        for some households, usually showing progress."""
        rng, p = self.rng_status, self.profile
        for team in self.team_list:
            crew = self.crews.get(team.id) or []
            homes = self.homes.get(team.village_id) or []
            if not crew:
                continue
            for home in homes:
                if rng.random() >= p.surveyed_households:
                    continue
                at = self.start + timedelta(seconds=self.span * rng.betavariate(1.5, 1.5))
                adults = rng.choices((1, 2, 3, 4, 5), (10, 35, 30, 18, 7))[0]
                status = [_some(rng, adults, rate) for rate in SURVEY_RATES]
                proficient = rng.random() < 0.4
                for round_ in range(2):
                    member, revoked = rng.choice(crew)
                    if at >= self.end or (revoked is not None and at >= revoked):
                        break
                    self.row(
                        "household_surveys", self.id("household_surveys"), home,
                        team.village_id, self.commune_id, member, team.id, at, adults,
                        *status, proficient,
                    )  # fmt: skip
                    if round_ or rng.random() >= p.surveyed_again:
                        break
                    at += timedelta(days=rng.randint(20, 120))
                    status = [min(adults, n + _some(rng, adults - n, 0.4)) for n in status]
                    proficient = proficient or rng.random() < 0.35

    def self_reports(self) -> None:
        """Residents' own word about binhdanhocvuso.gov.vn (never verified)."""
        rng, p = self.rng_status, self.profile
        for pid, village, since in self.said:
            for kind, rate in (
                ("course_finished", p.self_course),
                ("platform_certified", p.self_certified),
            ):
                if rng.random() >= rate:
                    continue
                at = since + timedelta(days=rng.randint(3, 150))
                if at < self.end:
                    self.row("self_reports", self.id("self_reports"), pid, self.commune_id,
                             village, kind, at)  # fmt: skip


# Share of a household's adults with each survey item: smartphone, VNeID level 2, payment
# account, online public service used, e-health book (a rural commune's first rounds).
SURVEY_RATES = (0.78, 0.55, 0.5, 0.3, 0.25)


def _some(rng: random.Random, n: int, rate: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < rate)


# --- writing -------------------------------------------------------------------


async def commune_refs(
    conn: AsyncConnection, commune_id: int
) -> tuple[list[VillageRef], list[TeamRef]]:
    """The commune's active villages (in list order) and its teams, as `generate` takes."""
    villages = [
        VillageRef(v.id, v.code, v.households_total)
        for v in await conn.execute(
            select(Village)
            .where(Village.commune_id == commune_id, Village.active.is_(True))
            .order_by(Village.position)
        )
    ]
    teams = [
        TeamRef(t.id, t.code, t.village_id)
        for t in await conn.execute(select(Team).where(Team.commune_id == commune_id))
    ]
    return villages, teams


async def next_ids(conn: AsyncConnection) -> dict[str, int]:
    """The first free id of each table, so generated rows never collide."""
    first = {}
    for name, table in TABLES.items():
        current = await conn.scalar(select(func.max(table.c.id)))
        first[name] = int(current or 0) + 1
    return first


async def write_rows(conn: AsyncConnection, rows: DemoRows, *, chunk: int = 20_000) -> None:
    """Insert every table with `executemany` (portable), then move PostgreSQL's id
    sequences past the ids given here."""
    for name, columns in COLUMNS.items():
        table = TABLES[name]
        data = rows.tables[name]
        for offset in range(0, len(data), chunk):
            batch = [dict(zip(columns, row, strict=True)) for row in data[offset : offset + chunk]]
            await conn.execute(insert(table), batch)
    await fix_sequences(conn)


CONSOLE_PREFIX = "demo-"


async def add_console_accounts(conn: AsyncConnection, commune_id: int, now: datetime) -> int:
    """A console account `demo-<person id>` for every live person of the commune who has
    none, so that the demo's broadcasts, reminders and digests have somebody to reach:
    `hocvuso chat --user demo-<id>` talks as that person and sees what was sent to them.
    Returns how many were added."""
    has_account = select(ChannelAccount.id).where(ChannelAccount.person_id == Person.id)
    ids = list(
        await conn.scalars(
            select(Person.id)
            .where(
                Person.commune_id == commune_id,
                Person.deleted_at.is_(None),
                Person.merged_into_person_id.is_(None),
                ~has_account.exists(),
            )
            .order_by(Person.id)
        )
    )
    rows = [
        {
            "channel": "console",
            "external_id": f"{CONSOLE_PREFIX}{pid}",
            "person_id": pid,
            "screen": {},
            "active": True,
            "created_at": now,
            "last_seen_at": now,
        }
        for pid in ids
    ]
    for offset in range(0, len(rows), 5_000):
        await conn.execute(insert(ChannelAccount), rows[offset : offset + 5_000])
    return len(rows)


async def fix_sequences(conn: AsyncConnection) -> None:
    """Rows were given explicit ids; PostgreSQL's serial sequences must catch up."""
    if conn.dialect.name != "postgresql":
        return
    for name in TABLES:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
            )
        )
