"""Each commune's report calendar: when its annual report, deadline reminders and
digests go out (commune file `calendar:`, any field left out follows `[scheduler]`).

Like the report wording and targets, `bot.app.build_app` registers each commune file's
calendar by commune code at start; the scheduled jobs and the dashboard's Báo cáo page
read the same dates through `calendar_for`. Quiet hours stay deployment-wide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from config.commune import CalendarInfo
from config.settings import SchedulerSettings


@dataclass(frozen=True)
class Calendar:
    annual_report: tuple[int, int]  # (day, month) the annual report goes to admins
    deadline: tuple[int, int]  # (day, month) the annual report is due
    reminder_days: tuple[int, ...]  # days before the deadline
    digest_weekday: int  # 0 = Monday
    digest_hour: int  # local hour of digests and report messages
    monthly_digest_day: int
    behind_weeks: int  # "who is behind" notes in the last weeks before the deadline


_CALENDARS: dict[str, CalendarInfo] = {}


def register(commune_code: str, info: CalendarInfo) -> None:
    _CALENDARS[commune_code.lower()] = info


def calendar_for(commune_code: str, defaults: SchedulerSettings) -> Calendar:
    """The commune's calendar: its own fields, the deployment's for the rest."""
    own = _CALENDARS.get(commune_code.lower(), CalendarInfo())

    def pick(name: str) -> Any:
        value = getattr(own, name)
        return getattr(defaults, name) if value is None else value

    return Calendar(
        annual_report=defaults.day_month(pick("annual_report_date")),
        deadline=defaults.day_month(pick("report_deadline")),
        reminder_days=tuple(pick("deadline_reminder_days")),
        digest_weekday=pick("digest_weekday"),
        digest_hour=pick("digest_hour"),
        monthly_digest_day=pick("monthly_digest_day"),
        behind_weeks=pick("behind_weeks"),
    )


def digest_hours(commune_codes: Iterable[str], defaults: SchedulerSettings) -> list[int]:
    """Every hour some commune's digests or report messages are due (the jobs' trigger)."""
    return sorted({calendar_for(code, defaults).digest_hour for code in commune_codes})


def calendar_fault(info: CalendarInfo, defaults: SchedulerSettings) -> str | None:
    """What is wrong with a commune's calendar against the deployment's settings:
    `field: why` (a digest hour in quiet hours), else None."""
    hour = info.digest_hour
    if hour is not None and defaults.is_quiet(hour):
        quiet = f"{defaults.quiet_start}:00-{defaults.quiet_end}:00"
        return f"calendar.digest_hour: hour {hour} falls in the quiet hours {quiet}"
    return None
