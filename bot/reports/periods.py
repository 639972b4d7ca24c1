"""Reporting periods for campaign counts.

Every period is a half-open range ``[start, end)`` of timezone-aware datetimes in
Vietnam local time (``Asia/Ho_Chi_Minh``). Government reporting periods follow the
cut-offs of Nghị định 09/2019/NĐ-CP: a period opens on the 15th of the month before
it and closes at the end of the 14th of its last month, so the exclusive ``end`` is
the 15th at 00:00 local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CUTOFF_DAY",
    "PHASES",
    "TZ",
    "Period",
    "calendar_month",
    "calendar_range",
    "calendar_year",
    "current_report_year",
    "month_buckets",
    "parse_period",
    "phase",
    "report_half",
    "report_month",
    "report_quarter",
    "report_year",
    "since_launch",
]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Day of the month on which a reporting period opens (Nghị định 09/2019/NĐ-CP:
# figures are closed on the 14th and the next period opens on the 15th).
CUTOFF_DAY = 15

# Campaign phases: number -> (first day, exclusive end day, label years).
# Phase 1 is "2025–2027" and phase 2 "2027–2030". Phase 1 runs until the end of
# reporting year 2027 (15/12/2027 00:00 local), when the mid-term review is made,
# and phase 2 covers reporting years 2028–2030. Change the bounds here only.
PHASES: dict[int, tuple[date, date, tuple[int, int]]] = {
    1: (date(2025, 1, 1), date(2027, 12, CUTOFF_DAY), (2025, 2027)),
    2: (date(2027, 12, CUTOFF_DAY), date(2030, 12, CUTOFF_DAY), (2027, 2030)),
}

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

_EXPECTED_FORMS = (
    "expected one of: 'YYYY' (report year), 'YYYY-H1' or 'YYYY-H2' (report half), "
    "'YYYY-Q1'..'YYYY-Q4' (report quarter), 'YYYY-MM' with MM 01-12 (report month), "
    "'phase1' or 'phase2', 'all' (since launch), "
    "'YYYY-MM-DD..YYYY-MM-DD' (calendar range, end inclusive)"
)


@dataclass(frozen=True)
class Period:
    """A half-open range ``[start, end)`` in Vietnam local time with a Vietnamese label."""

    key: str
    label: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Period.{name} must be timezone-aware, got {value!r}")
            object.__setattr__(self, name, value.astimezone(TZ))
        if self.start >= self.end:
            raise ValueError(f"Period start {self.start} must be before end {self.end}")

    def contains(self, dt: datetime) -> bool:
        """Return True if the aware datetime ``dt`` falls in ``[start, end)``."""
        _require_aware(dt, "dt")
        return self.start <= dt < self.end

    @property
    def last_day(self) -> date:
        """The last local day the period includes (its end is exclusive)."""
        return _last_day(self.end)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Return ``(start, end)`` converted to aware UTC datetimes, for SQL filters."""
        return self.start.astimezone(UTC), self.end.astimezone(UTC)


# --- helpers ---------------------------------------------------------------


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {dt!r}")


def _check_int(value: int, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


def _check_year(year: int) -> None:
    # Leave room for the previous-year opening date and the next-day end date.
    _check_int(year, "year", 2, 9998)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TZ)


def _cutoff(year: int, month: int) -> datetime:
    """The 15th of ``month`` at 00:00 local; month 0 means December of ``year - 1``."""
    if month == 0:
        year, month = year - 1, 12
    return _local_midnight(date(year, month, CUTOFF_DAY))


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _last_day(end: datetime) -> date:
    """The last local day included in a period with exclusive ``end``."""
    return (end.astimezone(TZ) - timedelta(microseconds=1)).date()


def _span(start: datetime, end: datetime) -> str:
    return f"từ {_fmt(start.date())} đến {_fmt(_last_day(end))}"


# --- government reporting periods -------------------------------------------


def report_year(year: int) -> Period:
    """Reporting year ``year``: 15/12/(year-1) to 14/12/year inclusive."""
    _check_year(year)
    start, end = _cutoff(year, 0), _cutoff(year, 12)
    return Period(str(year), f"Năm {year} ({_span(start, end)})", start, end)


def report_half(year: int, half: int) -> Period:
    """Reporting half: 1 = 15/12/(year-1)..14/6/year, 2 = 15/6/year..14/12/year."""
    _check_year(year)
    _check_int(half, "half", 1, 2)
    start, end = _cutoff(year, 6 * half - 6), _cutoff(year, 6 * half)
    name = "6 tháng đầu năm" if half == 1 else "6 tháng cuối năm"
    return Period(f"{year}-H{half}", f"{name} {year} ({_span(start, end)})", start, end)


def report_quarter(year: int, quarter: int) -> Period:
    """Reporting quarter: 15th of month 3q-3 (December of year-1 for Q1) to 14th of month 3q."""
    _check_year(year)
    _check_int(quarter, "quarter", 1, 4)
    start, end = _cutoff(year, 3 * quarter - 3), _cutoff(year, 3 * quarter)
    label = f"Quý {_ROMAN[quarter]} năm {year} ({_span(start, end)})"
    return Period(f"{year}-Q{quarter}", label, start, end)


def report_month(year: int, month: int) -> Period:
    """Reporting month: 15th of the previous month to the 14th of ``month`` inclusive."""
    _check_year(year)
    _check_int(month, "month", 1, 12)
    start, end = _cutoff(year, month - 1), _cutoff(year, month)
    label = f"Tháng {month} năm {year} ({_span(start, end)})"
    return Period(f"{year}-{month:02d}", label, start, end)


