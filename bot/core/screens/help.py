"""/huongdan: how to use the bot, with the team's and the admins' commands shown to
those who have them (and only to them: a resident is not told about tools they
cannot open)."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.roles import can
from bot.core.screens import command, screen
from bot.core.screens.learning import menu_choice
from bot.core.screens.web_access import is_staff


@screen
class HelpScreen:
    name = "help"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        parts = [ctx.t("help.text")]
        if await can(ctx, "team_tools"):
            parts.append(ctx.t("help.team"))
        if await can(ctx, "admin_tools"):
            parts.append(ctx.t("help.admin"))
        if await is_staff(ctx):  # the same guard as /web itself
            parts.append(ctx.t("web_access.help"))
        parts.append(ctx.t("help.footer"))
        return Outbound("\n\n".join(parts), (menu_choice(ctx),))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto("menu")


command("huongdan", "help")
