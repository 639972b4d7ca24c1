"""Requesting a report: which unit the actor may export (an admin: the commune or any
village, with members' names; a team member or leader: their own village, without),
which period a code stands for, and the export itself (audited by `export_report`).
/baocao in chat and the web's "Báo cáo" page both go through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import CommuneRef
from bot.reports import periods
from bot.reports.periods import Period
from storage import team_repo
from storage.db import Database
from storage.models import Commune, Village

from . import Actor, NotAllowed, NotFound

# Team members and leaders see their own village, admins the whole commune: exactly
# the reach of "village_view", so no new action is needed in the role matrix.
ACTION = "village_view"
PERIOD_CODES = ("y0", "y1", "q", "m", "all")
FORMAT_CODES = ("xlsx", "docx", "pdf", "csv")


@dataclass(frozen=True)
class Scope:
    """What the actor may export."""

    village_code: str | None  # None: the whole commune
    scope_name: str
    include_names: bool
    home: str  # the chat screen to go back to: "admin" or "team"


async def scope_for(
    session: AsyncSession, actor: Actor, commune: CommuneRef, village_code: str | None = None
) -> Scope:
    """The unit asked for (default: the widest the actor may see), or NotAllowed."""
    if not actor.may(commune, ACTION):
        raise NotAllowed(ACTION)
    if actor.may(commune, "admin_tools"):
        if village_code is None:
            return Scope(None, commune.name, True, "admin")
        village = await team_repo.village_by_code(session, commune.id, village_code)
        if village is None:
            raise NotFound(ACTION, "village")
        return Scope(village.code, village.name, True, "admin")
    grant = actor.roles.team
    village = await session.get(Village, grant.village_id) if grant and grant.village_id else None
    if village is None or not actor.may(commune, ACTION, village):
        raise NotAllowed(ACTION)
    if village_code is not None and village_code != village.code:
        raise NotAllowed(ACTION)
    return Scope(village.code, village.name, False, "team")


def current_report_month(now: datetime) -> tuple[int, int]:
    """(year, month) of the reporting month `now` falls in (15/12 opens January)."""
    local = now.astimezone(periods.TZ)
    year, month = local.year, local.month
    if local.day >= periods.CUTOFF_DAY:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return year, month


async def resolve_period(
    session: AsyncSession, commune: CommuneRef, code: str, now: datetime
) -> Period | None:
    """The period a code stands for, computed now; None for an unknown code."""
    year = periods.current_report_year(now)
    if code == "y0":
        return periods.report_year(year)
    if code == "y1":
        return periods.report_year(year - 1)
    month_year, month = current_report_month(now)
    if code == "q":
        return periods.report_quarter(month_year, (month - 1) // 3 + 1)
    if code == "m":
        return periods.report_month(month_year, month)
    if code == "all":
        row = await session.get(Commune, commune.id)
        if row is None:
            return None
        try:
            return periods.since_launch(row.launch_date, now)
        except ValueError:  # the campaign has not started yet
            return None
    return None


async def request_report(
    database: Database,
    actor_name: str,
    commune: CommuneRef,
    scope: Scope,
    period: Period,
    fmt: str,
    *,
    curriculum: Any,
    now: datetime,
) -> Any:
    """Build the document for a scope already checked by `scope_for`; returns the
    `Export` (file and the figures it was written from). Runs outside any transaction:
    `export_report` audits in its own."""
    from bot.reports.exports import export_report  # renderers load only when asked

    if fmt not in FORMAT_CODES:
        raise ValueError(fmt)
    return await export_report(
        database,
        commune.id,
        period,
        fmt,
        village_code=scope.village_code,
        include_names=scope.include_names,
        actor=actor_name,
        curriculum=curriculum,
        now=now,
    )