def current_report_year(now: datetime) -> int:
    """The reporting year an aware moment falls in (15/12/2026 local is in year 2027)."""
    _require_aware(now, "now")
    local = now.astimezone(TZ)
    if (local.month, local.day) >= (12, CUTOFF_DAY):
        return local.year + 1
    return local.year


# --- calendar ranges --------------------------------------------------------


def calendar_range(start: date, end_inclusive: date) -> Period:
    """Calendar days ``start``..``end_inclusive``: local midnight to the day after the end."""
    if isinstance(start, datetime) or isinstance(end_inclusive, datetime):
        raise ValueError("calendar_range takes dates, not datetimes")
    if end_inclusive < start:
        raise ValueError(f"range end {end_inclusive} is before its start {start}")
    if end_inclusive == date.max:
        raise ValueError("range end is out of range")
    begin = _local_midnight(start)
    end = _local_midnight(end_inclusive + timedelta(days=1))
    key = f"{start.isoformat()}..{end_inclusive.isoformat()}"
    return Period(key, f"Từ {_fmt(start)} đến {_fmt(end_inclusive)}", begin, end)


def calendar_year(year: int) -> Period:
    """Calendar year: 01/01/year to 31/12/year inclusive."""
    _check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    base = calendar_range(first, last)
    return Period(base.key, f"Năm {year} ({_span(base.start, base.end)})", base.start, base.end)


def calendar_month(year: int, month: int) -> Period:
    """Calendar month: the 1st to the last day of ``month``."""
    _check_year(year)
    _check_int(month, "month", 1, 12)
    first = date(year, month, 1)
    next_first = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    base = calendar_range(first, next_first - timedelta(days=1))
    label = f"Tháng {month} năm {year} ({_span(base.start, base.end)})"
    return Period(base.key, label, base.start, base.end)


# --- campaign ---------------------------------------------------------------


def phase(n: int) -> Period:
    """Campaign phase ``n`` (see ``PHASES``)."""
    if isinstance(n, bool) or n not in PHASES:
        raise ValueError(f"phase must be one of {sorted(PHASES)}, got {n!r}")
    first, end_day, (y1, y2) = PHASES[n]
    label = f"Giai đoạn {n} ({y1}–{y2})"
    return Period(f"phase{n}", label, _local_midnight(first), _local_midnight(end_day))


def since_launch(launch: date, until: datetime) -> Period:
    """Cumulative period from local midnight of ``launch`` to the aware moment ``until``."""
    _require_aware(until, "until")
    start = _local_midnight(launch)
    if until <= start:
        raise ValueError(f"until {until} is not after the launch date {launch}")
    label = f"Từ khi triển khai đến {_fmt(_last_day(until))}"
    return Period("all", label, start, until)


# --- months inside a period ---------------------------------------------------


def month_buckets(period: Period) -> list[Period]:
    """Split a period into months for charts, clipped to the period.

    Reporting periods (starting on the 15th, or anywhere but the 1st) are split at the
    15th, so an annual report gives its twelve reporting months; a period starting on the
    1st is split into calendar months. Each bucket is labelled ``MM/YYYY`` by the month
    it belongs to (a reporting month is named after the month of its 14th)."""
    day = 1 if period.start.day == 1 else CUTOFF_DAY
    buckets: list[Period] = []
    start = period.start
    while start < period.end:
        year, month = start.year, start.month
        if start.day >= day:  # the next cut is in the next month
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        cut = _local_midnight(date(year, month, day))
        end = min(cut, period.end)
        named_year, named_month = (year, month) if day == CUTOFF_DAY else (start.year, start.month)
        label = f"{named_month:02d}/{named_year}"
        buckets.append(Period(label, label, start, end))
        start = end
    return buckets


# --- CLI parsing ------------------------------------------------------------

_YEAR_RE = re.compile(r"(\d{4})")
_HALF_RE = re.compile(r"(\d{4})-H(\d)", re.IGNORECASE)
_QUARTER_RE = re.compile(r"(\d{4})-Q(\d)", re.IGNORECASE)
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
_PHASE_RE = re.compile(r"phase(\d)", re.IGNORECASE)
_RANGE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


def parse_period(spec: str, *, launch: date, now: datetime) -> Period:
    """Parse a CLI period spec such as ``2026``, ``2026-Q2``, ``phase1`` or ``all``."""
    text = spec.strip()
    try:
        if m := _YEAR_RE.fullmatch(text):
            return report_year(int(m[1]))
        if m := _HALF_RE.fullmatch(text):
            return report_half(int(m[1]), int(m[2]))
        if m := _QUARTER_RE.fullmatch(text):
            return report_quarter(int(m[1]), int(m[2]))
        if m := _MONTH_RE.fullmatch(text):
            return report_month(int(m[1]), int(m[2]))
        if m := _PHASE_RE.fullmatch(text):
            return phase(int(m[1]))
        if text.lower() == "all":
            return since_launch(launch, now)
        if m := _RANGE_RE.fullmatch(text):
            return calendar_range(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
    except ValueError as exc:
        raise ValueError(f"Invalid period {spec!r}: {exc}; {_EXPECTED_FORMS}") from exc
    raise ValueError(f"Unrecognised period {spec!r}; {_EXPECTED_FORMS}")
