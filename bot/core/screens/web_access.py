"""/web: a staff member's one-time link to the web dashboard, and "sign out of the web
everywhere". Residents get a polite refusal (bot/operations/web_access.py)."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.roles import roles_of
from bot.core.screens import command, screen
from bot.core.screens.learning import menu_choice
from bot.operations import NotAllowed, actor_in_chat
from bot.operations import web_access as ops


async def is_staff(ctx: Context) -> bool:
    return (await roles_of(ctx)).is_staff


@screen
class WebLinkScreen:
    name = "web_link"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        actor = await actor_in_chat(ctx)
        if actor is None:
            return Outbound(ctx.t("web_access.staff_only"), (menu_choice(ctx),))
        try:
            url = await ops.issue_link(
                ctx.session, actor, ctx.commune, ctx.services.web_url, ctx.now
            )
        except NotAllowed:
            return Outbound(ctx.t("web_access.staff_only"), (menu_choice(ctx),))
        minutes = int(ops.LINK_TTL.total_seconds() // 60)
        return Outbound(
            ctx.t("web_access.link", url=url, minutes=minutes),
            (ctx.choice("signout", "web_access.sign_out_all"), menu_choice(ctx)),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        actor = await actor_in_chat(ctx)
        if choice_id == "signout" and actor is not None and actor.roles.is_staff:
            ended = await ops.sign_out(ctx.session, actor, ctx.commune, ctx.now)
            ctx.say(ctx.t("web_access.signed_out", count=ended))
        ctx.goto("menu")


command("web", "web_link", needs_person=True, guard=is_staff, denied_key="web_access.staff_only")
