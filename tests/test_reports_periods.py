"""Month buckets for charts, and the last day of a period (extensions of periods.py)."""

from __future__ import annotations

from datetime import date, datetime

from bot.reports.periods import (
    TZ,
    calendar_range,
    calendar_year,
    month_buckets,
    report_quarter,
    report_year,
    since_launch,
)


def spans(period) -> list[tuple[str, date, date]]:  # type: ignore[no-untyped-def]
    return [(b.key, b.start.date(), b.last_day) for b in month_buckets(period)]


def test_report_year_splits_into_its_twelve_reporting_months() -> None:
    buckets = spans(report_year(2026))
    assert len(buckets) == 12
    assert buckets[0] == ("01/2026", date(2025, 12, 15), date(2026, 1, 14))
    assert buckets[-1] == ("12/2026", date(2026, 11, 15), date(2026, 12, 14))


def test_calendar_periods_split_by_calendar_month() -> None:
    buckets = spans(calendar_year(2026))
    assert buckets[1] == ("02/2026", date(2026, 2, 1), date(2026, 2, 28))
    assert spans(calendar_range(date(2026, 1, 1), date(2026, 1, 10))) == [
        ("01/2026", date(2026, 1, 1), date(2026, 1, 10))
    ]


def test_partial_months_are_clipped_to_the_period() -> None:
    period = since_launch(date(2025, 10, 10), datetime(2025, 12, 1, 12, tzinfo=TZ))
    assert spans(period) == [
        ("10/2025", date(2025, 10, 10), date(2025, 10, 14)),
        ("11/2025", date(2025, 10, 15), date(2025, 11, 14)),
        ("12/2025", date(2025, 11, 15), date(2025, 12, 1)),
    ]
    quarter = month_buckets(report_quarter(2026, 2))
    assert quarter[0].start == report_quarter(2026, 2).start
    assert quarter[-1].end == report_quarter(2026, 2).end


def test_last_day_is_inclusive() -> None:
    assert report_year(2026).last_day == date(2026, 12, 14)
