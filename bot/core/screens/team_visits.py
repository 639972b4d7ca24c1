"""A member logs a household support visit (household, services, note) or a lesson a
resident without a phone completed with their help. Households are those of the
member's own village only; any household id that comes back is checked again."""

from __future__ import annotations

from typing import Any

from bot.core import resume
from bot.core.context import Context
from bot.core.matching import fold
from bot.core.messages import Choice, Outbound
from bot.core.roles import can, deny, require
from bot.core.screens import screen
from bot.core.screens.team import refused, team_grant
from bot.core.screens.typed import accepts_text
from bot.operations import NotAllowed, actor_for, visits
from bot.team import verification
from storage import team_repo
from storage.models import Village
from storage.team_models import VISIT_SERVICES, AssistedLearning, Household

PER_PAGE = 8
ACTIONS = {"visit": "log_visit", "assisted": "assisted_learning", "status": "log_visit"}
MAX_NOTE = visits.MAX_NOTE
MAX_LABEL = 40


VISIT_SLOT = "visit"  # one half-done visit entry per member, reopened from /to


def cancel_choice(ctx: Context) -> Choice:
    return ctx.choice("cancel", "team.cancel")


async def paused_visit(ctx: Context) -> tuple[str, dict[str, Any], str] | None:
    """The member's half-done visit entry (screen, args, household label), if its
    household is still theirs to log."""
    point = await resume.paused(ctx, VISIT_SLOT)
    if point is None:
        return None
    household = await _shown_household(ctx, point[1], "log_visit")
    return None if household is None else (point[0], point[1], _label(household))


async def _visit_cancelled(ctx: Context) -> None:
    await resume.forget(ctx, VISIT_SLOT)
    ctx.say(ctx.t("team.cancelled"))
    ctx.goto("team")


async def _household(ctx: Context, household_id: Any, action: str) -> Household | None:
    """The household, if the person writing may act on it (their own village)."""
    household = await ctx.session.get(Household, int(household_id or 0))
    if household is None:
        ctx.say(ctx.t("common.stale"))
        ctx.goto("team")
        return None
    if not await require(ctx, action, village_id=household.village_id):
        return None
    return household


async def _shown_household(ctx: Context, args: dict[str, Any], action: str) -> Household | None:
    """For render(): the household in the screen's args, if the viewer may act on it."""
    household = await ctx.session.get(Household, int(args.get("household", 0)))
    if household is None or not await can(ctx, action, village_id=household.village_id):
        return None
    return household


def _label(household: Household) -> str:
    return f"{household.code} · {household.head_name}" if household.head_name else household.code


def parse_new_household(text: str) -> tuple[str | None, str | None]:
    """ "H015 Nguyễn Văn An" -> ("H015", "Nguyễn Văn An"); a bare name has no code."""
    first, _, rest = text.strip().partition(" ")
    if team_repo.HOUSEHOLD_CODE.match(first) and any(ch.isdigit() for ch in first):
        return first.upper(), rest.strip()[:80] or None
    return None, text.strip()[:80] or None


