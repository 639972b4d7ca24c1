"""Which commune a new resident belongs to, when their bot serves several.

Asked once, before the data notice (which names the commune). A few communes are
offered as choices; more are found by name, typed with or without diacritics.
A poster code (`xa_<code>`) or a team or invite link settles it without asking
(bot/core/engine.py, bot/core/screens/join.py).
"""

from __future__ import annotations

from typing import Any

from bot.core.communes import CommuneRef
from bot.core.context import Context
from bot.core.matching import typed_number
from bot.core.messages import Outbound
from bot.core.screens import last_text_hook, screen

# Up to this many communes are offered as choices; a longer list is searched by name.
LISTED = 6


def _served(ctx: Context) -> tuple[CommuneRef, ...]:
    return ctx.services.communes.served_by(ctx.channel)


def _example(communes: tuple[CommuneRef, ...]) -> str:
    return communes[0].name if communes else ""


@screen
class CommuneScreen:
    name = "commune"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        served = _served(ctx)
        found = [c for c in served if c.code in args.get("found", ())]
        if found:
            choices = [ctx.choice(f"c:{c.code}", "commune.option", name=c.name) for c in found]
            choices.append(ctx.choice("again", "commune.again"))
            return Outbound(ctx.t("commune.several"), tuple(choices))
        # The welcome comes here, before the question, and not again with the notice.
        welcome = ctx.t("consent.welcome") + "\n\n" if args.get("first") else ""
        if len(served) <= LISTED:
            choices = [ctx.choice(f"c:{c.code}", "commune.option", name=c.name) for c in served]
            text = welcome + ctx.t("commune.ask", example=_example(served))
            return Outbound(text, tuple(choices))
        return Outbound(welcome + ctx.t("commune.ask_typed", example=_example(served)))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "again":
            ctx.goto(self.name, source=args.get("source"))
            return
        code = choice_id.removeprefix("c:")
        commune = next((c for c in _served(ctx) if c.code == code), None)
        if commune is None:  # a forged or outdated choice
            ctx.say(ctx.t("common.stale"))
            ctx.goto(self.name, source=args.get("source"))
            return
        ctx.settle_commune(commune)
        if ctx.person is None:
            ctx.goto("consent", source=args.get("source"))
        else:
            ctx.goto("menu")


@last_text_hook
async def commune_by_name(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """A commune name typed on the commune screen: one match settles it, several are
    offered, none is said plainly. A number is a line of the list (the engine's)."""
    if state.get("name") != CommuneScreen.name or typed_number(text) is not None:
        return False
    args = dict(state.get("args", {}))
    served = _served(ctx)
    found = ctx.services.communes.search(text, served)
    if len(found) == 1:
        await CommuneScreen().choose(ctx, args, f"c:{found[0].code}")
    elif len(found) > LISTED:  # "tan" in a province: too many to read on a phone
        ctx.say(ctx.t("commune.too_many", count=len(found)))
        ctx.goto(CommuneScreen.name, source=args.get("source"))
    elif found:
        ctx.goto(CommuneScreen.name, source=args.get("source"), found=[c.code for c in found])
    else:
        typed = text if len(text) <= 40 else text[:40] + "…"
        ctx.say(ctx.t("commune.not_found", typed=typed))
        ctx.goto(CommuneScreen.name, source=args.get("source"))
    return True
