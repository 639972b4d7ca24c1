"""/lienket: one learner on two messengers.

On the first messenger `/lienket` shows a 6-digit code valid 10 minutes. Sent to the bot
on the other messenger (spaces allowed: "123 456"), it joins that account to the same
learner: progress is shared and reports count the person once. Channel-neutral: the
rules live here and in `storage/linking.py`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from bot.core import channel_traits
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.screens import command, screen, text_hook
from bot.core.screens.learning import menu_choice
from bot.core.screens.typed import is_input_screen
from storage import linking, repo
from storage.delivery_models import LinkCode
from storage.models import Person

_TYPED_CODE = re.compile(r"[0-9][0-9 ]*")


def typed_code(text: str) -> str | None:
    """The code in a message that is exactly 6 digits, spaces allowed ("123 456")."""
    if not _TYPED_CODE.fullmatch(text):
        return None
    digits = text.replace(" ", "")
    return digits if len(digits) == 6 else None


def shown(code: str) -> str:
    return f"{code[:3]} {code[3:]}"  # two groups of three are easier to read and type


def minutes_left(now: datetime, until: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def channel_name(ctx: Context, channel: str) -> str:
    try:
        return ctx.t(channel_traits.label_key(channel))  # a bot: its messenger's name
    except KeyError:  # a channel the catalog does not name (tests, future ones)
        return channel


def other_channels(ctx: Context, channel: str) -> str:
    mine = channel_traits.messenger_of(channel)
    names = [channel_name(ctx, c) for c in channel_traits.linkable() if c != mine]
    return ctx.t("linking.or").join(names)


@screen
class LinkCodeScreen:
    name = "link_code"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if ctx.person is None:
            return Outbound(ctx.t("common.needs_consent"), (menu_choice(ctx),))
        # Showing the screen again shows the same code while it works, so a re-render
        # (after a sticker, say) never invalidates the code the person is typing.
        code = await linking.live_code_for(
            ctx.session, ctx.person.id, ctx.channel, ctx.now
        ) or await linking.issue_code(ctx.session, ctx.person.id, ctx.channel, ctx.now)
        text = ctx.t(
            "linking.code",
            code=shown(code.code),
            minutes=minutes_left(ctx.now, code.expires_at),
            others=other_channels(ctx, ctx.channel),
        )
        return Outbound(text, (menu_choice(ctx),))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto("menu")


command("lienket", "link_code", needs_person=True)


@text_hook
async def link_code_typed(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    if is_input_screen(state):
        return False  # a note or question that happens to be six digits
    value = typed_code(text)
    if value is None:
        return False
    await redeem(ctx, value, state)
    return True


async def redeem(ctx: Context, value: str, state: dict[str, Any]) -> None:
    session, channel, external_id = ctx.session, ctx.channel, ctx.account.external_id
    until = await linking.locked_until(session, channel, external_id, ctx.now)
    if until is not None:  # even a right code: guessing must stay hopeless
        refuse(ctx, state, ctx.t("linking.throttled", minutes=minutes_left(ctx.now, until)))
        return
    code = await linking.find_code(session, value, ctx.now)
    target = await linking.root_person(session, code.person_id) if code else None
    if code is None or target is None or target.deleted_at is not None:
        await wrong_code(ctx, state, None)
        return
    if not linking.is_live(code, ctx.now):
        await wrong_code(ctx, state, code)
        return
    if code.channel == channel:  # not a guess: typed where it was shown
        others = other_channels(ctx, channel)
        text = ctx.t("linking.same_channel", channel=channel_name(ctx, channel), others=others)
        refuse(ctx, state, text)
        return
    if not await linking.claim_code(session, code, ctx.now):  # used a moment ago
        await wrong_code(ctx, state, code)
        return
    if ctx.person is not None and ctx.person.id == target.id:
        ctx.say(ctx.t("linking.already"))
    else:
        await join(ctx, target)
    ctx.goto("menu")


async def join(ctx: Context, target: Person) -> None:
    """Point this account at the learner the code belongs to, merging if needed."""
    if ctx.person is None:
        # No new consent is asked: the code proves the person agreed on the other
        # messenger, and that agreement covers the learner, not the app. It is recorded
        # again (same notice version) so the consent log shows when this account joined.
        await repo.add_consent(
            ctx.session, target.id, ctx.services.notice_version, "agreed", ctx.now
        )
        ctx.say(ctx.t("linking.linked"))
    else:
        await linking.merge_people(ctx.session, ctx.person, target)
        ctx.say(ctx.t("linking.merged"))
    ctx.account.person_id = target.id
    ctx.person = target


async def wrong_code(ctx: Context, state: dict[str, Any], code: LinkCode | None) -> None:
    channel, external_id = ctx.channel, ctx.account.external_id
    await linking.record_wrong(ctx.session, channel, external_id, ctx.now)
    until = await linking.locked_until(ctx.session, channel, external_id, ctx.now)
    if until is not None:
        text = ctx.t("linking.throttled", minutes=minutes_left(ctx.now, until))
    elif code is not None:  # it existed: expired or already used
        text = ctx.t("linking.expired")
    else:
        text = ctx.t("linking.wrong")
    refuse(ctx, state, text)


def refuse(ctx: Context, state: dict[str, Any], text: str) -> None:
    """Say why, then show the current screen again (a newcomer gets the welcome)."""
    ctx.say(text)
    if not state.get("name"):
        if ctx.person is None:
            ctx.goto("consent", first=True)
        else:
            ctx.goto("menu")
