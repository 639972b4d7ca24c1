"""The conversation engine: one inbound event -> one transaction -> outbound messages.

The engine owns the unit of work. It commits before returning, so a channel sends the
reply only after the step is recorded; a failed send never loses the step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.core import resume, screens
from bot.core.clean import shown_name
from bot.core.communes import CommuneRef
from bot.core.context import Context, Services
from bot.core.matching import understand
from bot.core.messages import Choice, Inbound, Kind, Outbound, Reply
from storage import replies, repo
from storage.db import Database
from storage.models import ChannelAccount, Person
from storage.outage import is_outage

log = logging.getLogger(__name__)

# Screens that make no sense before consent; reaching one without a person shows the menu.
NEEDS_PERSON = {"progress", "mydata", "delete_confirm"}
# The one screen shown while a resident of a bot serving several communes has not said
# which commune is theirs (bot/core/screens/commune.py).
COMMUNE_SCREEN = "commune"


class Engine:
    def __init__(self, database: Database, services: Services) -> None:
        self.database = database
        self.services = services
        self.screens = screens.load_all()

    async def handle(self, inbound: Inbound) -> Reply:
        """Process one inbound event. Never raises for bad input. When the database
        cannot record the step, nothing is kept and the reply says `retry` (with a
        polite apology for channels whose platform will not deliver the update again)."""
        try:
            try:
                return await self._handle(inbound)
            except IntegrityError:
                # A concurrent step won a race on a unique row (two first messages
                # creating the same account): it has committed now, so go again once.
                log.info("step collided; retrying", extra={"channel": inbound.channel})
                return await self._handle(inbound)
        except repo.DuplicateUpdate:
            # Processed before, or a concurrent copy won. The transaction rolled back.
            return await self._redelivered(inbound)
        except Exception as exc:
            if is_outage(exc):
                # Expected (server down, connection cut, disk full, read-only): one line.
                log.warning(
                    "step not recorded, database unavailable (%s, channel=%s)",
                    type(exc).__name__, inbound.channel,
                )  # fmt: skip
                return Reply([Outbound(self.services.texts("common.db_down"))], retry=True)
            # A bug must never show a resident a stack trace or silence. The transaction
            # has rolled back, so the resident can simply try again or go to /menu.
            log.exception("unexpected error handling an update (channel=%s)", inbound.channel)
            return Reply([Outbound(self.services.texts("common.error"))])

    async def confirm_sent(self, sent: Sequence[tuple[str, str]]) -> None:
        """The channel sent these steps' replies ((channel, update key) pairs): forget
        the stored copies. Channels batch them: one transaction for many steps."""
        if not sent:
            return
        try:
            async with self.database.transaction() as session:
                await replies.confirm_sent(session, sent)
        except Exception as exc:  # at worst a redelivery within the window re-sends one
            log.warning("replies sent but not marked sent (%s)", type(exc).__name__)

    async def _redelivered(self, inbound: Inbound) -> Reply:
        """A key seen before: re-send its reply if it was recorded but never confirmed
        sent (the process died between commit and send), else nothing."""
        assert inbound.update_key is not None  # only keyed updates can be duplicates
        try:
            async with self.database.transaction() as session:
                stored = await replies.take_unsent(
                    session, inbound.channel, inbound.update_key, self.services.clock()
                )
        except replies.TooSoon:
            # Its reply may be on its way from another process (or the step's commit
            # looked failed but went through): ask for it again once that is settled.
            log.info(
                "redelivered before its reply was confirmed", extra={"channel": inbound.channel}
            )
            return Reply(duplicate=True, retry=True)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("redelivery not checked, database unavailable (%s)", type(exc).__name__)
            return Reply([Outbound(self.services.texts("common.db_down"))], retry=True)
        if stored is None:
            log.info("duplicate update ignored", extra={"channel": inbound.channel})
            return Reply(duplicate=True)
        log.info(
            "unsent reply of a redelivered update sent again", extra={"channel": inbound.channel}
        )
        return Reply([_decode(m) for m in stored], stored=True)

    async def _handle(self, inbound: Inbound) -> Reply:
        now = self.services.clock()
        async with self.database.transaction() as session:
            # Claims the update key first: one seen before raises DuplicateUpdate.
            account, person = await repo.open_step(
                session, inbound.channel, inbound.user_id, inbound.update_key, now
            )
            ctx = Context(
                session=session,
                services=self.services,
                account=account,
                person=person,
                channel=inbound.channel,
                now=now,
                display_name=inbound.display_name,
                commune_or_none=self._commune_of(account, person, inbound.channel),
                database=self.database,
            )
            await self._dispatch(ctx, inbound)
            final = await self._finish(ctx)
            stored = inbound.update_key is not None and bool(final)
            if stored:
                # Committed with the step, so a crash before the send loses no reply.
                await replies.store(
                    session,
                    inbound.channel,
                    str(inbound.update_key),
                    [_encode(m) for m in final],
                    reply_to=account.external_id,
                )
        # Work too slow or too big for the update's transaction (building a report
        # document) runs after the commit; its messages go before the screen's own.
        for task in ctx.after_commit:
            extra = await task()
            final[-1:-1] = extra
        return Reply(final, stored=stored)

    def _commune_of(
        self, account: ChannelAccount, person: Person | None, channel: str
    ) -> CommuneRef | None:
        """The person's commune; before consent the account's, or the bot's only one."""
        communes = self.services.communes
        if person is not None:
            return communes.get(person.commune_id)
        found = communes.get(account.commune_id)
        if found is None:
            served = communes.served_by(channel)
            if len(served) == 1:
                found = served[0]
                account.commune_id = found.id
        return found

    async def _dispatch(self, ctx: Context, inbound: Inbound) -> None:
        state = ctx.account.screen or {}
        text = (inbound.text or "").strip()
        if ctx.commune_or_none is None:
            # A poster code (`xa_<code>`), as a deep link or typed, settles the commune.
            coded = inbound.payload if inbound.kind is Kind.START else text.removeprefix("/start")
            found = self.services.communes.from_code(ctx.channel, coded or "")
            if found is not None:
                ctx.settle_commune(found)
                await self._start(ctx, None)
                return
        if inbound.kind is Kind.START or text == "/start" or text.startswith("/start "):
            payload = inbound.payload or text.removeprefix("/start").strip() or None
            await self._start(ctx, payload)
            return
        if inbound.kind is Kind.TEXT and text and not text.startswith("/"):
            for hook in screens.TEXT_HOOKS:  # codes: invites, account links, referrals
                if await hook(ctx, text, state):
                    return
        if not state.get("name"):
            # First contact without /start (Zalo always, Telegram sometimes).
            await self._start(ctx, None)
            return
        if not text.startswith("/"):
            # Content edited or removed under the resident (a quiz shortened while they
            # were on its last question): the input was meant for a screen that no
            # longer exists, so say so once and show its fresh version instead.
            redirect = await screens.stale_redirect(ctx, state["name"], state.get("args", {}))
            if redirect is not None:
                ctx.say(ctx.t(redirect.notice_key))
                ctx.goto(redirect.name, **redirect.args)
                return
        if inbound.kind is Kind.MEDIA:
            ctx.say(ctx.t("common.media"))
            return
        if inbound.kind is Kind.CONTACT:
            ctx.say(ctx.t("common.contact"))
            return
        offered = [Choice(choice_id, label) for choice_id, label in state.get("offered", [])]
        if inbound.kind is Kind.CHOICE:
            chosen = next((c for c in offered if c.id == inbound.payload), None)
            if chosen is None:
                ctx.say(ctx.t("common.stale"))
                return
            await self._choose(ctx, state, chosen.id)
            return
        if len(text) > self.services.max_text_chars:
            ctx.say(ctx.t("common.too_long"))
            return
        if text.startswith("/"):
            await self._command(ctx, text)
            return
        understood = understand(text, offered)
        if understood.choice is not None:
            await self._choose(ctx, state, understood.choice.id)
        elif understood.ambiguous:
            # Never guess between two actions: ask back, naming each with its number.
            options = [f"“{c.label}” (số {offered.index(c) + 1})" for c in understood.candidates]
            ctx.say(ctx.t("common.ambiguous", options=ctx.t.either(options)))
        elif not text:
            ctx.say(ctx.t("common.empty"))
        elif understood.out_of_range:  # "12" on six lines: say which numbers there are
            last = len(offered)
            key = "common.out_of_range" if last > 1 else "common.only_one"
            ctx.say(ctx.t(key, last=last))
        else:
            hint = "common.not_understood_numbers" if offered else "common.not_understood"
            ctx.say(ctx.t(hint))

    async def _start(self, ctx: Context, payload: str | None) -> None:
        if payload:
            prefix = payload.split("_", 1)[0]
            hook = screens.START_HOOKS.get(prefix)
            if hook is not None and await hook(ctx, payload):
                return
        if ctx.commune_or_none is None:  # a bot serving several communes: ask which
            ctx.goto(COMMUNE_SCREEN, source=payload, first=True)
        elif ctx.person is None:
            ctx.goto("consent", first=True, source=payload)
        else:
            name = shown_name(ctx.person.display_name)
            if name:
                ctx.say(ctx.t("common.welcome_back", name=name))
            else:
                ctx.say(ctx.t("common.welcome_back_anonymous"))
            ctx.goto("menu")

    async def _command(self, ctx: Context, text: str) -> None:
        name = text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else ""
        command = screens.COMMANDS.get(name)
        if ctx.commune_or_none is None:
            ctx.goto(COMMUNE_SCREEN)  # nothing works before the commune is known
        elif command is None:
            ctx.say(ctx.t("common.unknown_command"))
        elif command.needs_person and ctx.person is None:
            ctx.say(ctx.t("common.needs_consent"))
        elif command.guard is not None and not await command.guard(ctx):
            ctx.say(ctx.t(command.denied_key))
        else:
            ctx.goto(command.screen, **command.args)
            rest = text.split(maxsplit=1)[1:]
            if rest and command.typed is not None:
                await command.typed(ctx, rest[0])

    async def _choose(self, ctx: Context, state: dict[str, Any], choice_id: str) -> None:
        handler = self.screens[state["name"]]
        await handler.choose(ctx, dict(state.get("args", {})), choice_id)
        if ctx.next_screen is None and not ctx.account_deleted:
            ctx.goto(state["name"], **state.get("args", {}))

    async def _finish(self, ctx: Context) -> list[Outbound]:
        """Render the screen to show now and remember it, with the choices it offers."""
        if ctx.account_deleted:
            return ctx.out
        if ctx.next_screen is None:  # nothing moved: show the current screen again
            state = ctx.account.screen or {}
            ctx.next_screen = (state.get("name") or "menu", state.get("args", {}))
        name, args = ctx.next_screen
        if name in NEEDS_PERSON and ctx.person is None:
            name, args = "menu", {}
        if ctx.commune_or_none is None and ctx.person is not None:  # linked in this step
            ctx.commune_or_none = self.services.communes.get(ctx.person.commune_id)
        if ctx.commune_or_none is None and name != COMMUNE_SCREEN:
            name, args = COMMUNE_SCREEN, {}
        for _ in range(3):  # a redirect leads to a fresh screen; the bound is a guard
            redirect = await screens.stale_redirect(ctx, name, args)
            if redirect is None:
                break
            ctx.say(ctx.t(redirect.notice_key))
            name, args = redirect.name, redirect.args
        view = await self.screens[name].render(ctx, args)
        ctx.out.append(view)
        screen = {
            "name": name,
            "args": args,
            "offered": [[choice.id, choice.label] for choice in view.choices],
        }
        await repo.save_screen(ctx.session, ctx.account, screen, ctx.now)  # and seen now
        await resume.remember(ctx, name, args)
        return ctx.out


def _encode(message: Outbound) -> dict[str, Any]:
    """A reply as JSON to keep with the step (documents are built after the commit and
    are not kept: a re-sent reply carries the screen, not the file)."""
    return {
        "text": message.text,
        "choices": [[c.id, c.label] for c in message.choices],
        "image": message.image,
        "columns": message.columns,
    }


def _decode(data: dict[str, Any]) -> Outbound:
    return Outbound(
        text=str(data.get("text", "")),
        choices=tuple(Choice(str(i), str(label)) for i, label in data.get("choices", [])),
        image=data.get("image"),
        columns=int(data.get("columns", 1)),
    )
