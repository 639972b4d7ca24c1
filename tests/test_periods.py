"""Tests for bot.reports.periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.reports.periods import (
    PHASES,
    TZ,
    Period,
    calendar_month,
    calendar_range,
    calendar_year,
    current_report_year,
    parse_period,
    phase,
    report_half,
    report_month,
    report_quarter,
    report_year,
    since_launch,
)

LAUNCH = date(2025, 3, 26)
NOW = datetime(2026, 5, 20, 10, 30, tzinfo=TZ)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def bounds(p: Period) -> tuple[datetime, datetime]:
    return p.start, p.end


# --- report year --------------------------------------------------------------


def test_report_year_bounds_and_label() -> None:
    p = report_year(2026)
    assert p.key == "2026"
    assert bounds(p) == (local(2025, 12, 15), local(2026, 12, 15))
    assert p.label == "Năm 2026 (từ 15/12/2025 đến 14/12/2026)"
    assert p.start.tzinfo is TZ and p.end.tzinfo is TZ


def test_report_year_edge_14_vs_15_december() -> None:
    y2026, y2027 = report_year(2026), report_year(2027)
    last_minute = local(2026, 12, 14, 23, 59, 59)
    first_moment = local(2026, 12, 15)
    assert y2026.contains(last_minute)
    assert not y2027.contains(last_minute)
    assert not y2026.contains(first_moment)
    assert y2027.contains(first_moment)
    assert current_report_year(local(2026, 12, 14, 23, 59)) == 2026
    assert current_report_year(first_moment) == 2027


def test_report_year_edge_through_utc() -> None:
    y2026, y2027 = report_year(2026), report_year(2027)
    boundary_utc = datetime(2026, 12, 14, 17, 0, tzinfo=UTC)  # 15/12/2026 00:00 local
    assert boundary_utc.astimezone(TZ) == local(2026, 12, 15)
    assert not y2026.contains(boundary_utc)
    assert y2027.contains(boundary_utc)
    assert current_report_year(boundary_utc) == 2027
    just_before = boundary_utc - timedelta(seconds=1)
    assert y2026.contains(just_before)
    assert current_report_year(just_before) == 2026
    # A UTC date of 14/12 does not make a moment belong to the old year.
    assert datetime(2026, 12, 14, 20, 0, tzinfo=UTC).date() == date(2026, 12, 14)
    assert current_report_year(datetime(2026, 12, 14, 20, 0, tzinfo=UTC)) == 2027


def test_current_report_year_other_dates() -> None:
    assert current_report_year(local(2026, 1, 1)) == 2026
    assert current_report_year(local(2026, 12, 1)) == 2026
    assert current_report_year(local(2026, 12, 31, 23, 59)) == 2027
    with pytest.raises(ValueError):
        current_report_year(datetime(2026, 5, 1))


# --- halves, quarters, months -------------------------------------------------


def test_report_halves() -> None:
    h1, h2 = report_half(2026, 1), report_half(2026, 2)
    assert bounds(h1) == (local(2025, 12, 15), local(2026, 6, 15))
    assert bounds(h2) == (local(2026, 6, 15), local(2026, 12, 15))
    assert h1.key == "2026-H1" and h2.key == "2026-H2"
    assert h1.label == "6 tháng đầu năm 2026 (từ 15/12/2025 đến 14/06/2026)"
    assert h2.label == "6 tháng cuối năm 2026 (từ 15/06/2026 đến 14/12/2026)"
    assert h1.contains(local(2026, 6, 14, 23, 59, 59))
    assert not h1.contains(local(2026, 6, 15))
    assert h2.contains(local(2026, 6, 15))


@pytest.mark.parametrize(
    ("quarter", "start", "end", "roman"),
    [
        (1, local(2025, 12, 15), local(2026, 3, 15), "I"),
        (2, local(2026, 3, 15), local(2026, 6, 15), "II"),
        (3, local(2026, 6, 15), local(2026, 9, 15), "III"),
        (4, local(2026, 9, 15), local(2026, 12, 15), "IV"),
    ],
)
def test_report_quarters(quarter: int, start: datetime, end: datetime, roman: str) -> None:
    p = report_quarter(2026, quarter)
    assert bounds(p) == (start, end)
    assert p.key == f"2026-Q{quarter}"
    assert p.label.startswith(f"Quý {roman} năm 2026 (từ {start:%d/%m/%Y} đến ")
    assert p.contains(start)
    assert p.contains(end - timedelta(microseconds=1))
    assert not p.contains(end)
    assert not p.contains(start - timedelta(microseconds=1))


def test_report_quarter_label() -> None:
    assert report_quarter(2026, 2).label == "Quý II năm 2026 (từ 15/03/2026 đến 14/06/2026)"
    assert report_quarter(2026, 1).label == "Quý I năm 2026 (từ 15/12/2025 đến 14/03/2026)"


def test_quarters_and_months_tile_the_year() -> None:
    year = report_year(2026)
    quarters = [report_quarter(2026, q) for q in range(1, 5)]
    months = [report_month(2026, m) for m in range(1, 13)]
    for parts in (quarters, months):
        assert parts[0].start == year.start and parts[-1].end == year.end
        for a, b in zip(parts, parts[1:], strict=False):
            assert a.end == b.start


def test_report_month_january_may_december() -> None:
    jan, may, dec = report_month(2026, 1), report_month(2026, 5), report_month(2026, 12)
    assert bounds(jan) == (local(2025, 12, 15), local(2026, 1, 15))
    assert bounds(may) == (local(2026, 4, 15), local(2026, 5, 15))
    assert bounds(dec) == (local(2026, 11, 15), local(2026, 12, 15))
    assert jan.key == "2026-01" and dec.key == "2026-12"
    assert jan.label == "Tháng 1 năm 2026 (từ 15/12/2025 đến 14/01/2026)"
    assert may.label == "Tháng 5 năm 2026 (từ 15/04/2026 đến 14/05/2026)"
    assert dec.label == "Tháng 12 năm 2026 (từ 15/11/2026 đến 14/12/2026)"


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (report_quarter, (2026, 0)),
        (report_quarter, (2026, 5)),
        (report_month, (2026, 0)),
        (report_month, (2026, 13)),
        (report_half, (2026, 3)),
        (report_half, (2026, True)),
        (phase, (3,)),
    ],
)
def test_builders_reject_out_of_range(func, args) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        func(*args)


# --- calendar ranges ------------------------------------------------------------


def test_calendar_range() -> None:
    p = calendar_range(date(2026, 1, 1), date(2026, 3, 31))
    assert bounds(p) == (local(2026, 1, 1), local(2026, 4, 1))
    assert p.key == "2026-01-01..2026-03-31"
    assert p.label == "Từ 01/01/2026 đến 31/03/2026"
    assert p.contains(local(2026, 3, 31, 23, 59, 59))
    assert not p.contains(local(2026, 4, 1))
    single = calendar_range(date(2026, 2, 28), date(2026, 2, 28))
    assert bounds(single) == (local(2026, 2, 28), local(2026, 3, 1))
    with pytest.raises(ValueError):
        calendar_range(date(2026, 3, 31), date(2026, 1, 1))


def test_calendar_year_and_month() -> None:
    y = calendar_year(2026)
    assert bounds(y) == (local(2026, 1, 1), local(2027, 1, 1))
    assert y.label == "Năm 2026 (từ 01/01/2026 đến 31/12/2026)"
    feb = calendar_month(2024, 2)
    assert bounds(feb) == (local(2024, 2, 1), local(2024, 3, 1))
    assert feb.label == "Tháng 2 năm 2024 (từ 01/02/2024 đến 29/02/2024)"
    dec = calendar_month(2026, 12)
    assert bounds(dec) == (local(2026, 12, 1), local(2027, 1, 1))
    assert dec.key == "2026-12-01..2026-12-31"


# --- phases and since launch ----------------------------------------------------


def test_phases() -> None:
    p1, p2 = phase(1), phase(2)
    assert bounds(p1) == (local(2025, 1, 1), local(2027, 12, 15))
    assert bounds(p2) == (local(2027, 12, 15), local(2030, 12, 15))
    assert p1.key == "phase1" and p2.key == "phase2"
    assert p1.label == "Giai đoạn 1 (2025–2027)"
    assert p2.label == "Giai đoạn 2 (2027–2030)"
    assert p1.end == report_year(2027).end
    assert p2.end == report_year(2030).end
    assert sorted(PHASES) == [1, 2]


def test_since_launch() -> None:
    until = report_year(2026).end
    p = since_launch(LAUNCH, until)
    assert p.key == "all"
    assert bounds(p) == (local(2025, 3, 26), local(2026, 12, 15))
    assert p.label == "Từ khi triển khai đến 14/12/2026"
    mid_day = since_launch(LAUNCH, NOW)
    assert mid_day.end == NOW
    assert mid_day.label == "Từ khi triển khai đến 20/05/2026"
    with pytest.raises(ValueError):
        since_launch(LAUNCH, local(2025, 3, 26))
    with pytest.raises(ValueError):
        since_launch(LAUNCH, datetime(2026, 1, 1))


# --- Period behaviour -----------------------------------------------------------


def test_utc_bounds() -> None:
    start, end = report_year(2026).utc_bounds()
    assert start == datetime(2025, 12, 14, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 14, 17, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    m_start, m_end = report_month(2026, 5).utc_bounds()
    assert (m_start, m_end) == (
        datetime(2026, 4, 14, 17, 0, tzinfo=UTC),
        datetime(2026, 5, 14, 17, 0, tzinfo=UTC),
    )


def test_period_normalises_to_local_and_validates() -> None:
    p = Period("x", "x", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    assert p.start == local(2026, 1, 1, 7) and p.start.tzinfo is TZ
    with pytest.raises(ValueError):
        Period("x", "x", datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError):
        Period("x", "x", local(2026, 1, 2), local(2026, 1, 1))
    with pytest.raises(ValueError):
        report_year(2026).contains(datetime(2026, 5, 1))


def test_contains_other_offsets() -> None:
    p = report_month(2026, 5)
    assert p.contains(datetime(2026, 5, 14, 16, 59, 59, tzinfo=UTC))
    assert not p.contains(datetime(2026, 5, 14, 17, 0, tzinfo=UTC))
    plus9 = timezone(timedelta(hours=9))
    assert p.contains(datetime(2026, 5, 15, 1, 59, tzinfo=plus9))
    assert not p.contains(datetime(2026, 5, 15, 2, 0, tzinfo=plus9))


# --- parse_period ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("2026", report_year(2026)),
        ("2026-H1", report_half(2026, 1)),
        ("2026-H2", report_half(2026, 2)),
        ("2026-h2", report_half(2026, 2)),
        ("2026-Q2", report_quarter(2026, 2)),
        ("2026-q4", report_quarter(2026, 4)),
        ("2026-05", report_month(2026, 5)),
        ("2026-01", report_month(2026, 1)),
        ("2026-12", report_month(2026, 12)),
        ("phase1", phase(1)),
        ("phase2", phase(2)),
        (" 2026-Q1 ", report_quarter(2026, 1)),
        ("2026-01-01..2026-03-31", calendar_range(date(2026, 1, 1), date(2026, 3, 31))),
    ],
)
def test_parse_period_forms(spec: str, expected: Period) -> None:
    assert parse_period(spec, launch=LAUNCH, now=NOW) == expected


def test_parse_period_all() -> None:
    p = parse_period("all", launch=LAUNCH, now=NOW)
    assert p == since_launch(LAUNCH, NOW)
    assert bounds(p) == (local(2025, 3, 26), NOW)


def test_parse_period_keys_round_trip() -> None:
    for p in (
        report_year(2026),
        report_half(2026, 1),
        report_quarter(2026, 3),
        report_month(2026, 7),
        phase(2),
        calendar_year(2026),
        calendar_month(2026, 2),
    ):
        parsed = parse_period(p.key, launch=LAUNCH, now=NOW)
        # Calendar year/month keys come back as a plain calendar range (same bounds).
        assert (parsed.key, parsed.start, parsed.end) == (p.key, p.start, p.end)


@pytest.mark.parametrize(
    "spec",
    [
        "2026-Q5",
        "2026-Q0",
        "2026-13",
        "2026-00",
        "2026-H3",
        "phase3",
        "2026-5",
        "26",
        "",
        "last year",
        "2026-02-30..2026-03-01",
        "2026-03-31..2026-01-01",
        "2026-01-01...2026-03-31",
    ],
)
def test_parse_period_errors(spec: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_period(spec, launch=LAUNCH, now=NOW)
    message = str(info.value)
    assert repr(spec) in message
    for form in ("YYYY-Q1", "YYYY-H1", "YYYY-MM", "phase1", "all", "YYYY-MM-DD..YYYY-MM-DD"):
        assert form in message


def test_parse_period_all_requires_aware_now() -> None:
    with pytest.raises(ValueError):
        parse_period("all", launch=LAUNCH, now=datetime(2026, 5, 20))
