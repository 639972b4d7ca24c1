"""The weekly "who is behind" note in the last weeks before the reporting deadline:
each team leader's weekly digest adds what their village still misses for the period,
and each commune admin gets every village that misses something. Sent with the weekly
digests (same slot, quiet hours and grace); the dedupe keys name the week, so a rerun
sends nothing twice.
Figures: `bot.reports.behind` (docs/glossary.md, "Who is behind")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.core.communes import CommuneRef
from bot.reports.behind import VillageBehind, who_is_behind
from bot.reports.periods import report_year
from bot.scheduling.common import day_month, send_to, split_lines
from bot.scheduling.reports import report_year_for
from storage import scheduling_repo as repo


def deadline_ahead(app: App, today: date) -> tuple[int, date] | None:
    """(reporting year, deadline) when `today` is in the last weeks before it."""
    settings = app.settings.scheduler
    deadline_dm = settings.day_month(settings.report_deadline)
    year = report_year_for(today, deadline_dm)
    deadline = date(year, deadline_dm[1], deadline_dm[0])
    if 0 < (deadline - today).days <= 7 * settings.behind_weeks:
        return year, deadline
    return None


@dataclass(frozen=True)
class Behind:
    """This week's picture: every village's gaps, and the days left to the deadline."""

    villages: dict[int, VillageBehind]
    days: int
    deadline: date
    idle_weeks: int


async def behind_this_week(
    app: App, session: AsyncSession, commune: CommuneRef, today: date, now: datetime
) -> Behind | None:
    """The gaps of the reporting year so far, if the deadline is near (else None)."""
    ahead = deadline_ahead(app, today)
    if ahead is None:
        return None
    year, deadline = ahead
    weeks = app.settings.scheduler.idle_weeks
    start, _ = report_year(year).utc_bounds()
    rows = await who_is_behind(session, commune.id, start, now, idle_weeks=weeks)
    return Behind({row.village_id: row for row in rows}, (deadline - today).days, deadline, weeks)


def leader_note(app: App, behind: Behind, village_id: int) -> str | None:
    """What a team leader's weekly digest adds: their village's gaps."""
    row = behind.villages.get(village_id)
    if row is None:
        return None
    return _leader_text(app, row, behind.days, behind.deadline, behind.idle_weeks)


async def admin_notes(app: App, today: date, now: datetime) -> int:
    """Queue this week's note to each commune's admins, if the deadline is near."""
    queued = 0
    for commune in app.engine.services.communes.all():
        queued += await _admin_notes(app, commune, today, now)
    return queued


async def _admin_notes(app: App, commune: CommuneRef, today: date, now: datetime) -> int:
    queued = 0
    async with app.database.transaction() as session:
        behind = await behind_this_week(app, session, commune, today, now)
        if behind is None:
            return 0
        admins = await repo.commune_admins(session, commune.id)
        accounts = await repo.reachable_accounts(session, admins)
        rows = list(behind.villages.values())
        lines = _admin_lines(app, commune, rows, behind.days, behind.deadline, behind.idle_weeks)
        messages = split_lines(lines)
        for person_id in admins:
            queued += await send_to(
                session,
                accounts.get(person_id),
                dedupe_key=f"behind:a:{person_id}:{today.isoformat()}",
                kind="digest",
                messages=messages,
                now=now,
            )
    return queued


def _leader_text(app: App, row: VillageBehind, days: int, deadline: date, weeks: int) -> str:
    t = app.engine.services.texts
    if not row.behind:
        return t("digests.behind_done", village=row.name)
    lines = [t("digests.behind_title", days=days, deadline=day_month(deadline), village=row.name)]
    if row.surveys_missing:
        lines.append(
            t("digests.behind_surveys", missing=row.surveys_missing, total=row.households_total)
        )
    if row.visits_unverified:
        lines.append(t("digests.behind_visits", count=row.visits_unverified))
    if row.idle_teams:
        lines.append(t("digests.behind_idle", weeks=weeks, teams=", ".join(row.idle_teams)))
    lines.append(t("digests.behind_leader_end"))
    return "\n".join(lines)


def _admin_lines(
    app: App, commune: CommuneRef, rows: list[VillageBehind], days: int, deadline: date, weeks: int
) -> list[str]:
    t, unit = app.engine.services.texts, commune.unit_label
    behind = [row for row in rows if row.behind]
    if not behind:
        return [t("digests.behind_admin_done", unit=unit)]
    lines = [t("digests.behind_admin_title", days=days, deadline=day_month(deadline), unit=unit)]
    for row in behind:
        lines.append(
            t(
                "digests.behind_admin_line",
                village=row.name,
                missing=row.surveys_missing,
                unverified=row.visits_unverified,
                idle=len(row.idle_teams),
                weeks=weeks,
            )
        )
    return lines
