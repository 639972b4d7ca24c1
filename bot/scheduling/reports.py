"""Scheduled report messages to commune admins: the annual report on its date
(default 10/12) and reminders a few days before the deadline (default 15/12).

On the report date the annual report is built once with `bot.reports.exports.
build_report` (xlsx, audited as actor "scheduler") and saved under
`<data_dir>/reports/`; the admins' message names the file (a file cannot travel through
the channel-neutral outbox). The builder is a hook, `set_annual_report_builder`; if it
fails or is unset, the message still goes and says how to export the report.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.app import App
from bot.core.communes import CommuneRef
from bot.core.messages import Outbound
from bot.reports.periods import Period, report_year
from bot.scheduling.common import at_hour, day_month, in_grace, send_to, yearly_slot
from storage import scheduling_repo as repo

log = logging.getLogger(__name__)

AnnualReportBuilder = Callable[[App, CommuneRef, Period, datetime], Awaitable[str | None]]


async def save_annual_report(
    app: App, commune: CommuneRef, period: Period, now: datetime
) -> str | None:
    """Build the commune's report for `period` as xlsx into `<data_dir>/reports/` and
    return the line telling admins about the file."""
    from bot.reports.exports import build_report, report_filename

    services = app.engine.services
    data = await build_report(
        app.database,
        commune.id,
        period,
        "xlsx",
        actor="scheduler",
        curriculum=services.curriculum,
        now=now,
    )
    folder = app.settings.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = report_filename(commune.code, period, "xlsx")
    (folder / name).write_bytes(data)
    log.info("annual report saved", extra={"file": name, "bytes": len(data)})
    return services.texts("digests.annual_saved", file=name)


_annual_report_builder: AnnualReportBuilder | None = save_annual_report


def set_annual_report_builder(builder: AnnualReportBuilder | None) -> None:
    """Replace how the annual report is built: the builder gets the app, the commune, the
    reporting year's period and the time, and returns a line for the admins' message (or None)."""
    global _annual_report_builder
    _annual_report_builder = builder


@dataclass
class ReportRun:
    annual: int = 0
    reminders: int = 0

    def as_log(self) -> dict[str, int]:
        return dict(vars(self))


def report_year_for(day: date, deadline: tuple[int, int]) -> int:
    """The reporting year whose deadline (day, month) is the next one on or after `day`."""
    deadline_day, deadline_month = deadline
    return day.year if (day.month, day.day) <= (deadline_month, deadline_day) else day.year + 1


async def run_report_jobs(app: App, now: datetime) -> ReportRun:
    settings = app.settings.scheduler
    local = now.astimezone(app.engine.services.tz)
    run = ReportRun()
    if settings.is_quiet(local.hour):
        return run
    grace = timedelta(hours=settings.digest_grace_hours)
    deadline_dm = settings.day_month(settings.report_deadline)
    day, month = settings.day_month(settings.annual_report_date)
    annual = yearly_slot(local, day, month, settings.digest_hour)
    if in_grace(local, annual, grace):
        run.annual = await annual_report(app, report_year_for(annual.date(), deadline_dm), now)
    year = report_year_for(local.date(), deadline_dm)
    deadline = date(year, deadline_dm[1], deadline_dm[0])
    for days in settings.deadline_reminder_days:
        slot = at_hour(deadline - timedelta(days=days), settings.digest_hour, local)
        if in_grace(local, slot, grace):
            run.reminders += await deadline_reminder(app, year, deadline, days, now)
    return run


async def annual_report(app: App, year: int, now: datetime) -> int:
    """Tell each commune's admins the annual report of reporting `year` is ready."""
    queued = 0
    for commune in app.engine.services.communes.all():
        queued += await _annual_report(app, commune, year, now)
    return queued


async def _annual_report(app: App, commune: CommuneRef, year: int, now: datetime) -> int:
    """The report is built only if someone is still to be told (a rerun builds nothing)."""
    services = app.engine.services
    key = f"report:y:{year}"
    async with app.database.session() as session:
        admins = await repo.commune_admins(session, commune.id)
        waiting = [a for a in admins if not await repo.queued(session, f"{key}:{a}")]
    if not waiting:
        return 0
    period = report_year(year)
    summary = None
    if _annual_report_builder is not None:
        try:
            summary = await _annual_report_builder(app, commune, period, now)
        except Exception as exc:  # the message still goes, with the way to export it
            log.error("annual report not built", extra={"error": type(exc).__name__})
    lines = [
        services.texts(
            "digests.annual_ready", year=year, commune=commune.name, period=period.label
        ),
        summary or services.texts("digests.annual_how"),
    ]
    return await _to_admins(app, commune, key, "\n".join(lines), now)


async def deadline_reminder(app: App, year: int, deadline: date, days: int, now: datetime) -> int:
    services = app.engine.services
    queued = 0
    for commune in services.communes.all():
        text = services.texts(
            "digests.deadline",
            year=year,
            deadline=day_month(deadline),
            days=days,
            unit=commune.unit_label,
        )
        queued += await _to_admins(app, commune, f"report:d{days}:{year}", text, now)
    return queued


async def _to_admins(app: App, commune: CommuneRef, key: str, text: str, now: datetime) -> int:
    queued = 0
    async with app.database.transaction() as session:
        admins = await repo.commune_admins(session, commune.id)
        accounts = await repo.reachable_accounts(session, admins)
        for person_id in admins:
            queued += await send_to(
                session,
                accounts.get(person_id),
                dedupe_key=f"{key}:{person_id}",
                kind="report",
                messages=[Outbound(text)],
                now=now,
            )
    return queued


@dataclass(frozen=True)
class Slot:
    kind: str  # "annual" | "reminder"
    year: int  # the reporting year it is for
    at: datetime  # local time the scheduler sends it
    days: int = 0  # a reminder: days before the deadline


def next_report_slots(settings: Any, local_now: datetime) -> list[Slot]:
    """The next annual report and deadline reminders `run_report_jobs` will send, from
    the same settings, in time order (what the dashboard's Báo cáo page shows)."""
    deadline_dm = settings.day_month(settings.report_deadline)
    day, month = settings.day_month(settings.annual_report_date)
    hour = settings.digest_hour
    annual = at_hour(date(local_now.year, month, day), hour, local_now)
    if annual <= local_now:
        annual = at_hour(date(local_now.year + 1, month, day), hour, local_now)
    slots = [Slot("annual", report_year_for(annual.date(), deadline_dm), annual)]
    for year in (local_now.year, local_now.year + 1):
        deadline = date(year, deadline_dm[1], deadline_dm[0])
        upcoming = [
            Slot("reminder", year, at, days)
            for days in settings.deadline_reminder_days
            if (at := at_hour(deadline - timedelta(days=days), hour, local_now)) > local_now
        ]
        if upcoming:
            slots += upcoming
            break
    return sorted(slots, key=lambda s: s.at)
