"""A resident tells the bot they finished a course, or were certified, on the national
platform binhdanhocvuso.gov.vn (from /tiendo). It is their own word: counted apart from
lessons done in the bot and from what the team verified (docs/glossary.md)."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.screens import command, screen
from bot.core.screens.learning import menu_choice
from bot.team import household_status as hs
from storage.team_models import SELF_REPORT_KINDS


@screen
class SelfReportScreen:
    name = "self_report"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        choices = [ctx.choice(kind, f"self_report.{kind}") for kind in SELF_REPORT_KINDS]
        choices += [ctx.choice("progress", "self_report.back"), menu_choice(ctx)]
        return Outbound(ctx.t("self_report.ask"), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id in SELF_REPORT_KINDS:
            ctx.goto("self_report_confirm", kind=choice_id)
        else:
            ctx.goto("progress" if choice_id == "progress" else "menu")


@screen
class SelfReportConfirmScreen:
    name = "self_report_confirm"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        kind = _kind(args)
        choices = (
            ctx.choice("yes", "self_report.confirm_yes"),
            ctx.choice("no", "self_report.confirm_no"),
        )
        return Outbound(ctx.t(f"self_report.confirm.{kind}"), choices)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        kind = _kind(args)
        if choice_id != "yes" or ctx.person is None:
            ctx.goto("self_report")
            return
        if kind in await hs.self_reported(ctx.session, ctx.person.id):
            ctx.say(ctx.t(f"self_report.already.{kind}"))
        else:
            await hs.record_self_report(
                ctx.session,
                person_id=ctx.person.id,
                commune_id=ctx.commune.id,
                village_id=ctx.person.village_id,
                kind=kind,
                now=ctx.now,
            )
            ctx.say(ctx.t(f"self_report.saved.{kind}"))
        ctx.goto("progress")


def _kind(args: dict[str, Any]) -> str:
    kind = args.get("kind")
    return kind if kind in SELF_REPORT_KINDS else SELF_REPORT_KINDS[0]


command("tubao", "self_report", needs_person=True)
