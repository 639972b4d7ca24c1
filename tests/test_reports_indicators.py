"""Campaign indicators on a commune whose every figure is known, on SQLite and PostgreSQL.

The scenario (times are Vietnam local time; the 2026 report year runs 15/12/2025 to
14/12/2026; the basic programme is lessons L1 and L2, L3 is optional):

- A (T01, over 60, household H1, brought by member M1): registers 05/01/2026, passes
  L1 (after one failed try) and L2 by 10/02 -> finishes the basic programme in T01.
- P (T02, under 35, brought by M2) learns L1 on Zalo; P2, their Telegram account linked
  to P (merged_into_person_id), learns L2 on 02/04 -> one person, basic programme in T02.
- D (T02, household H4) registered 20/11/2025, completed L1, deleted their data on
  01/02/2026: still counted, anonymously.
- E (35-59) registers in T01 on 01/05, completes L1 there, moves to T03 on 01/07, passes
  L1 and L2 there -> counted in T01 and T03, once in the commune; basic in T03.
- F registers in T03 at 23:59 on 14/12/2026 (report year 2026) and completes L3;
  G registers in T03 at 00:00 on 15/12/2026 (report year 2027).
- H (under 35) registers 01/06/2026 and never chooses a village.
- Members: M1 (T01), M2 (leader, T02), M3 (T01, revoked 01/03/2026).
- Visits: V1 M1->H2 10/03 verified 11/03; V2 M1->H2 10/04 unverified; V3 M2->H5 05/05
  verified 20/12/2026 (after the 2026 period); V4 M3->H1 01/12/2025 verified.
- Assisted: M1 helps T01-HT001 through L1 and L2 (June) and T01-HT002 through L1;
  M2 helps T02-HT001 through L3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.reports.compute import Programme, UnknownVillage, compute_report, province_rollup
from bot.reports.model import Metrics, Report
from bot.reports.periods import TZ, calendar_range, report_quarter, report_year, since_launch
from bot.reports.ranking import rank_members, rank_villages
from storage import team_repo
from storage.models import Commune, ParticipationEvent, Person, Team, Village
from storage.team_models import AssistedLearning, Household, StaffRole, SupportVisit
from tests.support import make_app

PROGRAMME = Programme((("L1", "Bài 1", True), ("L2", "Bài 2", True), ("L3", "Bài 3", False)))
YEAR_2026 = report_year(2026)
YEAR_2027 = report_year(2027)


def local(*parts: int) -> datetime:
    """A Vietnam local time, as the aware UTC datetime the database stores."""
    return datetime(*parts, tzinfo=TZ).astimezone(UTC)


@dataclass
class Scenario:
    commune_id: int
    ids: dict[str, int]  # name -> person, village, team or household id


async def build_scenario(app) -> Scenario:  # type: ignore[no-untyped-def]
    async with app.database.transaction() as s:
        commune = await s.scalar(select(Commune))
        cid = commune.id
        villages = {v.code: v.id for v in await s.scalars(select(Village))}
        teams = {t.code: t.id for t in await s.scalars(select(Team))}
        ids: dict[str, int] = {}
        v1, v2, v3 = villages["T01"], villages["T02"], villages["T03"]
        t1, t2, t3 = teams["TCN-T01"], teams["TCN-T02"], teams["TCN-T03"]
        ids.update(T01=v1, T02=v2, T03=v3, team1=t1, team2=t2, team3=t3)

        homes = {"H1": v1, "H2": v1, "H3": v1, "H4": v2, "H5": v2}
        for code, village in homes.items():
            home = Household(village_id=village, code=code, created_at=local(2025, 9, 1))
            s.add(home)
            await s.flush()
            ids[code] = home.id

        async def person(name: str, **fields) -> int:  # type: ignore[no-untyped-def]
            row = Person(commune_id=cid, created_at=local(2025, 9, 1), **fields)
            s.add(row)
            await s.flush()
            ids[name] = row.id
            return row.id

        staff = {"M1": (t1, v1, "member"), "M2": (t2, v2, "leader"), "M3": (t1, v1, "member")}
        names = {"M1": "Trần Văn Minh", "M2": "Lê Thị Hoa", "M3": "Phạm Đức Sơn"}
        for name, (team, village, role) in staff.items():
            pid = await person(name, display_name=names[name], village_id=village)
            revoked = local(2026, 3, 1) if name == "M3" else None
            s.add(
                StaffRole(
                    person_id=pid, role=role, commune_id=cid, team_id=team,
                    referral_code=f"R-{name}", created_at=local(2025, 10, 1), revoked_at=revoked,
                )
            )  # fmt: skip

        a = await person("A", display_name="Bà Lan", village_id=v1, age_group="tu60",
                         household_id=ids["H1"], attributed_team_id=t1,
                         referred_by_person_id=ids["M1"])  # fmt: skip
        p = await person("P", display_name="Anh Nam", village_id=v2, age_group="duoi35",
                         attributed_team_id=t2, referred_by_person_id=ids["M2"])  # fmt: skip
        p2 = await person("P2", village_id=v2, merged_into_person_id=p)
        d = await person("D", village_id=v2, household_id=ids["H4"],
                         deleted_at=local(2026, 2, 1))  # fmt: skip
        e = await person("E", display_name="Chị Mai", village_id=v3, age_group="35-59")
        f = await person("F", display_name="Ông Tư", village_id=v3, age_group="35-59")
        g = await person("G", display_name="Bà Sáu", village_id=v3, age_group="tu60")
        h = await person("H", display_name="Em Hà", age_group="duoi35")

        def ev(pid: int, kind: str, at: datetime, village: int | None, team: int | None,
               lesson: str | None = None, channel: str = "zalo") -> None:  # fmt: skip
            s.add(
                ParticipationEvent(
                    occurred_at=at, kind=kind, person_id=pid, commune_id=cid,
                    village_id=village, team_id=team, channel=channel, lesson_id=lesson,
                )
            )  # fmt: skip

        def learn(pid, village, team, lesson, at, *, fail_first=False, channel="zalo",  # type: ignore[no-untyped-def]
                  completes=False):  # fmt: skip
            ev(pid, "lesson_started", at, village, team, lesson, channel)
            ev(pid, "lesson_completed", at.replace(minute=10), village, team, lesson, channel)
            if fail_first:
                ev(pid, "quiz_failed", at.replace(minute=15), village, team, lesson, channel)
            ev(pid, "quiz_passed", at.replace(minute=20), village, team, lesson, channel)
            if completes:  # as the bot writes it with the pass that covers L1 and L2
                passed = at.replace(minute=20)
                ev(pid, "programme_completed", passed, village, team, lesson, channel)

        # A: registered event before the village is chosen carries no village.
        ev(a, "registered", local(2026, 1, 5, 10), None, t1)
        ev(a, "consented", local(2026, 1, 5, 10), None, t1)
        ev(a, "village_set", local(2026, 1, 5, 10, 1), v1, t1)
        learn(a, v1, t1, "L1", local(2026, 1, 6, 9), fail_first=True)
        learn(a, v1, t1, "L2", local(2026, 2, 10, 9), completes=True)
        # P and P2 (linked Telegram account, not referred itself).
        ev(p, "registered", local(2026, 3, 1, 8), None, t2)
        ev(p, "village_set", local(2026, 3, 1, 8, 1), v2, t2)
        learn(p, v2, t2, "L1", local(2026, 3, 2, 8))
        ev(p2, "registered", local(2026, 4, 1, 8), None, None, channel="telegram")
        ev(p2, "village_set", local(2026, 4, 1, 8, 1), v2, t2, channel="telegram")
        learn(p2, v2, t2, "L2", local(2026, 4, 2, 8), channel="telegram", completes=True)
        # D: before the 2026 period, then deleted.
        ev(d, "registered", local(2025, 11, 20, 8), None, None)
        ev(d, "village_set", local(2025, 11, 20, 8, 1), v2, t2)
        ev(d, "lesson_started", local(2025, 11, 21, 8), v2, t2, "L1")
        ev(d, "lesson_completed", local(2025, 11, 21, 8, 10), v2, t2, "L1")
        ev(d, "data_deleted", local(2026, 2, 1, 8), v2, t2)
        # E: T01, then T03.
        ev(e, "registered", local(2026, 5, 1, 8), None, None)
        ev(e, "village_set", local(2026, 5, 1, 8, 1), v1, t1)
        ev(e, "lesson_started", local(2026, 5, 2, 8), v1, t1, "L1")
        ev(e, "lesson_completed", local(2026, 5, 2, 8, 10), v1, t1, "L1")
        ev(e, "village_set", local(2026, 7, 1, 8), v3, t3)
        ev(e, "quiz_passed", local(2026, 7, 2, 8), v3, t3, "L1")
        learn(e, v3, t3, "L2", local(2026, 7, 3, 8), completes=True)
        # F and G on either side of the 2026/2027 cut-off.
        ev(f, "registered", local(2026, 12, 14, 23, 59), None, None)
        ev(f, "village_set", local(2026, 12, 14, 23, 59), v3, t3)
        ev(f, "lesson_completed", local(2026, 12, 14, 23, 59, 30), v3, t3, "L3")
        ev(g, "registered", local(2026, 12, 15, 0, 0), None, None)
        ev(g, "village_set", local(2026, 12, 15, 0, 0), v3, t3)
        # H never chooses a village.
        ev(h, "registered", local(2026, 6, 1, 8), None, None)
        # A and D said which household they live in; D's link went with their data.
        await s.flush()
        for name, home in (("A", "H1"), ("D", "H4")):
            resident, household = await s.get(Person, ids[name]), await s.get(Household, ids[home])
            await team_repo.link_household(s, resident, household)
        (await s.get(Person, d)).household_id = None  # as deleting their data does

        def visit(member, home, village, team, at, services, verified=None):  # type: ignore[no-untyped-def]
            s.add(
                SupportVisit(
                    household_id=ids[home], member_person_id=ids[member], team_id=team,
                    village_id=village, commune_id=cid, services=services, visited_at=at,
                    verified_at=verified,
                )
            )  # fmt: skip

        visit("M1", "H2", v1, t1, local(2026, 3, 10, 9), ["vneid_level2", "cashless"],
              local(2026, 3, 11, 9))  # fmt: skip
        visit("M1", "H2", v1, t1, local(2026, 4, 10, 9), ["scam_awareness"])
        visit("M2", "H5", v2, t2, local(2026, 5, 5, 9), ["vneid_install"], local(2026, 12, 20, 9))
        visit("M3", "H1", v1, t1, local(2025, 12, 1, 9), ["public_service"], local(2025, 12, 2))

        def assist(member, team, village, home, key, lesson, at):  # type: ignore[no-untyped-def]
            s.add(
                AssistedLearning(
                    member_person_id=ids[member], team_id=team, village_id=village,
                    commune_id=cid, household_id=ids[home], learner_key=key, lesson_id=lesson,
                    at=at,
                )
            )  # fmt: skip

        assist("M1", t1, v1, "H3", "T01-HT001", "L1", local(2026, 6, 1, 9))
        assist("M1", t1, v1, "H3", "T01-HT001", "L2", local(2026, 6, 15, 9))
        assist("M1", t1, v1, "H3", "T01-HT002", "L1", local(2026, 6, 2, 9))
        assist("M2", t2, v2, "H5", "T02-HT001", "L3", local(2026, 1, 20, 9))
    return Scenario(cid, ids)


@pytest.fixture
async def scenario(db_url, tmp_path):  # type: ignore[no-untyped-def]
    app = await make_app(db_url, tmp_path)
    try:
        yield app, await build_scenario(app)
    finally:
        await app.close()


def village(report: Report, code: str) -> Metrics:
    return next(v.metrics for v in report.villages if v.code == code)


def team(report: Report, code: str) -> Metrics:
    return next(t.metrics for t in report.teams if t.code == code)


async def test_commune_figures_for_report_year_2026(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    report = await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME)
    total = report.total
    # People: A, P (two accounts, once), D (deleted), E (moved, once), F, H. Not G.
    assert (total.registered, total.new) == (6, 5)
    assert (total.active, total.learners_cum) == (4, 5)
    assert (total.completions, total.completions_cum) == (7, 8)
    assert (total.completed_any, total.completed_any_cum) == (4, 5)
    assert (total.basic_cum, total.basic_new) == (3, 3)  # A, P across accounts, E
    assert (total.quiz_attempts, total.quiz_passed, total.quiz_pass_rate) == (7, 6, 85.7)
    assert (total.referred, total.referred_new) == (2, 2)
    assert (total.households_total, total.households_reached) == (2527, 4)
    assert (total.households_reached_new, total.households_pct) == (2, 0.2)
    assert (total.visits, total.visits_verified, total.households_verified) == (3, 1, 1)
    assert (total.visits_cum, total.visits_verified_cum) == (4, 2)
    assert (total.assisted_learners, total.assisted_completions, total.assisted_basic) == (3, 4, 1)
    assert (total.teams, total.members, total.trained) == (12, 2, 4)
    assert total.referred_per_member == 1.0


async def test_villages_attribute_people_to_the_village_on_each_event(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    report = await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME)
    t01, t02, t03 = village(report, "T01"), village(report, "T02"), village(report, "T03")
    # E counts in T01 (old events) and in T03 (after moving), once in the commune.
    assert (t01.registered, t01.new, t01.active, t01.completions) == (2, 2, 2, 3)
    assert (t03.registered, t03.new, t03.active, t03.completions) == (2, 2, 2, 2)
    assert (t01.basic_cum, t03.basic_cum) == (1, 1)  # A in T01; E finished in T03
    assert (t01.quiz_attempts, t01.quiz_passed, t03.quiz_attempts) == (3, 2, 2)
    # T02: P counted once over two accounts; D (deleted) still counted, from 2025.
    assert (t02.registered, t02.new, t02.active, t02.completions) == (2, 1, 1, 2)
    assert (t02.completed_any_cum, t02.basic_cum) == (2, 1)
    assert (t01.households_total, t01.households_reached, t01.households_reached_before) == (
        312,
        2,
        1,
    )
    assert (t02.households_reached, t03.households_reached) == (2, 0)
    assert (t01.visits, t01.visits_verified, t01.households_verified) == (2, 1, 1)
    assert (t02.visits, t02.visits_verified, t02.visits_verified_cum) == (1, 0, 0)
    assert (t01.assisted_learners, t01.assisted_completions, t01.assisted_basic) == (2, 3, 1)
    assert (t02.assisted_learners, t02.assisted_basic) == (1, 0)
    assert (t01.members, t02.members, t03.members, t01.teams) == (1, 1, 0, 1)
    assert (t01.referred, t02.referred, t03.referred) == (1, 1, 0)
    unplaced = next(v for v in report.villages if v.id is None)  # H
    assert (unplaced.metrics.registered, unplaced.metrics.new, unplaced.metrics.referred) == (
        1,
        1,
        0,
    )
    untouched = village(report, "T12")
    assert untouched == Metrics(households_total=95, teams=1)


async def test_teams_members_ages_services_and_months(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    report = await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME)
    team1, team2, team3 = team(report, "TCN-T01"), team(report, "TCN-T02"), team(report, "TCN-T03")
    assert (team1.registered, team1.completions, team1.basic_cum, team1.members) == (2, 3, 1, 1)
    assert (team1.visits, team1.households_verified, team1.assisted_basic) == (2, 1, 1)
    assert (team1.households_total, team1.households_reached) == (312, 2)
    assert (team2.registered, team2.new, team2.basic_cum, team2.referred) == (2, 1, 1, 1)
    assert (team3.registered, team3.active, team3.basic_cum) == (2, 2, 1)

    members = {m.name: m for m in report.members}
    assert set(members) == {"Trần Văn Minh", "Lê Thị Hoa", "Phạm Đức Sơn"}  # M3 served
    m1, m2 = members["Trần Văn Minh"].metrics, members["Lê Thị Hoa"].metrics
    assert (m1.referred, m1.basic_new, m1.households_verified, m1.trained) == (1, 1, 1, 2)
    assert (m2.referred, m2.trained, m2.visits, m2.visits_verified) == (1, 1, 1, 0)
    assert members["Lê Thị Hoa"].role == "leader"

    ages = {row.age_group: row.metrics for row in report.ages}
    assert (ages["duoi35"].registered, ages["duoi35"].active, ages["duoi35"].basic_cum) == (2, 1, 1)
    assert (ages["35-59"].registered, ages["35-59"].basic_cum) == (2, 1)
    assert (ages["tu60"].registered, ages["tu60"].completed_any_cum) == (1, 1)
    assert (ages[None].registered, ages[None].new, ages[None].completed_any_cum) == (1, 0, 1)

    services = {row.service: row for row in report.services}
    assert (services["vneid_level2"].visits, services["vneid_level2"].verified) == (1, 1)
    assert (services["cashless"].visits, services["cashless"].households) == (1, 1)
    assert (services["scam_awareness"].visits, services["scam_awareness"].verified) == (1, 0)
    assert (services["vneid_install"].visits, services["vneid_install"].unverified) == (1, 1)
    assert services["public_service"].visits == 0  # V4 was before the period

    months = {m.label: m.completions for m in report.months}
    assert len(months) == 12 and sum(months.values()) == 7
    assert (months["01/2026"], months["06/2026"], months["12/2026"]) == (1, 0, 1)


async def test_the_cut_off_at_midnight_on_14_december(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    year_2027 = await compute_report(app.database, sc.commune_id, YEAR_2027, PROGRAMME)
    # F (23:59 on 14/12/2026) belongs to 2026; G (00:00 on 15/12/2026) to 2027.
    assert (year_2027.total.registered, year_2027.total.new) == (7, 1)
    assert (village(year_2027, "T03").new, year_2027.total.active) == (1, 0)
    # V3, verified on 20/12/2026, counts as verified from 2027 on.
    assert (year_2027.total.visits, year_2027.total.visits_verified_cum) == (0, 3)
    december = await compute_report(
        app.database,
        sc.commune_id,
        calendar_range(date(2026, 12, 14), date(2026, 12, 14)),
        PROGRAMME,
    )
    assert (december.total.new, december.total.completions) == (1, 1)  # F only


async def test_quarter_since_launch_and_one_village(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    q3 = await compute_report(app.database, sc.commune_id, report_quarter(2026, 3), PROGRAMME)
    assert (q3.total.registered, q3.total.new, q3.total.active) == (5, 0, 1)  # E learns
    assert (q3.total.completions, q3.total.basic_new, q3.total.basic_cum) == (1, 1, 3)
    everything = since_launch(date(2025, 10, 10), local(2027, 1, 10))
    all_time = await compute_report(app.database, sc.commune_id, everything, PROGRAMME)
    assert (all_time.total.registered, all_time.total.new, all_time.total.visits) == (7, 7, 4)
    assert all_time.total.visits_verified == 3
    only_t01 = await compute_report(
        app.database, sc.commune_id, YEAR_2026, PROGRAMME, village_code="T01"
    )
    full = await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME)
    assert [v.code for v in only_t01.villages] == ["T01"]
    assert only_t01.total == village(full, "T01")
    assert [t.code for t in only_t01.teams] == ["TCN-T01"]
    with pytest.raises(UnknownVillage):
        await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME, village_code="X")


async def test_emulation_ranking(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    report = await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME)
    ranked = rank_villages(report)
    assert [(r.rank, r.name, r.households_verified, r.trained) for r in ranked[:3]] == [
        (1, "Thôn Đông", 1, 2),  # T01: H2 verified; A and T01-HT001 trained
        (2, "Thôn Nam", 0, 1),  # T03 and T02 tie
        (2, "Thôn Tây", 0, 1),
    ]
    assert ranked[3].rank == 4
    named = rank_members(report, include_names=True, anonymous="#{rank}")
    assert [(r.rank, r.name) for r in named] == [
        (1, "Trần Văn Minh"),
        (2, "Lê Thị Hoa"),
        (3, "Phạm Đức Sơn"),
    ]
    hidden = rank_members(report, include_names=False, anonymous="Thành viên hạng {rank}")
    assert [r.name for r in hidden] == [
        "Thành viên hạng 1",
        "Thành viên hạng 2",
        "Thành viên hạng 3",
    ]


async def test_province_rollup_matches_the_commune_report(scenario) -> None:  # type: ignore[no-untyped-def]
    app, sc = scenario
    rows = await province_rollup(app.database, YEAR_2026, PROGRAMME)
    report = await compute_report(app.database, sc.commune_id, YEAR_2026, PROGRAMME)
    assert len(rows) == 1
    info, metrics = rows[0]
    assert info.code == "hoa-an"
    assert metrics == report.total
