"""Welcome, the data notice (explicit consent), village and optional age group."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.matching import typed_number, understand
from bot.core.messages import Choice, Outbound
from bot.core.screens import REGISTRY, screen, start_hook, text_hook
from storage import repo
from storage.models import Person

VILLAGES_PER_PAGE = 8
AGE_GROUPS = ("duoi35", "35-59", "tu60")


async def create_person(ctx: Context, source: str | None) -> Person:
    """Consent given: the person exists from now on, and so do their events."""
    team_id = None
    if source and source.startswith("team_"):
        team_id = await repo.team_id_by_code(
            ctx.session, ctx.commune.id, source.removeprefix("team_")
        )
    person = Person(
        commune_id=ctx.commune.id,
        display_name=(ctx.display_name or None) and ctx.display_name[:64],
        attributed_team_id=team_id,
        source=source[:64] if source else None,
        created_at=ctx.now,
    )
    ctx.session.add(person)
    await ctx.session.flush()
    ctx.account.person_id = person.id
    ctx.person = person
    await repo.add_consent(ctx.session, person.id, ctx.services.notice_version, "agreed", ctx.now)
    await ctx.record("registered")
    await ctx.record("consented")
    return person


def consent_details(ctx: Context) -> str:
    """The full notice; it lists what is stored from the same text as the short one."""
    return ctx.t(
        "consent.details", version=ctx.services.notice_version, stored=ctx.t("consent.stored")
    )


@screen
class ConsentScreen:
    name = "consent"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        text = ctx.t("consent.notice", commune=ctx.commune.name, stored=ctx.t("consent.stored"))
        if args.get("first"):
            text = ctx.t("consent.welcome") + "\n\n" + text
        return Outbound(
            text,
            (
                ctx.choice("agree", "consent.agree"),
                ctx.choice("refuse", "consent.refuse"),
                ctx.choice("details", "consent.details_button"),
            ),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "details":
            ctx.say(consent_details(ctx))
            ctx.goto(self.name, source=args.get("source"))
        elif choice_id == "refuse":
            # Only the anonymous answer is kept: no person, no name, no events.
            await repo.add_consent(
                ctx.session, None, ctx.services.notice_version, "refused", ctx.now
            )
            ctx.goto("guest")
        elif choice_id == "agree":
            await create_person(ctx, args.get("source"))
            ctx.say(ctx.t("consent.thanks"))
            ctx.goto("village", page=0)


@screen
class GuestScreen:
    name = "guest"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        return Outbound(
            ctx.t("guest.text"),
            (ctx.choice("read", "guest.read"), ctx.choice("consent", "guest.change_mind")),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto("catalogue" if choice_id == "read" else "consent")


@screen
class VillageScreen:
    name = "village"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        villages = await repo.villages(ctx.session, ctx.commune.id)
        pages = max(1, -(-len(villages) // VILLAGES_PER_PAGE))
        page = min(max(int(args.get("page", 0)), 0), pages - 1)
        shown = villages[page * VILLAGES_PER_PAGE : (page + 1) * VILLAGES_PER_PAGE]
        choices = [ctx.choice(f"v:{v.code}", "village.option", name=v.name) for v in shown]
        if page > 0:
            choices.append(ctx.choice(f"pg:{page - 1}", "village.previous"))
        if page < pages - 1:
            choices.append(ctx.choice(f"pg:{page + 1}", "village.next"))
        choices.append(ctx.choice("back", "village.back"))
        unit = ctx.commune.unit_label
        text = ctx.t("village.ask", unit=unit, commune=ctx.commune.name)
        if pages > 1:
            text += "\n" + ctx.t("village.page", page=page + 1, pages=pages)
        return Outbound(text, tuple(choices), columns=2)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id.startswith("pg:"):
            ctx.goto(self.name, page=int(choice_id[3:]), back=args.get("back"))
            return
        if choice_id == "back":
            # From /dulieu, back there; during sign-up the village can wait (/dulieu).
            ctx.goto("mydata" if args.get("back") == "mydata" else "menu")
            return
        code = choice_id.removeprefix("v:")
        villages = await repo.villages(ctx.session, ctx.commune.id)
        village = next((v for v in villages if v.code == code), None)
        if village is None or ctx.person is None:  # village closed since it was offered
            ctx.say(ctx.t("common.stale"))
            ctx.goto(self.name, page=0, back=args.get("back"))
            return
        changed = ctx.person.village_id is not None and ctx.person.village_id != village.id
        ctx.person.village_id = village.id
        await ctx.record("village_set")
        if args.get("back") == "mydata":
            ctx.say(ctx.t("village.changed" if changed else "village.kept", name=village.name))
            ctx.goto("mydata")
        else:
            ctx.goto("age")


@text_hook
async def village_by_name(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """A village typed by name is looked for on every page of the list: residents know
    their village's name, not which page it is on ("go cao" from the first page), and
    "dong" must not pick the Thôn Đông shown when Thôn Đồng Mới is on the next page."""
    if state.get("name") != VillageScreen.name:
        return False
    shown = [Choice(cid, label) for cid, label in state.get("offered", [])]
    villages = await repo.villages(ctx.session, ctx.commune.id)
    everywhere = [Choice(f"v:{v.code}", v.name) for v in villages]
    everywhere += [c for c in shown if not c.id.startswith("v:")]  # pages, back
    if typed_number(text) is not None:
        return False  # a number is a line of the page shown: the engine reads it
    understood = understand(text, everywhere)
    if understood.choice is not None:
        await REGISTRY[VillageScreen.name].choose(
            ctx, dict(state.get("args", {})), understood.choice.id
        )
        return True
    if understood.ambiguous:
        names = ctx.t.either([f"“{c.label}”" for c in understood.candidates])
        ctx.say(ctx.t("village.ambiguous", options=names, unit=ctx.commune.unit_label))
        return True
    return False


@screen
class AgeScreen:
    name = "age"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        choices = [ctx.choice(f"age:{key}", f"age.groups.{key}") for key in AGE_GROUPS]
        if args.get("back") == "mydata":
            choices.append(ctx.choice("back", "village.back"))
        else:
            choices.append(ctx.choice("age:skip", "age.skip"))
        return Outbound(ctx.t("age.ask"), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        key = choice_id.removeprefix("age:")
        if args.get("back") == "mydata":
            if ctx.person is not None and key in AGE_GROUPS:
                ctx.person.age_group = key
                ctx.say(ctx.t("age.changed", group=ctx.t(f"age.groups.{key}")))
            ctx.goto("mydata")
            return
        if ctx.person is not None and key in AGE_GROUPS:
            ctx.person.age_group = key
        ctx.say(ctx.t("age.done"))
        ctx.goto("menu")


@start_hook("team")
async def team_link(ctx: Context, payload: str) -> bool:
    """`team_<CODE>`: a team's poster or deep link; attribution happens at consent."""
    if ctx.person is not None:
        return False  # already registered: attribution is never rewritten
    if ctx.commune_or_none is None:  # a bot serving several communes: whose team?
        served = ctx.services.communes.served_by(ctx.channel)
        ids = await repo.communes_with_team(
            ctx.session, payload.removeprefix("team_"), [c.id for c in served]
        )
        commune = ctx.services.communes.get(ids[0]) if len(ids) == 1 else None
        if commune is None:
            ctx.goto("commune", source=payload)  # asked; the team counts once it is known
            return True
        ctx.settle_commune(commune)
    ctx.goto("consent", first=True, source=payload)
    return True


@text_hook
async def team_code_as_first_message(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """On Zalo there are no deep links: a first message may be the poster's code."""
    if (
        state.get("name") not in (None, "commune")
        or not text.startswith("team_")
        or " " in text
        or len(text) > 64
    ):
        return False
    return await team_link(ctx, text)
