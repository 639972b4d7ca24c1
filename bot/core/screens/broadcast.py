"""An admin composes an announcement: text, optional photo link, the whole commune or
chosen villages, a preview with the recipient count, then confirm. Sending is the
outbox's job (bot/team/broadcast_service.py). The draft lives in the screen args only;
nothing is stored until it is confirmed."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.roles import can, deny, require
from bot.core.screens import screen
from bot.core.screens.reminders import hour_label
from bot.core.screens.team import refused
from bot.core.screens.typed import accepts_text
from bot.operations import actor_in_chat
from bot.operations import broadcasts as ops
from bot.team import broadcast_service
from storage import reach, repo

# Telegram captions stop at 1,024 characters; the header takes a line of its own.
MAX_TEXT = ops.MAX_TEXT
MAX_IMAGE_URL = ops.MAX_IMAGE_URL
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
        if not ops.valid_image(url):
            ctx.say(ctx.t("broadcast.image_bad"))
            return
        ctx.goto("bc_target", **{**_draft(args), "image": url})


@screen
class TargetScreen:
    name = "bc_target"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, ACTION):
            return refused(ctx)
        commune = ctx.commune
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
            for v in await repo.villages(ctx.session, ctx.commune.id)
        ]
        choices += [ctx.choice("done", "broadcast.villages_done"), cancel_choice(ctx)]
        unit = ctx.commune.unit_label
        return Outbound(ctx.t("broadcast.villages_ask", unit=unit), tuple(choices), columns=2)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            _cancelled(ctx)
            return
        if not await require(ctx, ACTION):
            return
        codes = {v.code for v in await repo.villages(ctx.session, ctx.commune.id)}
        chosen = [c for c in args.get("villages", []) if c in codes]
        code = choice_id.removeprefix("v:")
        if choice_id.startswith("v:") and code in codes:
            chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
            ctx.goto(self.name, **{**_draft(args), "villages": chosen})
        elif choice_id == "done" and chosen:
            ctx.goto("bc_preview", **{**_draft(args), "villages": chosen})
        else:
            unit = ctx.commune.unit_label
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
        unit = ctx.commune.unit_label
        for key, n in (
            ("broadcast.reach_blocked", found.blocked),
            ("broadcast.reach_no_account", found.no_account),
            ("broadcast.reach_no_village", found.no_village),
        ):
            if n:
                lines.append(ctx.t(key, n=fmt(n), unit=unit))
    return "\n".join(lines)


async def _prepare(ctx: Context, args: dict[str, Any]) -> ops.Preview | None:
    actor = await actor_in_chat(ctx)
    if actor is None:
        return None
    try:
        return await ops.prepare(ctx.session, actor, ctx.commune, **_fields(ctx, args))
    except (ops.NotAllowed, ops.BadDraft):
        return None


def _fields(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "text": str(args.get("text", "")),
        "image": args.get("image"),
        "village_codes": list(args.get("villages", [])),
        "now": ctx.now,
        "texts": ctx.t,
        "scheduler": ctx.services.scheduler,
        "tz": ctx.services.tz,
    }


@screen
class PreviewScreen:
    name = "bc_preview"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        preview = await _prepare(ctx, args)
        if preview is None:
            return refused(ctx)
        image = preview.draft.image
        image_line = ctx.t("broadcast.preview_image", image=image) + "\n" if image else ""
        text = ctx.t(
            "broadcast.preview",
            message=preview.message,
            image_line=image_line,
            target=preview.target,
            reach=_reach_lines(ctx, preview.reach),
        )
        choices = []
        if preview.reach.reachable:
            note = _quiet_note(ctx)
            choices.append(ctx.choice("send", "broadcast.send_later" if note else "broadcast.send"))
            if note:
                text += "\n" + note
        choices += [ctx.choice("edit", "broadcast.edit"), cancel_choice(ctx)]
        return Outbound(text, tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            _cancelled(ctx)
            return
        if not await require(ctx, ACTION) or ctx.person is None:
            return
        if choice_id == "edit":
            ctx.goto("bc_compose", **_draft(args))
            return
        actor = await actor_in_chat(ctx)
        if choice_id != "send" or not args.get("text") or actor is None:
            ctx.goto(self.name, **_draft(args))
            return
        try:
            broadcast, accounts = await ops.confirm(
                ctx.session, actor, ctx.commune, **_fields(ctx, args)
            )
        except ops.NotAllowed:
            deny(ctx, ACTION)
            return
        except ops.BadDraft:
            ctx.goto(self.name, **_draft(args))
            return
        note = _quiet_note(ctx)  # at night it waits: "sending now" would not be true
        started = ctx.t(
            "broadcast.scheduled" if note else "broadcast.started",
            id=broadcast.id,
            accounts=broadcast_service.fmt(accounts),
        )
        ctx.say("\n".join(filter(None, (started, note))))
        ctx.goto("admin")
