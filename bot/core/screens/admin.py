"""Commune administration (/quantri): invites, the villages' figures, questions that
reached the commune, and the way into broadcasts (broadcast.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.roles import INVITE_ACTION, allowed, can, deny, guard, require
from bot.core.screens import command, menu_entry, screen
from bot.core.screens.learning import menu_choice
from bot.core.screens.team import refused
from bot.team import broadcast_service, invites, options
from bot.team.village_view import commune_overview
from storage import team_repo
from storage.delivery_models import Broadcast
from storage.models import Team

INVITE_DAYS = 7
USES_OFFERED = (1, 5, 10)
TEAMS_PER_PAGE = 8


def back_to_admin(ctx: Context) -> Choice:
    return ctx.choice("admin", "admin.back")


@screen
class AdminScreen:
    name = "admin"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, "admin_tools"):
            return refused(ctx)
        commune = ctx.commune
        lines = [ctx.t("admin.title", commune=commune.name)]
        for broadcast in await ctx.session.scalars(
            select(Broadcast).where(
                Broadcast.commune_id == commune.id,
                Broadcast.confirmed_at.is_not(None),
                Broadcast.finished_at.is_(None),
            )
        ):
            state = await broadcast_service.progress(ctx.session, broadcast)
            lines.append(
                ctx.t(
                    "admin.sending_line",
                    id=broadcast.id,
                    done=broadcast_service.fmt(state.done),
                    total=broadcast_service.fmt(state.total),
                )
            )
        escalated = await team_repo.count_open_questions(
            ctx.session, commune_id=commune.id, team_id=None, escalated_only=True
        )
        choices = [
            ctx.choice("bc_compose", "admin.broadcast"),
            ctx.choice("invite_role", "admin.invite"),
            ctx.choice("admin_villages", "admin.villages", unit=commune.unit_label),
            ctx.choice("team_questions", "admin.escalated", count=escalated),
            ctx.choice("report_request", "report_request.menu_entry"),
            menu_choice(ctx),
        ]
        return Outbound("\n".join(lines), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "menu":
            ctx.goto("menu")
        elif await require(ctx, "admin_tools"):
            ctx.goto(choice_id)  # each target screen checks its own permission again


async def may_invite(ctx: Context, role: str, team_id: int | None) -> bool:
    action = INVITE_ACTION.get(role)
    if action is None:
        return False
    if role in team_repo.TEAM_ROLES:
        team = await ctx.session.get(Team, team_id) if team_id else None
        return team is not None and await can(ctx, action, village_id=team.village_id)
    return await can(ctx, action)


@screen
class InviteRoleScreen:
    name = "invite_role"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, "admin_tools"):
            return refused(ctx)
        choices = [
            Choice(f"r:{role}", ctx.t(f"team.roles.{role}"))
            for role, action in INVITE_ACTION.items()
            if await can(ctx, action)
        ]
        choices.append(back_to_admin(ctx))
        return Outbound(ctx.t("admin.invite_role_ask"), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        role = choice_id.removeprefix("r:")
        if choice_id == "admin" or role not in INVITE_ACTION:
            ctx.goto("admin")
        elif not await require(ctx, INVITE_ACTION[role]):
            return
        elif role in team_repo.TEAM_ROLES:
            ctx.goto("invite_team", role=role, page=0)
        else:
            ctx.goto("invite_uses", role=role, team=None)


@screen
class InviteTeamScreen:
    name = "invite_team"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, "admin_tools"):
            return refused(ctx)
        teams = await team_repo.teams_of_commune(ctx.session, ctx.commune.id)
        pages = max(1, -(-len(teams) // TEAMS_PER_PAGE))
        page = min(max(int(args.get("page", 0)), 0), pages - 1)
        shown = teams[page * TEAMS_PER_PAGE : (page + 1) * TEAMS_PER_PAGE]
        choices = [Choice(f"t:{team.id}", village.name) for team, village in shown]
        if page > 0:
            choices.append(ctx.choice(f"pg:{page - 1}", "village.previous"))
        if page < pages - 1:
            choices.append(ctx.choice(f"pg:{page + 1}", "village.next"))
        choices.append(back_to_admin(ctx))
        text = ctx.t("admin.invite_team_ask", unit=ctx.commune.unit_label)
        return Outbound(text, tuple(choices), columns=2)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        role = args.get("role", "member")
        if choice_id.startswith("pg:"):
            ctx.goto(self.name, role=role, page=int(choice_id[3:]))
        elif choice_id.startswith("t:"):
            team_id = int(choice_id[2:])
            if await may_invite(ctx, role, team_id):
                ctx.goto("invite_uses", role=role, team=team_id)
            else:
                deny(ctx, INVITE_ACTION.get(role, "admin_tools"))
        else:
            ctx.goto("admin")


@screen
class InviteUsesScreen:
    """How many uses; then the code is made. Leaders come here from their team tools."""

    name = "invite_uses"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await may_invite(ctx, args.get("role", ""), args.get("team")):
            return refused(ctx)
        choices = [ctx.choice(f"u:{n}", "admin.invite_uses", n=n) for n in USES_OFFERED]
        choices.append(self._back(ctx, args))
        return Outbound(ctx.t("admin.invite_uses_ask", days=INVITE_DAYS), tuple(choices))

    def _back(self, ctx: Context, args: dict[str, Any]) -> Choice:
        if args.get("from_team"):
            return ctx.choice("team", "team.back")
        return back_to_admin(ctx)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        role, team_id = args.get("role", ""), args.get("team")
        if not choice_id.startswith("u:"):
            ctx.goto(choice_id if choice_id in ("admin", "team") else "menu")
            return
        if ctx.person is None or not await may_invite(ctx, role, team_id):
            deny(ctx, INVITE_ACTION.get(role, "admin_tools"))
            return
        uses = int(choice_id[2:]) if choice_id[2:].isdigit() else 0
        if uses not in USES_OFFERED:
            ctx.goto(self.name, **args)
            return
        team = await ctx.session.get(Team, team_id) if team_id else None
        info = await invites.create_invite(
            ctx.session,
            role=role,
            commune_id=ctx.commune.id,
            team=team,
            uses=uses,
            days=INVITE_DAYS,
            actor=team_repo.actor_of(ctx.person.id),
            now=ctx.now,
            username=options.telegram_username_in(ctx.services, ctx.channel, ctx.commune.id),
        )
        ctx.say(invite_text(ctx, info, team.name if team else None))
        ctx.goto("team" if args.get("from_team") else "admin")


def invite_text(ctx: Context, info: invites.InviteInfo, team_name: str | None) -> str:
    where = ctx.t("team.join.where_team", team=team_name) if team_name else ""
    if info.link:
        link_line = ctx.t("admin.invite_link_line", link=info.link)
    else:
        link_line = ctx.t("admin.invite_no_link_line", payload=info.payload)
    return ctx.t(
        "admin.invite_created",
        code=info.code,
        role=ctx.t(f"team.roles.{info.role}"),
        where=where,
        uses=info.uses,
        expires=_local(ctx, info.expires_at),
        link_line=link_line,
        payload=info.payload,
    )


def _local(ctx: Context, when: datetime) -> str:
    return when.astimezone(ctx.services.tz).strftime("%H:%M %d/%m/%Y")


@screen
class AdminVillagesScreen:
    name = "admin_villages"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, "admin_tools") or not await can(ctx, "village_view"):
            return refused(ctx)
        commune = ctx.commune
        lines = [ctx.t("admin.villages_title", unit=commune.unit_label, commune=commune.name)]
        choices = []
        for line in await commune_overview(ctx.session, commune.id, ctx.now):
            lines.append(
                ctx.t(
                    "admin.village_line",
                    name=line.village.name,
                    reached=line.reached,
                    total=line.village.households_total,
                    percent=line.percent,
                    residents=line.residents,
                )
            )
            choices.append(Choice(f"v:{line.village.id}", line.village.name))
        lines.append(ctx.t("admin.pick_village", unit=commune.unit_label))
        choices += [back_to_admin(ctx), menu_choice(ctx)]
        return Outbound("\n".join(lines), tuple(choices), columns=2)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id.startswith("v:"):
            village_id = int(choice_id[2:])
            if await require(ctx, "village_view", village_id=village_id):
                ctx.goto("village_view", village=village_id, back="admin")
        else:
            ctx.goto(choice_id if choice_id in ("admin", "menu") else "menu")


command("quantri", "admin", needs_person=True, guard=guard("admin_tools"))
menu_entry("admin", "admin.menu_entry", "admin", allowed("admin_tools"))
