"""A resident's household (optional, /ho) and the one-tap confirmation of a team visit.

Only a village with a household list asks for a household. The resident types the random
code the team handed to the household (not the sequential list code, which anyone could
guess); three wrong codes in a row and /ho waits a while. No list of names, and nothing
about a household, is ever shown to someone who does not belong to it.
"""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.roles import guard
from bot.core.screens import command, screen
from bot.core.screens.learning import menu_choice
from bot.core.screens.typed import accepts_text
from bot.team import verification
from storage import guesses, team_repo
from storage.models import Village
from storage.team_models import Household, SupportVisit

MAX_WRONG_CODES = 3


@accepts_text
@screen
class HouseholdScreen:
    name = "household"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        person = ctx.person
        village = (
            await ctx.session.get(Village, person.village_id)
            if person and person.village_id
            else None
        )
        if village is None:
            unit = ctx.commune.unit_label
            return Outbound(ctx.t("team.household.no_village", unit=unit), (menu_choice(ctx),))
        if not await team_repo.household_count(ctx.session, village.id):
            return Outbound(
                ctx.t("team.household.no_list", village=village.name),
                (ctx.choice("skip", "team.household.skip"),),
            )
        text = ctx.t("team.household.ask")
        choices = [ctx.choice("skip", "team.household.skip")]
        if person is not None and person.household_id:
            current = await ctx.session.get(Household, person.household_id)
            if current is not None:
                text += "\n" + ctx.t("team.household.current", code=current.resident_code)
                choices.append(ctx.choice("remove", "team.household.remove"))
        return Outbound(text, tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "remove" and ctx.person is not None:
            ctx.person.household_id = None
            ctx.say(ctx.t("team.household.removed"))
        ctx.goto(args.get("next") or "menu")

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        person = ctx.person
        if person is None or person.village_id is None:
            ctx.goto("menu")
            return
        village = await ctx.session.get(Village, person.village_id)
        if not await team_repo.household_count(ctx.session, person.village_id):
            ctx.say(ctx.t("team.household.no_list", village=village.name if village else ""))
            return
        if await self._locked(ctx):
            return
        household = await team_repo.household_for_resident(ctx.session, person.village_id, text)
        if household is None:
            await guesses.record_wrong(
                ctx.session, ctx.account.channel, ctx.account.external_id, ctx.now
            )
            await ctx.session.flush()
            if not await self._locked(ctx):
                ctx.say(
                    ctx.t(
                        "team.household.unknown",
                        code=text.strip()[:32],
                        village=village.name if village else "",
                    )
                )
            return
        await team_repo.link_household(ctx.session, person, household)
        ctx.say(ctx.t("team.household.linked", code=household.resident_code))
        resume = {"name": args.get("next") or "menu", "args": {}}
        await ask_pending_visit(ctx, household.id, resume)

    async def _locked(self, ctx: Context) -> bool:
        """Three wrong codes in a row: wait, so that codes cannot be tried one by one."""
        until = await guesses.locked_until(
            ctx.session,
            ctx.account.channel,
            ctx.account.external_id,
            ctx.now,
            max_wrong=MAX_WRONG_CODES,
        )
        if until is None:
            return False
        minutes = max(1, -(-int((until - ctx.now).total_seconds()) // 60))
        ctx.say(ctx.t("team.household.too_many", count=MAX_WRONG_CODES, minutes=minutes))
        return True


async def ask_pending_visit(ctx: Context, household_id: int, resume: dict[str, Any]) -> None:
    """A visit to this household nobody was asked about yet: ask now, once."""
    visits = [
        v
        for v in await team_repo.unasked_visits(ctx.session, household_id)
        if ctx.person is not None and v.member_person_id != ctx.person.id
    ]
    if not visits:
        ctx.goto(resume["name"], **resume.get("args", {}))
        return
    visits[-1].verification_asked_at = ctx.now
    ctx.goto(verification.SCREEN, visit=visits[-1].id, resume=resume)


@screen
class VisitConfirmScreen:
    name = verification.SCREEN

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        visit = await ctx.session.get(SupportVisit, int(args.get("visit", 0)))
        if visit is None or not _entitled(ctx, visit):
            return Outbound(ctx.t("menu.text"), (menu_choice(ctx),))
        return await verification.confirm_message(ctx.session, ctx.t, ctx.services.tz, visit)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        visit = await ctx.session.get(SupportVisit, int(args.get("visit", 0)))
        person = ctx.person
        resume = args.get("resume") or {"name": "menu", "args": {}}
        answered = choice_id in (verification.YES, verification.NO)
        if answered and visit is not None and person is not None and _entitled(ctx, visit):
            if visit.verified_at is not None:
                ctx.say(ctx.t("team.verify.already"))
            elif choice_id == verification.YES:
                visit.verified_at = ctx.now
                visit.verified_by_person_id = person.id
                ctx.say(ctx.t("team.verify.thanks_yes"))
            else:
                # No column for "disputed": the commune sees it in the audit log.
                team_repo.audit(
                    ctx.session,
                    team_repo.actor_of(person.id),
                    "visit.disputed",
                    visit.commune_id,
                    at=ctx.now,
                    visit_id=visit.id,
                )
                ctx.say(ctx.t("team.verify.thanks_no"))
        ctx.goto(resume.get("name") or "menu", **(resume.get("args") or {}))


def _entitled(ctx: Context, visit: SupportVisit) -> bool:
    """Only someone of the visited household, other than the member who visited, may
    see a visit and confirm it."""
    person = ctx.person
    return (
        person is not None
        and person.household_id == visit.household_id
        and person.id != visit.member_person_id
    )


command("ho", "household", needs_person=True, guard=guard("set_household"))
