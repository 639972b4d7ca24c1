"""Reports in chat (/baocao): pick a period, pick a format, receive the document.

Commune admins get the whole commune with team members' names; team members and
leaders get their own team's village without names; residents are refused. The role
is checked again on every choice (a forged or stale button gets nothing).

The document is built after the update's commit (`ctx.after_commit`): rendering takes
a moment and `export_report` writes its own audit entry, which must not wait on (or
hold) the update's transaction. Every export is audited as "report_export".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core import channel_traits
from bot.core.context import Context, Services
from bot.core.messages import Choice, Document, Outbound
from bot.core.roles import allowed, deny, guard
from bot.core.screens import command, menu_entry, screen
from bot.core.screens.learning import menu_choice
from bot.core.screens.team import refused
from bot.operations import actor_in_chat
from bot.operations import reports as ops
from bot.reports import periods
from bot.reports.periods import Period
from storage import downloads
from storage.db import Database

log = logging.getLogger(__name__)

# Team members and leaders see their own village, admins the whole commune: exactly
# the reach of "village_view", so no new action is needed in the role matrix.
ACTION = ops.ACTION
PERIOD_CODES = ops.PERIOD_CODES
FORMAT_CODES = ops.FORMAT_CODES
Scope = ops.Scope
current_report_month = ops.current_report_month


async def scope_of(ctx: Context) -> Scope | None:
    """Admins: the commune, with names. Team members/leaders: their village. Else None."""
    actor = await actor_in_chat(ctx)
    if actor is None:
        return None
    try:
        return await ops.scope_for(ctx.session, actor, ctx.commune)
    except ops.NotAllowed:
        return None


async def resolve_period(ctx: Context, code: str) -> Period | None:
    """The period a choice stands for, computed now; None for an unknown code."""
    return await ops.resolve_period(ctx.session, ctx.commune, code, ctx.now)


def back_choice(ctx: Context, scope: Scope) -> Choice:
    key = "admin.back" if scope.home == "admin" else "team.back"
    return ctx.choice(scope.home, key)


@screen
class ReportPeriodScreen:
    name = "report_request"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        scope = await scope_of(ctx)
        if scope is None:
            return refused(ctx)
        year = periods.current_report_year(ctx.now)
        choices = [
            ctx.choice("p:y0", "report_request.period_year", year=year),
            ctx.choice("p:y1", "report_request.period_year", year=year - 1),
            ctx.choice("p:q", "report_request.period_quarter"),
            ctx.choice("p:m", "report_request.period_month"),
            ctx.choice("p:all", "report_request.period_all"),
            back_choice(ctx, scope),
            menu_choice(ctx),
        ]
        text = ctx.t("report_request.choose_period", scope=scope.scope_name)
        return Outbound(text, tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id in ("menu", "admin", "team"):
            ctx.goto(choice_id)
            return
        if await scope_of(ctx) is None:
            deny(ctx, ACTION)
            return
        code = choice_id.removeprefix("p:")
        if not choice_id.startswith("p:") or code not in PERIOD_CODES:
            ctx.goto(self.name)
        elif await resolve_period(ctx, code) is None:
            ctx.say(ctx.t("report_request.period_unavailable"))
            ctx.goto(self.name)
        else:
            ctx.goto("report_format", period=code)


@screen
class ReportFormatScreen:
    name = "report_format"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        scope = await scope_of(ctx)
        if scope is None:
            return refused(ctx)
        period = await resolve_period(ctx, str(args.get("period", "")))
        if period is None:
            return Outbound(ctx.t("report_request.period_unavailable"), (menu_choice(ctx),))
        choices = [ctx.choice(f"f:{fmt}", f"report_request.formats.{fmt}") for fmt in FORMAT_CODES]
        choices += [ctx.choice("report_request", "report_request.back_period"), menu_choice(ctx)]
        text = ctx.t("report_request.choose_format", period=period.label)
        return Outbound(text, tuple(choices), columns=2)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id in ("menu", "report_request"):
            ctx.goto(choice_id)
            return
        scope = await scope_of(ctx)
        if scope is None or ctx.person is None:
            deny(ctx, ACTION)
            return
        fmt = choice_id.removeprefix("f:")
        period = await resolve_period(ctx, str(args.get("period", "")))
        if not choice_id.startswith("f:") or fmt not in FORMAT_CODES or period is None:
            ctx.goto("report_request")
            return
        ctx.after_commit.append(
            report_task(ctx, scope, period, fmt, actor=f"person:{ctx.person.id}")
        )
        ctx.goto(scope.home)


async def download_link(
    database: Database,
    services: Services,
    commune_id: int,
    person_id: int,
    document: Document,
    now: datetime,
) -> str:
    """Keep the file for a while and say where to fetch it (see bot/web.py)."""
    async with database.transaction() as session:
        token = await downloads.create(
            session,
            commune_id=commune_id,
            person_id=person_id,
            filename=document.filename,
            content_type=document.content_type,
            data=document.data,
            now=now,
            ttl=timedelta(hours=services.download_hours),
        )
    base = (services.download_base_url or "").rstrip("/")
    return services.texts(
        "report_request.download_link", url=f"{base}/files/{token}", hours=services.download_hours
    )


def report_task(
    ctx: Context, scope: Scope, period: Period, fmt: str, *, actor: str
) -> Callable[[], Awaitable[list[Outbound]]]:
    """The work to run after the commit: build, audit (in `export_report`), hand over.

    Only plain values are captured: the update's session is closed by then."""
    from bot.reports.document import figures_as_of
    from bot.reports.exports import CONTENT_TYPES, report_filename
    from bot.reports.texts import fmt_int

    services, commune = ctx.services, ctx.commune
    database = ctx.database  # used after the commit, outside this update's transaction
    assert database is not None, "the engine hands every context its database"
    now, channel = ctx.now, ctx.channel
    person_id = ctx.person.id if ctx.person is not None else 0

    async def build() -> list[Outbound]:
        try:
            export = await ops.request_report(
                database, actor, commune, scope, period, fmt,
                curriculum=services.curriculum, now=now,
            )  # fmt: skip
        except Exception as exc:  # audited as failed by export_report; never raise here
            log.error("chat report not built: %s", type(exc).__name__)
            return [Outbound(services.texts("report_request.failed"))]
        total = export.report.total
        summary = services.texts(
            "report_request.summary",
            scope=scope.scope_name,
            period=period.label,
            date=figures_as_of(export.report),  # the documents' "Số liệu đến ngày"
            registered=fmt_int(total.registered),
            basic=fmt_int(total.basic_cum),
            assisted_basic=fmt_int(total.assisted_basic),
            reached=fmt_int(total.households_reached),
            households=fmt_int(total.households_total),
        )
        name = report_filename(commune.code, period, fmt, scope.village_code)
        document = Document(name, CONTENT_TYPES[fmt], export.data)
        # A messenger whose bot API sends no files (its declaration says so) gets a
        # download link when web.public_url is set (else the channel says where else).
        if not channel_traits.sends_files(channel) and services.download_base_url:
            link = await download_link(database, services, commune.id, person_id, document, now)
            return [Outbound(f"{summary}\n\n{link}")]
        return [Outbound(summary, document=document)]

    return build


command("baocao", "report_request", needs_person=True, guard=guard(ACTION))
menu_entry("report_request", "report_request.menu_entry", "report_request", allowed(ACTION))
