"""Arriving with a code: staff claim an invite (`inv_<code>`), residents come through a
team member's referral (`ref_<code>`). Telegram brings the code as a deep-link payload;
on Zalo the person sends it as text. Consent always comes first."""

from __future__ import annotations

import re
from typing import Any

from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.screens import REGISTRY, screen, start_hook, text_hook
from bot.core.screens.onboarding import consent_details, create_person
from bot.core.screens.typed import is_input_screen
from storage import guesses, team_repo
from storage.models import Commune, Person, Team, Village
from storage.team_models import Invite

CODE = re.compile(r"^(?:(inv|ref)[_ -]?)?([A-Za-z0-9]{8})$", re.IGNORECASE)


@start_hook("inv")
async def invite_link(ctx: Context, payload: str) -> bool:
    return await begin_invite(ctx, payload.removeprefix("inv_"))


@start_hook("ref")
async def referral_link(ctx: Context, payload: str) -> bool:
    return await begin_referral(ctx, payload.removeprefix("ref_"))


@text_hook
async def typed_code(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """A code sent as a message (Zalo has no deep links)."""
    if is_input_screen(state):
        return False  # a question or a note that happens to look like a code
    match = CODE.match(text.strip())
    if match is None:
        return False
    prefix, code = (match.group(1) or "").lower(), match.group(2).upper()
    if prefix == "ref":
        return await begin_referral(ctx, code)
    if prefix == "inv":
        return await begin_invite(ctx, code)
    # A bare code counts only when it is (or was) an invite; anything else is ordinary
    # text. Either way it is a guess: locked out, even a right one is refused (and so is
    # any text of that shape, or the answer would tell which codes are live). A used or
    # expired one gets its own answer, not "not understood".
    if await _locked_out(ctx):
        return True
    if await team_repo.invite_by_code(ctx.session, code) is None:
        await _wrong_guess(ctx)
        return False
    return await begin_invite(ctx, code)


# ----------------------------------------------------------------- invites


async def _locked_out(ctx: Context) -> bool:
    """Over the account's one guess limit (storage/guesses.py): say so and refuse."""
    until = await guesses.locked_until(
        ctx.session, ctx.account.channel, ctx.account.external_id, ctx.now
    )
    if until is None:
        return False
    ctx.say(ctx.t("team.join.too_many", minutes=guesses.minutes_left(ctx.now, until)))
    _after_refusal(ctx)
    return True


async def _wrong_guess(ctx: Context) -> None:
    await guesses.record_wrong(ctx.session, ctx.account.channel, ctx.account.external_id, ctx.now)


async def _live_invite(ctx: Context, code: str) -> Invite | None:
    invite = await team_repo.usable_invite(ctx.session, code, ctx.now)
    if invite is None or not in_reach(ctx, invite.commune_id):
        return None
    return invite


def in_reach(ctx: Context, commune_id: int) -> bool:
    """Is `commune_id` the commune of this step? A newcomer whose bot serves several
    communes has none yet: a code of a commune their bot serves settles it."""
    if ctx.commune_or_none is not None:
        return ctx.commune_or_none.id == commune_id
    commune = ctx.services.communes.get(commune_id)
    if commune is None or not ctx.services.communes.serves(ctx.channel, commune_id):
        return False
    ctx.settle_commune(commune)
    return True


def _after_refusal(ctx: Context) -> None:
    if not (ctx.account.screen or {}).get("name"):  # first contact: start as usual
        ctx.goto("consent", first=True)


async def begin_invite(ctx: Context, code: str) -> bool:
    if await _locked_out(ctx):
        return True
    invite = await _live_invite(ctx, code)
    if invite is None:
        await _refuse_invite(ctx, code)
        return True
    if ctx.person is None:
        ctx.goto("join_consent", invite=invite.code)
    else:
        await claim_invite(ctx, invite.code)
    return True


async def _refuse_invite(ctx: Context, code: str) -> None:
    """Say why a code does not work: unknown (counted as a guess), used up, or expired.
    Then the menu (or consent for a newcomer), never the screen the person was on."""
    known = await team_repo.invite_by_code(ctx.session, code)
    if known is None or not in_reach(ctx, known.commune_id):
        await _wrong_guess(ctx)
        ctx.say(ctx.t("team.join.invalid"))
    elif ctx.person is not None and await _holds(ctx, known):
        ctx.say(ctx.t("team.join.already"))
        ctx.goto("team" if known.role in team_repo.TEAM_ROLES else "admin")
        return
    elif known.uses_left <= 0:
        ctx.say(ctx.t("team.join.used"))
    else:
        day = known.expires_at.astimezone(ctx.services.tz).strftime("%d/%m/%Y")
        ctx.say(ctx.t("team.join.expired", date=day))
    if ctx.person is None:
        ctx.goto("consent", first=True)
    else:
        ctx.goto("menu")


async def _holds(ctx: Context, invite: Invite) -> bool:
    """Does the person writing already have the role this invite gives?"""
    if ctx.person is None:
        return False
    commune_id = None if invite.role == "deployment_admin" else invite.commune_id
    for row in await team_repo.active_roles(ctx.session, ctx.person.id):
        same_place = (
            row.team_id == invite.team_id if invite.team_id else row.commune_id == commune_id
        )
        if row.role == invite.role and same_place:
            return True
    return False


async def _role_label(ctx: Context, invite: Invite) -> tuple[str, str]:
    role = ctx.t(f"team.roles.{invite.role}")
    team = await ctx.session.get(Team, invite.team_id) if invite.team_id else None
    where = ctx.t("team.join.where_team", team=team.name) if team else ""
    return role, where


async def claim_invite(ctx: Context, code: str) -> bool:
    """Grant the invite's role to the (consented) person writing; False if the code is
    no longer good (expired or used up meanwhile)."""
    person = ctx.person
    invite = await _live_invite(ctx, code)
    if person is None or invite is None:
        ctx.say(ctx.t("team.join.invalid"))
        ctx.goto("menu")
        return False
    target = "team" if invite.role in team_repo.TEAM_ROLES else "admin"
    commune_id = None if invite.role == "deployment_admin" else invite.commune_id
    if await _holds(ctx, invite):
        ctx.say(ctx.t("team.join.already"))
        ctx.goto(target)
        return True
    if not await team_repo.use_invite(ctx.session, invite.id, ctx.now):
        ctx.say(ctx.t("team.join.invalid"))
        ctx.goto("menu")
        return False
    await team_repo.grant_role(
        ctx.session,
        person_id=person.id,
        role=invite.role,
        commune_id=commune_id,
        team_id=invite.team_id,
        now=ctx.now,
    )
    team = await ctx.session.get(Team, invite.team_id) if invite.team_id else None
    if team is not None and person.village_id != team.village_id:
        person.village_id = team.village_id  # a member serves, and is counted in, that village
        await ctx.record("village_set")
    team_repo.audit(
        ctx.session,
        team_repo.actor_of(person.id),
        "invite.claim",
        invite.commune_id,
        at=ctx.now,
        invite_id=invite.id,
        role=invite.role,
        team=team.code if team else None,
    )
    role = ctx.t(f"team.roles.{invite.role}")
    if team is not None:
        ctx.say(ctx.t("team.join.welcome_team", team=team.name, role=role))
    else:
        commune = await ctx.session.get(Commune, invite.commune_id)
        ctx.say(
            ctx.t("team.join.welcome_admin", role=role, commune=commune.name if commune else "")
        )
    ctx.goto(target)
    return True


# ----------------------------------------------------------------- referrals


async def begin_referral(ctx: Context, code: str) -> bool:
    if ctx.person is not None:  # attribution is never rewritten
        ctx.say(ctx.t("team.join.registered"))
        ctx.goto("menu")
        return True
    if await _locked_out(ctx):
        return True
    role = await team_repo.role_by_referral(ctx.session, code)
    if role is None or role.team_id is None:
        await _wrong_guess(ctx)
        ctx.goto("consent", first=True)  # an old link still lets them start
    else:
        ctx.goto("join_consent", referral=role.referral_code)
    return True


async def _referrer(ctx: Context, code: str) -> tuple[Person, Team, Village] | None:
    role = await team_repo.role_by_referral(ctx.session, code)
    if role is None or role.team_id is None:
        return None
    team = await ctx.session.get(Team, role.team_id)
    member = await ctx.session.get(Person, role.person_id)
    if team is None or member is None or not in_reach(ctx, team.commune_id):
        return None
    village = await ctx.session.get(Village, team.village_id)
    return (member, team, village) if village is not None else None


async def attribute_referral(ctx: Context, code: str) -> Village | None:
    """Consent given through a member's link: the resident counts for that member, their
    team and village. Returns the village to suggest, or None for a stale code."""
    found = await _referrer(ctx, code)
    if found is None:
        await create_person(ctx, None)
        return None
    member, team, village = found
    # `team_<code>` makes the first events carry the team, as a team poster would.
    person = await create_person(ctx, f"team_{team.code}")
    person.source = f"ref_{code}"
    person.referred_by_person_id = member.id
    return village


@screen
class JoinConsentScreen:
    """The data notice, introduced by who invited or referred the person."""

    name = "join_consent"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        base = await REGISTRY["consent"].render(ctx, {"first": True})
        intro = await self._intro(ctx, args)
        return Outbound(f"{intro}\n\n{base.text}" if intro else base.text, base.choices)

    async def _intro(self, ctx: Context, args: dict[str, Any]) -> str:
        if args.get("invite"):
            invite = await _live_invite(ctx, args["invite"])
            if invite is None:
                return ""
            role, where = await _role_label(ctx, invite)
            return ctx.t("team.join.invite_intro", role=role, where=where)
        found = await _referrer(ctx, args.get("referral") or "")
        if found is None:
            return ""
        member, _team, village = found
        name = member.display_name or ctx.t("team.join.a_member")
        return ctx.t("team.join.referral_intro", member=name, village=village.name)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "details":
            ctx.say(consent_details(ctx))
            ctx.goto(self.name, **args)
        elif choice_id == "refuse":
            await REGISTRY["consent"].choose(ctx, {}, "refuse")
        elif choice_id == "agree" and ctx.person is None:
            if args.get("invite"):
                await create_person(ctx, "invite")
                ctx.say(ctx.t("consent.thanks"))
                if not await claim_invite(ctx, args["invite"]):
                    ctx.goto("village", page=0)  # onboard as a resident all the same
                return
            village = await attribute_referral(ctx, args.get("referral") or "")
            ctx.say(ctx.t("consent.thanks"))
            if village is None:
                ctx.goto("village", page=0)
            else:
                ctx.goto("ref_village", village=village.id)
        else:
            ctx.goto("menu")


@screen
class ReferralVillageScreen:
    """A referred resident most likely lives where the member works: confirm with a tap."""

    name = "ref_village"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        village = await ctx.session.get(Village, int(args.get("village", 0)))
        if village is None:
            return await REGISTRY["village"].render(ctx, {"page": 0})
        return Outbound(
            ctx.t("team.join.village_confirm", village=village.name),
            (
                ctx.choice("yes", "team.join.village_yes"),
                ctx.choice(
                    "other", "team.join.village_other", unit=ctx.commune.unit_label
                ),
            ),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        village = await ctx.session.get(Village, int(args.get("village", 0)))
        if choice_id != "yes" or village is None or ctx.person is None:
            ctx.goto("village", page=0)
            return
        ctx.person.village_id = village.id
        await ctx.record("village_set")
        if await team_repo.household_count(ctx.session, village.id):
            ctx.goto("household", next="age")
        else:
            ctx.goto("age")
