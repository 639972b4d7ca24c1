"""Reports on generated demo data hang together, on SQLite and PostgreSQL.

Each level is counted on its own (people per unit are distinct, not summed), so these
properties check the levels against one another where a sum must hold: every person has
one age group, every event and every finished basic programme is in exactly one village
(or none yet), and a one-village report is that village's row of the commune report.
The demo data has the hard cases in numbers: movers, linked accounts, deleted data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.reports import demo
from bot.reports.compute import Programme, compute_report
from bot.reports.model import Metrics, Report
from bot.reports.periods import Period, calendar_range, report_quarter, report_year, since_launch
from storage.models import Commune
from tests.support import make_app

LESSONS = [("a", True), ("b", True), ("c", False), ("d", True)]
PROGRAMME = Programme(tuple((lesson, lesson.upper(), core) for lesson, core in LESSONS))
HARD_CASES = demo.Profile(movers=0.2, two_messengers=0.15, deleters=0.05, reopen_lesson=0.3)

PEOPLE = (
    "registered",
    "registered_before",
    "active",
    "learners_cum",
    "completed_any",
    "completed_any_cum",
    "basic_cum",
    "basic_before",
    "referred",
    "referred_before",
)
EVENTS = (
    "completions",
    "completions_cum",
    "quiz_attempts",
    "quiz_passed",
    "quiz_attempts_cum",
    "quiz_passed_cum",
)


@pytest.fixture
async def demo_app(db_url, tmp_path):  # type: ignore[no-untyped-def]
    app = await make_app(db_url, tmp_path)
    try:
        async with app.database.engine.begin() as conn:
            commune = (await conn.execute(select(Commune))).one()
            villages, teams = await demo.commune_refs(conn, commune.id)
            rows = demo.generate(
                commune_id=commune.id, launch=commune.launch_date, villages=villages, teams=teams,
                lessons=LESSONS, residents=400, months=14, seed=3,
                first_ids=await demo.next_ids(conn), profile=HARD_CASES,
            )  # fmt: skip
            await demo.write_rows(conn, rows)
        yield app, commune.id, [v.code for v in villages]
    finally:
        await app.close()


def total_of(metrics: list[Metrics], name: str) -> int:
    return sum(getattr(m, name) for m in metrics)


PERIODS = [
    report_year(2026),
    report_quarter(2026, 2),
    calendar_range(date(2026, 3, 1), date(2026, 3, 31)),
    since_launch(date(2025, 10, 10), datetime(2027, 1, 1, tzinfo=UTC)),
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.key)
async def test_levels_add_up_where_they_must(demo_app, period: Period) -> None:  # type: ignore[no-untyped-def]
    app, commune_id, _ = demo_app
    report = await compute_report(app.database, commune_id, period, PROGRAMME)
    total = report.total
    ages = [row.metrics for row in report.ages]
    villages = [row.metrics for row in report.villages]
    assert total.registered > 0
    for name in PEOPLE + EVENTS:  # one age group per person
        assert total_of(ages, name) == getattr(total, name), name
    for name in EVENTS + ("basic_cum", "basic_before"):  # one village (or none) per event
        assert total_of(villages, name) == getattr(total, name), name
    for name in PEOPLE:  # a mover counts in each village, once in the commune
        assert max(getattr(m, name) for m in villages) <= getattr(total, name)
        assert total_of(villages, name) >= getattr(total, name), name


async def test_a_one_village_report_is_that_village_row(demo_app) -> None:  # type: ignore[no-untyped-def]
    app, commune_id, codes = demo_app
    full = await compute_report(app.database, commune_id, report_year(2026), PROGRAMME)
    for code in codes[:3]:
        one = await compute_report(
            app.database, commune_id, report_year(2026), PROGRAMME, village_code=code
        )
        assert one.total == row_of(full, code)


async def test_a_one_village_report_has_its_teams_rows(demo_app) -> None:  # type: ignore[no-untyped-def]
    app, commune_id, codes = demo_app
    full = await compute_report(app.database, commune_id, report_year(2026), PROGRAMME)
    for code in codes[:3]:
        one = await compute_report(
            app.database, commune_id, report_year(2026), PROGRAMME, village_code=code
        )
        assert [t.metrics for t in one.teams] == [
            t.metrics for t in full.teams if t.village_code == code
        ]
        members = {m.person_id: m.metrics for m in full.members}
        assert one.members and all(m.metrics == members[m.person_id] for m in one.members)


def row_of(report: Report, code: str) -> Metrics:
    return next(v.metrics for v in report.villages if v.code == code)


BOT, TEAM = "trên bot", "được Tổ hỗ trợ học trực tiếp"


async def test_both_sources_of_the_basic_programme_stand_side_by_side_everywhere(demo_app) -> None:  # type: ignore[no-untyped-def]
    """On the bot and taught in person are two figures: every label names its source,
    the two stand next to each other with the same wording in every table and sheet
    (main tables, annex, Bảng 1), and the annex shows the main tables' very values."""
    import io

    from openpyxl import load_workbook

    from bot.reports import tables as tb
    from bot.reports.document import document_tables
    from bot.reports.ranking import rank_villages
    from bot.reports.render_xlsx import render_xlsx
    from bot.reports.texts import ReportTexts

    app, commune_id, _ = demo_app
    report = await compute_report(app.database, commune_id, report_year(2026), PROGRAMME)
    assert report.total.basic_new > 0  # the demo finishes the programme on the bot
    t = ReportTexts()

    def check(headers: list[str], where: str) -> None:
        basic = [i for i, h in enumerate(headers) if "chương trình cơ bản" in h]
        if not basic:
            return
        for i in basic:
            assert (BOT in headers[i]) != (TEAM in headers[i]), (where, headers[i])
        assert any(TEAM in headers[i] for i in basic), where  # the other source beside it
        assert basic == list(range(basic[0], basic[-1] + 1)), (where, headers)  # adjacent

    everything = [
        tb.villages_table(report, t),
        tb.teams_table(report, t),
        *tb.ranking_tables(report, t, include_names=True),
    ]
    docs = document_tables(report, t, include_names=True)
    for table in everything:
        check([c.header for c in table.columns], table.key)
    for key, table in docs.items():
        if key != "ages":  # taught in person has no age group: the bot's figure alone
            check(table.headers, key)
    book = load_workbook(io.BytesIO(render_xlsx(report, {}, include_names=True)))
    sheets = 0
    for sheet in book:
        for row in sheet.iter_rows(max_row=12, values_only=True):
            if row and row[0] in ("STT", "Hạng"):  # a table's header row
                check([str(v or "") for v in row], sheet.title)
                sheets += any("chương trình cơ bản" in str(v) for v in row)
    assert sheets >= 5  # Theo thôn, Theo tổ and the three Thi đua sheets
    # One wording per source: "…trên bot trong kỳ" reads the same in every table.
    by_key = {c.key: c.header for table in everything for c in table.columns}
    for table in everything:
        for column in (c for c in table.columns if c.key in tb.METRIC_COLUMNS):
            assert column.header == by_key[column.key], (table.key, column.key)
    # Bảng 1: the bot's row and the team's row, one after the other.
    indicators = [row[1] for row in tb.summary_table(report, t).rows]
    bot_row = next(i for i, text in enumerate(indicators) if BOT in text)
    assert TEAM in indicators[bot_row + 1]
    # The annex's figures are the main table's, column for column.
    villages = {row.name: row.metrics for row in report.villages}
    for ranked in rank_villages(report):
        metrics = villages[ranked.name]
        assert (ranked.basic_new, ranked.assisted_basic) == (
            metrics.basic_new,
            metrics.assisted_basic,
        )
    for note in tb.ranking_tables(report, t, include_names=False)[0].notes:
        if "Xếp hạng" in note:
            assert "đếm riêng" in note and "không cộng gộp" in note