@accepts_text
@screen
class HouseholdPickScreen:
    name = "team_household"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        grant = await team_grant(ctx)
        action = ACTIONS.get(args.get("purpose", ""), "log_visit")
        if grant is None or not await can(ctx, action, village_id=grant.village_id):
            return refused(ctx)
        village = await ctx.session.get(Village, grant.village_id)
        query = args.get("q") or None
        page = max(int(args.get("page", 0)), 0)
        rows, total = await team_repo.households_page(
            ctx.session, grant.village_id, offset=page * PER_PAGE, limit=PER_PAGE, query=query
        )
        pages = max(1, -(-total // PER_PAGE))
        choices = [Choice(f"h:{h.id}", _label(h)) for h in rows]
        if page > 0:
            choices.append(ctx.choice(f"pg:{page - 1}", "village.previous"))
        if page < pages - 1:
            choices.append(ctx.choice(f"pg:{page + 1}", "village.next"))
        if query:
            text = ctx.t("team.household_search", query=query)
            if not total:
                text += "\n" + ctx.t("team.household_none_found", query=query)
            choices.append(ctx.choice("add", "team.household_add", label=query))
            choices.append(ctx.choice("all", "team.household_all"))
        elif total:
            text = ctx.t("team.household_pick", village=village.name if village else "")
            text += "\n" + ctx.t("team.household_add_hint")
        else:
            text = ctx.t("team.household_pick_empty", village=village.name if village else "")
        if pages > 1:
            text += "\n" + ctx.t("team.page", page=page + 1, pages=pages)
        choices.append(cancel_choice(ctx))
        return Outbound(text, tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        purpose = args.get("purpose", "visit")
        action = ACTIONS.get(purpose, "log_visit")
        if choice_id == "cancel":
            ctx.goto("team")
        elif choice_id == "all":
            ctx.goto(self.name, purpose=purpose, page=0)
        elif choice_id.startswith("pg:"):
            ctx.goto(self.name, purpose=purpose, page=int(choice_id[3:]), q=args.get("q"))
        elif choice_id.startswith("h:"):
            household = await _household(ctx, choice_id[2:], action)
            if household is not None:
                await _next_step(ctx, purpose, household)
        elif choice_id == "add":
            await self._add(ctx, purpose, action, args.get("q") or "")

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        grant = await team_grant(ctx)
        purpose = args.get("purpose", "visit")
        if grant is None or not await require(ctx, ACTIONS.get(purpose, "log_visit")):
            return
        query = text.strip()[:80]
        code, _head = parse_new_household(query)
        exact = await team_repo.household_by_code(ctx.session, grant.village_id, code or query)
        if exact is not None:
            await _next_step(ctx, purpose, exact)
            return
        ctx.goto(self.name, purpose=purpose, page=0, q=query)

    async def _add(self, ctx: Context, purpose: str, action: str, text: str) -> None:
        grant = await team_grant(ctx)
        if grant is None or not await require(ctx, action, village_id=grant.village_id):
            return
        code, head = parse_new_household(text)
        if not text.strip():
            ctx.say(ctx.t("team.household_bad"))
            ctx.goto(self.name, purpose=purpose, page=0)
            return
        if code is None:  # a name only: give it the next free code of the village
            n = await team_repo.household_count(ctx.session, grant.village_id) + 1
            while await team_repo.household_by_code(ctx.session, grant.village_id, f"M{n:03d}"):
                n += 1
            code = f"M{n:03d}"
        existing = await team_repo.household_by_code(ctx.session, grant.village_id, code)
        if existing is not None:
            ctx.say(ctx.t("team.household_exists", code=existing.code))
            await _next_step(ctx, purpose, existing)
            return
        household = await team_repo.add_household(
            ctx.session, grant.village_id, code, head, ctx.now
        )
        ctx.say(ctx.t("team.household_added", code=household.code))
        ctx.say(ctx.t("team.resident_code", code=household.resident_code))
        await _next_step(ctx, purpose, household)


async def _next_step(ctx: Context, purpose: str, household: Household) -> None:
    if purpose == "status":
        from bot.core.screens.team_status import open_status  # it imports this module

        await open_status(ctx, household)
    elif purpose == "assisted":
        ctx.goto("team_assisted", household=household.id)
    else:
        ctx.goto("team_visit", household=household.id, services=[])


@screen
class VisitServicesScreen:
    name = "team_visit"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, "log_visit")
        if household is None:
            return refused(ctx)
        chosen = set(args.get("services", []))
        choices = []
        for service in VISIT_SERVICES:
            key = "team.service_on" if service in chosen else "team.service_off"
            choices.append(ctx.choice(f"s:{service}", key, label=ctx.t(f"team.services.{service}")))
        choices.append(ctx.choice("done", "team.services_done"))
        choices.append(cancel_choice(ctx))
        return Outbound(ctx.t("team.services_title", household=_label(household)), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            await _visit_cancelled(ctx)
            return
        household = await _household(ctx, args.get("household"), "log_visit")
        if household is None:
            return
        chosen = [s for s in args.get("services", []) if s in VISIT_SERVICES]
        if choice_id.startswith("s:") and choice_id[2:] in VISIT_SERVICES:
            service = choice_id[2:]
            chosen = (
                [s for s in chosen if s != service] if service in chosen else [*chosen, service]
            )
            ctx.goto(self.name, household=household.id, services=chosen)
        elif choice_id == "done" and chosen:
            ctx.goto("team_visit_note", household=household.id, services=chosen)
        else:
            ctx.say(ctx.t("team.services_needed"))
            ctx.goto(self.name, household=household.id, services=chosen)


@accepts_text
@screen
class VisitNoteScreen:
    name = "team_visit_note"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, "log_visit")
        if household is None:
            return refused(ctx)
        return Outbound(
            ctx.t("team.note_ask"), (ctx.choice("skip", "team.note_skip"), cancel_choice(ctx))
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "skip":
            await save_visit(ctx, args, None)
        else:
            await _visit_cancelled(ctx)

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        if len(text) > MAX_NOTE:
            ctx.say(ctx.t("team.note_too_long"))
            return
        await save_visit(ctx, args, text.strip() or None)


async def save_visit(ctx: Context, args: dict[str, Any], note: str | None) -> None:
    if ctx.person is None:
        return
    services = [s for s in VISIT_SERVICES if s in args.get("services", [])]
    if not services:
        ctx.goto("team_visit", household=int(args.get("household") or 0), services=[])
        return
    try:
        actor = await actor_for(ctx.session, ctx.person, ctx.commune)
        logged = await visits.log_visit(
            ctx.session,
            actor,
            ctx.commune,
            household_id=int(args.get("household") or 0),
            services=services,
            note=note,
            now=ctx.now,
            texts=ctx.t,
            tz=ctx.services.tz,
        )
    except NotAllowed:
        deny(ctx, "log_visit")
        return
    await resume.forget(ctx, VISIT_SLOT)
    text = ctx.t(
        "team.visit_saved",
        household=_label(logged.household),
        services=verification.service_labels(ctx.t, logged.visit.services),
    )
    if logged.asked:
        text += "\n" + ctx.t("team.visit_asked")
    text += "\n" + ctx.t("team.resident_code", code=logged.household.resident_code)
    ctx.say(text)
    ctx.goto("team", status_for=logged.household.id)  # the household's digital status, one tap away


@accepts_text
@screen
class AssistedLabelScreen:
    name = "team_assisted"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, "assisted_learning")
        if household is None:
            return refused(ctx)
        return Outbound(
            ctx.t("team.assisted_label_ask", household=_label(household)), (cancel_choice(ctx),)
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.say(ctx.t("team.cancelled"))
        ctx.goto("team")

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        household = await _household(ctx, args.get("household"), "assisted_learning")
        if household is None:
            return
        label = " ".join(text.split())
        if not 1 <= len(label) <= MAX_LABEL:
            ctx.say(ctx.t("team.assisted_label_bad"))
            return
        ctx.goto("team_assisted_lesson", household=household.id, label=label)


@screen
class AssistedLessonScreen:
    name = "team_assisted_lesson"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, "assisted_learning")
        if household is None:
            return refused(ctx)
        lessons = ctx.services.curriculum.lessons.values()
        choices = [Choice(f"l:{les.id}", les.title) for les in lessons]
        choices.append(cancel_choice(ctx))
        return Outbound(
            ctx.t("team.assisted_lesson_ask", label=args.get("label", "")), tuple(choices)
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        lesson = ctx.services.curriculum.lessons.get(choice_id.removeprefix("l:"))
        if choice_id == "cancel" or lesson is None:
            ctx.say(ctx.t("team.cancelled"))
            ctx.goto("team")
            return
        household = await _household(ctx, args.get("household"), "assisted_learning")
        grant = await team_grant(ctx)
        if household is None or grant is None or ctx.person is None:
            return
        label = str(args.get("label", ""))[:MAX_LABEL]
        ctx.session.add(
            AssistedLearning(
                member_person_id=ctx.person.id,
                team_id=grant.team_id,
                village_id=household.village_id,
                commune_id=ctx.commune.id,
                household_id=household.id,
                # The same learner (household + folded label) counts once as a person.
                learner_key=f"{household.id}:{fold(label)}"[:64],
                lesson_id=lesson.id,
                at=ctx.now,
            )
        )
        ctx.say(
            ctx.t(
                "team.assisted_saved", label=label, household=_label(household), lesson=lesson.title
            )
        )
        ctx.goto("team")


resume.resumable(VisitServicesScreen.name, lambda args: VISIT_SLOT)
resume.resumable(VisitNoteScreen.name, lambda args: VISIT_SLOT)
