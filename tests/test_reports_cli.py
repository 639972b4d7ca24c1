"""`hocvuso demo-data` and `hocvuso report`, as an officer runs them; demo determinism."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, date, datetime

import pytest

from bot.cli.report_cli import choose_period
from bot.reports import demo
from bot.reports.periods import report_month, report_quarter, report_year
from tests.test_cli import run

LAUNCH = date(2025, 10, 10)
NOW = datetime(2026, 11, 20, 3, tzinfo=UTC)


def test_demo_data_then_reports_from_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    made = run(["demo-data", "--seed", "5", "--residents", "400", "--months", "8"], tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Đã nạp dữ liệu mẫu cho Xã Hòa An (seed 5)" in made.stdout
    again = run(["demo-data"], tmp_path)
    assert again.returncode == 1 and "chỉ nạp vào cơ sở dữ liệu trống" in again.stderr
    assert "HOCVUSO_DATA_DIR=data-demo ./run demo-data" in again.stderr  # what to do

    out = tmp_path / "q2.csv"
    result = run(["report", "--quarter", "2026-Q2", "--format", "csv", "--out", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # one line
    assert "Quý II năm 2026" in result.stdout and "người dân đăng ký" in result.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 12 and rows[0]["village_code"] == "T01"

    result = run(["report", "--period", "2026", "--village", "T03", "-f", "html"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "bao-cao" / "bao-cao-hoa-an-2026-T03.html").exists()
    assert "data/bao-cao/bao-cao-hoa-an-2026-T03.html" in result.stdout

    bad = run(["report", "--period", "2026", "--phase", "1"], tmp_path)
    assert bad.returncode == 2 and "Chỉ chọn một trong: --period, --phase" in bad.stderr
    unknown = run(["report", "--village", "T99"], tmp_path)
    assert unknown.returncode == 2 and "Không có thôn mã 'T99'" in unknown.stderr
    assert "T01, T02" in unknown.stderr
    wrong = run(["report", "--period", "2026-Q9"], tmp_path)
    assert wrong.returncode == 2 and "Kỳ báo cáo không hợp lệ: '2026-Q9'" in wrong.stderr

    db = sqlite3.connect(tmp_path / "data" / "hocvuso.sqlite3")
    audit = db.execute(
        "select actor, action, detail, succeeded from audit_log order by id"
    ).fetchall()
    assert [row[1] for row in audit] == ["report_export"] * 3
    assert all(row[0].startswith("cli:") for row in audit)
    details = [json.loads(row[2]) for row in audit]
    assert details[0]["format"] == "csv" and details[1]["village"] == "T03"
    assert [row[3] for row in audit] == [1, 1, 0]


def test_period_options() -> None:
    def pick(**options):  # type: ignore[no-untyped-def]
        values = {"period": None, "date_from": None, "date_to": None, "quarter": None}
        values.update(phase=None, launch=LAUNCH, now=NOW)
        values.update(options)
        return choose_period(**values)

    assert pick() == report_year(2026)
    assert pick(period="2026-05") == report_month(2026, 5)
    assert pick(quarter="2026-Q2") == report_quarter(2026, 2)
    assert pick(phase=1).key == "phase1"
    ranged = pick(date_from=datetime(2026, 1, 1), date_to=datetime(2026, 3, 31))
    assert ranged.key == "2026-01-01..2026-03-31"
    assert pick(date_from=datetime(2026, 11, 1)).last_day == date(2026, 11, 20)
    with pytest.raises(ValueError, match="Chỉ chọn một trong"):
        pick(period="2026", quarter="2026-Q1")
    with pytest.raises(ValueError, match="--to cần đi kèm --from"):
        pick(date_to=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="NĂM-Qn"):
        pick(quarter="2026")


def _generate(seed: int) -> demo.DemoRows:
    villages = [demo.VillageRef(i, f"T{i:02d}", 80) for i in (1, 2, 3)]
    teams = [demo.TeamRef(10 + i, f"TCN-T{i:02d}", i) for i in (1, 2, 3)]
    return demo.generate(
        commune_id=1,
        launch=LAUNCH,
        villages=villages,
        teams=teams,
        lessons=[("a", True), ("b", True), ("c", False)],
        residents=600,
        months=6,
        seed=seed,
    )


def test_demo_data_is_deterministic_and_has_the_hard_cases() -> None:
    first, again, other = _generate(7), _generate(7), _generate(8)
    assert first.tables == again.tables
    assert first.tables["participation_events"] != other.tables["participation_events"]
    people = first.tables["people"]
    columns = demo.COLUMNS["people"]
    merged = [p for p in people if p[columns.index("merged_into_person_id")] is not None]
    deleted = [p for p in people if p[columns.index("deleted_at")] is not None]
    assert merged and deleted
    assert all(p[columns.index("display_name")] is None for p in deleted)
    events = first.tables["participation_events"]
    kinds = {e[2] for e in events}
    assert {"registered", "village_set", "lesson_completed", "quiz_passed", "data_deleted"} <= kinds
    times = [e[1] for e in events]
    assert times == sorted(times)
    moves = {}
    for event in events:
        if event[2] == "village_set":
            moves.setdefault(event[3], set()).add(event[5])
    assert any(len(villages) > 1 for villages in moves.values())  # someone moved
    assert first.tables["support_visits"] and first.tables["assisted_learning"]
    verified = [v for v in first.tables["support_visits"] if v[10] is not None]
    assert 0 < len(verified) < len(first.tables["support_visits"])


def test_demo_commune_is_alive_up_to_the_clock_with_a_realistic_funnel() -> None:
    """The reviewer's demo: launch 10/10/2025, clock 07/12/2026, the real curriculum
    (15 core lessons of 23). Activity must reach today, ramp up after launch, and a
    plausible share of residents must have finished the basic programme."""
    from pathlib import Path

    from bot.content.loader import load_curriculum

    curriculum = load_curriculum(Path(__file__).resolve().parents[1])
    lessons = [(lesson.id, lesson.core) for lesson in curriculum.lessons.values()]
    until = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    villages = [demo.VillageRef(i, f"T{i:02d}", 250) for i in range(1, 9)]
    teams = [demo.TeamRef(10 + i, f"TCN-T{i:02d}", i) for i in range(1, 9)]

    def make(seed: int) -> demo.DemoRows:
        return demo.generate(
            commune_id=1, launch=LAUNCH, villages=villages, teams=teams, lessons=lessons,
            residents=2000, months=None, until=until, seed=seed,
        )  # fmt: skip

    rows = make(1)
    assert rows.tables == make(1).tables
    events = rows.tables["participation_events"]
    assert max(e[1] for e in events) < until  # nothing recorded in the future
    visits = rows.tables["support_visits"]
    assert all(v[10] is None or v[10] < until for v in visits)
    last_month = [e for e in events if e[1] >= datetime(2026, 11, 7, tzinfo=UTC)]
    signups = sum(e[2] == "registered" for e in last_month)
    learners = {e[3] for e in last_month if e[2] == "lesson_completed"}
    finished = sum(e[2] == "programme_completed" for e in last_month)
    assert signups >= 60 and len(learners) >= 60 and finished >= 5, (signups, learners, finished)
    first_month = sum(e[2] == "registered" and e[1] < datetime(2025, 11, 10, tzinfo=UTC)
                      for e in events)  # fmt: skip
    assert 0 < first_month < signups  # a ramp, not a burst at launch
    people = {e[3] for e in events if e[2] == "registered"}
    basic = {e[3] for e in events if e[2] == "programme_completed"}
    assert 0.10 <= len(basic) / len(people) <= 0.25, len(basic) / len(people)


def test_the_readme_sequence_chat_then_demo_data_says_exactly_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = '{"start": ""}\n{"choice": "agree"}\n'
    chatted = run(["chat", "--jsonl", "--user", "readme-1"], tmp_path, script)
    assert chatted.returncode == 0, chatted.stderr
    refused = run(["demo-data", "--residents", "50", "--months", "3"], tmp_path)
    assert refused.returncode == 1
    assert "Xã Hòa An đã có 1 người" in refused.stderr
    # Doing what the message says works: a new data directory, then the report.
    demo_dir = {"HOCVUSO_DATA_DIR": "data-demo"}
    made = run(
        ["demo-data", "--seed", "1", "--residents", "50", "--months", "3"], tmp_path, **demo_dir
    )
    assert made.returncode == 0, made.stderr
    report = run(["report", "--period", "2026", "--format", "pdf"], tmp_path, **demo_dir)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "data-demo" / "bao-cao" / "bao-cao-hoa-an-2026.pdf").exists()
    assert report.stdout.startswith("Đã ghi data-demo/bao-cao/bao-cao-hoa-an-2026.pdf (pdf,")
