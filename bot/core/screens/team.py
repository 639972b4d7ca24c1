"""Team tools (/to) for members and leaders of a Tổ công nghệ số cộng đồng: referral link
and QR code, the village's figures, the team's members. Visits and assisted learning
are in team_visits.py.

A member works in one village: every screen takes the village from their own role, and
anything chosen (a household, a village) is checked against it again on the way in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.roles import Grant, allowed, can, guard, require, roles_of
from bot.core.screens import command, menu_entry, screen
from bot.core.screens.learning import menu_choice
from bot.team import links, options
from bot.team.qr import qr_png
from bot.team.village_view import render_stats, village_stats
from storage import team_repo
from storage.models import Team, Village
from storage.team_models import Household, SupportVisit


def refused(ctx: Context) -> Outbound:
    """What a privileged screen shows to someone not (or no longer) allowed."""
    return Outbound(ctx.t("common.not_allowed"), (menu_choice(ctx),))


def back_to_tools(ctx: Context) -> Choice:
    return ctx.choice("team", "team.back")


async def team_grant(ctx: Context) -> Grant | None:
    return (await roles_of(ctx)).team


@screen
class TeamScreen:
    name = "team"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        grant = await team_grant(ctx)
        if grant is None or not await can(ctx, "team_tools"):
            return refused(ctx)
        team = await ctx.session.get(Team, grant.team_id)
        village = await ctx.session.get(Village, grant.village_id)
        open_count = await team_repo.count_open_questions(
            ctx.session, commune_id=ctx.commune.id, team_id=grant.team_id
        )
        from bot.core.screens.team_visits import paused_visit  # it imports this module

        choices = []
        status_for = args.get("status_for")
        if isinstance(status_for, int):  # a visit was just logged: its household's status
            household = await ctx.session.get(Household, status_for)
            if household is not None and household.village_id == grant.village_id:
                label = household.code
                choices.append(
                    ctx.choice(f"status:{household.id}", "status.after_visit", household=label)
                )
        paused = await paused_visit(ctx)
        if paused is not None:  # a visit entry left half-done comes first
            choices.append(ctx.choice("resume_visit", "resume.visit_continue", household=paused[2]))
        choices += [
            ctx.choice("referral", "team.referral"),
            ctx.choice("visit", "team.visit"),
            ctx.choice("assisted", "team.assisted"),
            ctx.choice("status", "status.menu_entry"),
            ctx.choice("questions", "team.questions", count=open_count),
            ctx.choice("view", "team.view_entry", village=village.name if village else ""),
            ctx.choice("report_request", "report_request.menu_entry"),
        ]
        if await can(ctx, "team_members", village_id=grant.village_id):
            choices.append(ctx.choice("members", "team.members"))
        if await can(ctx, "invite_member", village_id=grant.village_id):
            choices.append(ctx.choice("invite", "team.invite"))
        choices.append(menu_choice(ctx))
        text = ctx.t(
            "team.title", team=team.name if team else "", role=ctx.t(f"team.roles.{grant.role}")
        )
        return Outbound(text, tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "menu":
            ctx.goto("menu")
            return
        grant = await team_grant(ctx)
        if grant is None or not await require(ctx, "team_tools"):
            return
        if choice_id == "resume_visit":
            from bot.core.screens.team_visits import paused_visit  # it imports this module

            paused = await paused_visit(ctx)
            if paused is None:
                ctx.goto(self.name)
            else:
                ctx.goto(paused[0], **paused[1])
        elif choice_id == "referral":
            ctx.goto("team_referral")
        elif choice_id.startswith("status:") and choice_id[7:].isdigit():
            from bot.core.screens.team_status import open_status
            from bot.core.screens.team_visits import _household

            household = await _household(ctx, choice_id[7:], "log_visit")
            if household is not None:
                await open_status(ctx, household)
        elif choice_id in ("visit", "assisted", "status"):
            ctx.goto("team_household", purpose=choice_id, page=0)
        elif choice_id == "questions":
            ctx.goto("team_questions")
        elif choice_id == "view":
            ctx.goto("village_view", village=grant.village_id, back="team")
        elif choice_id == "report_request":
            ctx.goto("report_request")  # it checks the role again
        elif choice_id == "members":
            ctx.goto("team_members")
        elif choice_id == "invite":
            ctx.goto("invite_uses", role="member", team=grant.team_id, from_team=True)
        else:
            ctx.goto(self.name)


@screen
class ReferralScreen:
    name = "team_referral"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        roles = await roles_of(ctx)
        if roles.team is None or roles.referral_code is None or not await can(ctx, "referral"):
            return refused(ctx)
        payload = f"{links.REFERRAL_PREFIX}{roles.referral_code}"
        username = options.telegram_username_in(ctx.services, ctx.channel, ctx.commune.id)
        link = links.deep_link(payload, username)
        image = qr_png(options.data_dir(ctx.services), payload, link or payload)
        if link:
            text = ctx.t("team.referral_text", link=link, payload=payload)
        else:
            text = ctx.t("team.referral_text_no_link", payload=payload)
        return Outbound(text, (back_to_tools(ctx), menu_choice(ctx)), image=str(image))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto("team" if choice_id == "team" else "menu")


@screen
class VillageViewScreen:
    """A village's figures: members see their own village, admins any of the commune."""

    name = "village_view"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        village_id = int(args.get("village") or 0)
        village = await ctx.session.get(Village, village_id) if village_id else None
        if village is None or not await can(ctx, "village_view", village_id=village.id):
            return refused(ctx)
        stats = await village_stats(ctx.session, village, ctx.now, ctx.services.tz)
        if args.get("back") == "admin":
            unit = ctx.commune.unit_label
            back = ctx.choice("admin_villages", "admin.back_villages", unit=unit)
        else:
            back = back_to_tools(ctx)
        return Outbound(render_stats(ctx.t, stats), (back, menu_choice(ctx)))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto(choice_id if choice_id in ("team", "admin_villages") else "menu")


@screen
class TeamMembersScreen:
    name = "team_members"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        grant = await team_grant(ctx)
        if grant is None or not await can(ctx, "team_members", village_id=grant.village_id):
            return refused(ctx)
        team = await ctx.session.get(Team, grant.team_id)
        people = await team_repo.team_people(ctx.session, grant.team_id)
        visits = dict(
            (
                await ctx.session.execute(
                    select(SupportVisit.member_person_id, func.count())
                    .where(SupportVisit.team_id == grant.team_id)
                    .group_by(SupportVisit.member_person_id)
                )
            ).all()
        )
        lines = [ctx.t("team.members_title", team=team.name if team else "")]
        for role, person in people:
            lines.append(
                ctx.t(
                    "team.member_line",
                    name=person.display_name or ctx.t("team.no_name"),
                    role=ctx.t(f"team.roles.{role}"),
                    visits=visits.get(person.id, 0),
                )
            )
        if not people:
            lines.append(ctx.t("team.members_none"))
        return Outbound("\n".join(lines), (back_to_tools(ctx), menu_choice(ctx)))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto("team" if choice_id == "team" else "menu")


command("to", "team", needs_person=True, guard=guard("team_tools"))
menu_entry("team", "team.menu_entry", "team", allowed("team_tools"))
