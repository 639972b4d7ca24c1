"""An admin composes an announcement: text, optional photo link, the whole commune or
chosen villages, a preview with the recipient count, then confirm. Sending is the
outbox's job (bot/team/broadcast_service.py). The draft lives in the screen args only;
nothing is stored until it is confirmed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.roles import can, require
from bot.core.screens import screen
from bot.core.screens.reminders import hour_label
from bot.core.screens.team import refused
from bot.core.screens.typed import accepts_text
from bot.team import broadcast_service
from storage import reach, repo, team_repo
from storage.delivery_models import Broadcast
from storage.models import Village

# Telegram captions stop at 1,024 characters; the header takes a line of its own.
MAX_TEXT = 900
MAX_IMAGE_URL = 500
ACTION = "broadcast"


def cancel_choice(ctx: Context) -> Choice:
    return ctx.choice("cancel", "broadcast.cancel")


def _draft(args: dict[str, Any]) -> dict[str, Any]:
    return {k: args[k] for k in ("text", "image", "villages") if k in args}


def _cancelled(ctx: Context) -> None:
    ctx.say(ctx.t("broadcast.cancelled"))
    ctx.goto("admin")


@accepts_text
@screen
class ComposeScreen:
    name = "bc_compose"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, ACTION):
            return refused(ctx)
        return Outbound(ctx.t("broadcast.compose", max=MAX_TEXT), (cancel_choice(ctx),))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        _cancelled(ctx)

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        if not await require(ctx, ACTION):
            return
        text = text.strip()
        if len(text) > MAX_TEXT:
            ctx.say(ctx.t("broadcast.too_long", length=len(text), max=MAX_TEXT))
            return
        ctx.goto("bc_image", **{**_draft(args), "text": text})


@accepts_text
@screen
class ImageScreen:
    name = "bc_image"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, ACTION):
            return refused(ctx)
        return Outbound(
            ctx.t("broadcast.image_ask"),
            (ctx.choice("none", "broadcast.image_none"), cancel_choice(ctx)),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "none" and await require(ctx, ACTION):
            ctx.goto("bc_target", **{**_draft(args), "image": None})
        elif choice_id != "none":
            _cancelled(ctx)

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        if not await require(ctx, ACTION):
            return
        url = text.strip()
        if not url.startswith("https://") or " " in url or len(url) > MAX_IMAGE_URL:
            ctx.say(ctx.t("broadcast.image_bad"))
            return
        ctx.goto("bc_target", **{**_draft(args), "image": url})


@screen
class TargetScreen:
    name = "bc_target"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, ACTION):
            return refused(ctx)
        commune = ctx.services.commune
        return Outbound(
            ctx.t("broadcast.target_ask"),
            (
                ctx.choice("all", "broadcast.target_all", commune=commune.name),
                ctx.choice("some", "broadcast.target_some", unit=commune.unit_label),
                cancel_choice(ctx),
            ),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            _cancelled(ctx)
        elif await require(ctx, ACTION):
            draft = _draft(args)
            if choice_id == "all":
                ctx.goto("bc_preview", **{**draft, "villages": []})
            else:
                ctx.goto("bc_villages", **{**draft, "villages": []})


@screen
class VillagesScreen:
    name = "bc_villages"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, ACTION):
            return refused(ctx)
        chosen = set(args.get("villages", []))
        choices = [
            ctx.choice(
                f"v:{v.code}",
                "broadcast.village_on" if v.code in chosen else "broadcast.village_off",
                name=v.name,
            )
            for v in await repo.villages(ctx.session, ctx.services.commune.id)
        ]
        choices += [ctx.choice("done", "broadcast.villages_done"), cancel_choice(ctx)]
        unit = ctx.services.commune.unit_label
        return Outbound(ctx.t("broadcast.villages_ask", unit=unit), tuple(choices), columns=2)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            _cancelled(ctx)
            return
        if not await require(ctx, ACTION):
            return
        codes = {v.code for v in await repo.villages(ctx.session, ctx.services.commune.id)}
        chosen = [c for c in args.get("villages", []) if c in codes]
        code = choice_id.removeprefix("v:")
        if choice_id.startswith("v:") and code in codes:
            chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
            ctx.goto(self.name, **{**_draft(args), "villages": chosen})
        elif choice_id == "done" and chosen:
            ctx.goto("bc_preview", **{**_draft(args), "villages": chosen})
        else:
            unit = ctx.services.commune.unit_label
            ctx.say(ctx.t("broadcast.villages_needed", unit=unit))
            ctx.goto(self.name, **{**_draft(args), "villages": chosen})


def _quiet_note(ctx: Context) -> str | None:
    """Said when confirming during quiet hours: the outbox holds announcements until
    morning (bot/outbox.py), and the admin should know why nothing arrives yet."""
    settings = ctx.services.scheduler
    if not settings.is_quiet(ctx.now.astimezone(ctx.services.tz).hour):
        return None
    return ctx.t(
        "broadcast.quiet_note",
        start=hour_label(ctx, settings.quiet_start),
        end=hour_label(ctx, settings.quiet_end),
    )


def _draft_broadcast(ctx: Context, args: dict[str, Any]) -> Broadcast:
    """A transient (never added) broadcast, to count and render the draft."""
    return Broadcast(
        commune_id=ctx.services.commune.id,
        text=str(args.get("text", "")),
        image=args.get("image"),
        village_codes=list(args.get("villages", [])),
    )


def _reach_lines(ctx: Context, found: reach.Reach) -> str:
    """Who receives it, on which channels, and who does not and why."""
    fmt = broadcast_service.fmt
    if not found.registered and not found.no_village:
        return ctx.t("broadcast.no_recipients")
    lines = []
    if found.reachable:
        channels = ", ".join(
            ctx.t("broadcast.reach_channel", n=fmt(n), channel=ctx.t(f"channels.{channel}"))
            for channel, n in sorted(found.accounts.items(), key=lambda item: -item[1])
        )
        lines.append(
            ctx.t(
                "broadcast.reach_ok",
                people=fmt(found.reachable),
                accounts=fmt(sum(found.accounts.values())),
                channels=channels,
            )
        )
    elif found.registered:
        lines.append(ctx.t("broadcast.reach_none", registered=fmt(found.registered)))
    else:
        lines.append(ctx.t("broadcast.no_recipients"))
    if found.unreachable:
        lines.append(ctx.t("broadcast.reach_missing", people=fmt(found.unreachable)))
        unit = ctx.services.commune.unit_label
        for key, n in (
            ("broadcast.reach_blocked", found.blocked),
            ("broadcast.reach_no_account", found.no_account),
            ("broadcast.reach_no_village", found.no_village),
        ):
            if n:
                lines.append(ctx.t(key, n=fmt(n), unit=unit))
    return "\n".join(lines)


@screen
class PreviewScreen:
    name = "bc_preview"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, ACTION) or not args.get("text"):
            return refused(ctx)
        draft = _draft_broadcast(ctx, args)
        village_ids = await team_repo.village_ids_for_codes(
            ctx.session, draft.commune_id, draft.village_codes
        )
        found = await reach.of_residents(ctx.session, draft.commune_id, village_ids)
        message = await broadcast_service.announcement(ctx.session, ctx.t, draft)
        image_line = (
            ctx.t("broadcast.preview_image", image=draft.image) + "\n" if draft.image else ""
        )
        text = ctx.t(
            "broadcast.preview",
            message=message.text,
            image_line=image_line,
            target=await self._target(ctx, draft),
            reach=_reach_lines(ctx, found),
        )
        choices = []
        if found.reachable:
            note = _quiet_note(ctx)
            choices.append(ctx.choice("send", "broadcast.send_later" if note else "broadcast.send"))
            if note:
                text += "\n" + note
        choices += [ctx.choice("edit", "broadcast.edit"), cancel_choice(ctx)]
        return Outbound(text, tuple(choices))

    async def _target(self, ctx: Context, draft: Broadcast) -> str:
        if not draft.village_codes:
            return ctx.t("broadcast.target_all", commune=ctx.services.commune.name)
        names = await ctx.session.scalars(
            select(Village.name)
            .where(
                Village.commune_id == ctx.services.commune.id,
                Village.code.in_(draft.village_codes),
            )
            .order_by(Village.position, Village.code)
        )
        return ", ".join(names)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            _cancelled(ctx)
            return
        if not await require(ctx, ACTION) or ctx.person is None:
            return
        if choice_id == "edit":
            ctx.goto("bc_compose", **_draft(args))
            return
        if choice_id != "send" or not args.get("text"):
            ctx.goto(self.name, **_draft(args))
            return
        broadcast = await broadcast_service.create(
            ctx.session,
            commune_id=ctx.services.commune.id,
            person_id=ctx.person.id,
            text=str(args["text"]),
            image=args.get("image"),
            village_codes=list(args.get("villages", [])),
            now=ctx.now,
        )
        _people, accounts = await team_repo.count_recipients(ctx.session, broadcast)
        # The first batch goes with the confirmation; the broadcast worker feeds the rest.
        await broadcast_service.enqueue_next_batch(ctx.session, ctx.t, broadcast, ctx.now)
        note = _quiet_note(ctx)  # at night it waits: "sending now" would not be true
        started = ctx.t(
            "broadcast.scheduled" if note else "broadcast.started",
            id=broadcast.id,
            accounts=broadcast_service.fmt(accounts),
        )
        ctx.say("\n".join(filter(None, (started, note))))
        ctx.goto("admin")
