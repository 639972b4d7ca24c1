"""The province officer's figures: the roll-up of every commune, for the web and the CLI.

Only an actor holding "province_reports" (a province officer, a deployment admin) gets
them; every view and every export is audited. What they get is figures per commune and
nothing personal (bot/reports/province.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.context import CommuneRef
from bot.reports import province as rollup
from bot.reports.periods import Period
from storage import team_repo
from storage.db import Database

from . import Actor

ACTION = "province_reports"
PERIOD_CODES = ("y0", "y1", "q", "m")  # "all" would need one launch date for every commune


async def view(
    database: Database,
    actor: Actor,
    commune: CommuneRef,
    period: Period,
    *,
    curriculum: Any,
    body: str,
    now: datetime,
) -> rollup.ProvinceReport:
    """The roll-up for a page; NotAllowed without the province role. Audited."""
    actor.require(commune, ACTION)
    report = await rollup.compute_province(
        database, period, rollup.programme_of(curriculum), body=body, now=now
    )
    async with database.transaction() as session:
        team_repo.audit(
            session,
            actor.audit_name,
            "province.view",
            None,
            at=now,
            period_label=period.label,
            communes=len(report.communes),
        )
    return report


async def export(
    database: Database,
    actor: Actor,
    commune: CommuneRef,
    period: Period,
    fmt: str,
    *,
    curriculum: Any,
    body: str,
    now: datetime,
) -> rollup.Export:
    """The roll-up as a file (audited by `export_province`); NotAllowed without the role."""
    actor.require(commune, ACTION)
    return await rollup.export_province(
        database, period, fmt, actor=actor.audit_name, body=body, curriculum=curriculum, now=now
    )
