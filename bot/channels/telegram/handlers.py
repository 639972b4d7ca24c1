"""The aiogram Router: thin handlers that parse and hand the update to the `Intake`
(throttle, one step per chat at a time, replies sent in order off the request).

No exception reaches aiogram except `StepNotRecorded`, on purpose: the webhook answers
5xx and polling keeps its offset, so Telegram delivers the update again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from aiogram import F, Router
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, SendMessage
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update

from bot.channels.base import SendResult, mark_blocked
from bot.channels.intake import Intake, StepNotRecorded
from bot.channels.telegram.inbound import (
    CHANNEL,
    callback_to_inbound,
    message_to_inbound,
)
from bot.channels.telegram.sending import Sender, where
from bot.core.engine import Engine
from bot.core.messages import Outbound

log = logging.getLogger(__name__)

MAX_GROUPS_REMEMBERED = 10_000


class ChatLocks:
    """One lock per chat, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


class SeenGroups:
    """Groups already told that the bot works in private chat (bounded, in memory:
    after a restart a group may be told once more, which is harmless)."""

    def __init__(self, limit: int = MAX_GROUPS_REMEMBERED) -> None:
        self.limit = limit
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, chat_id: int) -> bool:
        if chat_id in self._seen:
            self._seen.move_to_end(chat_id)
            return False
        self._seen[chat_id] = None
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        return True


class Handlers:
    def __init__(
        self,
        engine: Engine,
        sender: Sender,
        intake: Intake | None = None,
        channel: str = CHANNEL,
    ) -> None:
        self.channel = channel  # the bot's name, recorded on its accounts and events
        self.engine = engine
        self.sender = sender
        self.texts = engine.services.texts
        self.intake = intake or Intake(engine)
        self.locks = ChatLocks()  # outbox sends, one chat at a time
        self.groups = SeenGroups()
        self.inflight: set[asyncio.Task[object]] = set()
        self.handled = 0  # updates that reached a handler, for logs and tests
        self.bot_username: str | None = None  # set at start, for the group hint's link

    def router(self) -> Router:
        router = Router(name=self.channel)
        router.message.register(self.on_private_message, F.chat.type == "private")
        router.message.register(self.on_group_message)
        router.channel_post.register(self.on_group_message)
        router.callback_query.register(self.on_callback)
        router.my_chat_member.register(self.on_membership, F.chat.type == "private")
        return router

    async def deliver(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        return await self.sender.deliver(int(external_id), messages)

    # ------------------------------------------------------------------ handlers

    async def on_private_message(self, message: Message, event_update: Update) -> None:
        async def work(done: Callable[[], None]) -> None:
            inbound = message_to_inbound(message, event_update.update_id, self.channel)
            if inbound is None:
                done()
                return
            await self.intake.take(inbound, self.deliver, done=done)

        await self._guarded(message.chat.id, event_update, work)

    async def on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        async def work(done: Callable[[], None]) -> None:
            # Answered at once and whatever happens next: it stops the button's spinner.
            answer = asyncio.ensure_future(
                self.sender.best_effort(AnswerCallbackQuery(callback_query_id=query.id))
            )
            try:
                inbound = callback_to_inbound(query, event_update.update_id, self.channel)
                if inbound is None:
                    done()
                    return

                async def send(external_id: str, messages: Sequence[Outbound]) -> SendResult:
                    # Only for a fresh, handled press: its old buttons go as the reply goes.
                    result, _ = await asyncio.gather(
                        self.deliver(external_id, messages), self._remove_keyboard(query)
                    )
                    return result

                await self.intake.take(inbound, send, done=done)
            finally:  # bounded: a 429 on the answer must not hold Telegram's connection
                await asyncio.wait([answer], timeout=self.intake.send_budget)

        await self._guarded(query.from_user.id, event_update, work)

    async def on_group_message(self, message: Message, event_update: Update) -> None:
        async def work(done: Callable[[], None]) -> None:
            if self.groups.first_time(message.chat.id):
                text = self.texts("telegram.group_only")
                if self.bot_username:
                    link = f"https://t.me/{self.bot_username}"
                    text += "\n" + self.texts("telegram.group_link", link=link)
                request = SendMessage(chat_id=message.chat.id, text=text)
                self.intake.later(
                    ("group", message.chat.id), lambda: self.sender.best_effort(request)
                )
            done()

        await self._guarded(message.chat.id, event_update, work, tell_on_error=False)

    async def on_membership(self, update: ChatMemberUpdated, event_update: Update) -> None:
        """In a private chat, status "kicked" means the person blocked the bot."""

        async def work(done: Callable[[], None]) -> None:
            try:
                if update.new_chat_member.status == "kicked":
                    await mark_blocked(self.engine.database, self.channel, str(update.chat.id))
            finally:
                done()

        await self._guarded(update.chat.id, event_update, work, tell_on_error=False)

    # ------------------------------------------------------------------ helpers

    async def _remove_keyboard(self, query: CallbackQuery) -> None:
        message = query.message
        if not isinstance(message, Message) or message.reply_markup is None:
            return
        await self.sender.best_effort(
            EditMessageReplyMarkup(chat_id=message.chat.id, message_id=message.message_id)
        )

    async def _guarded(
        self,
        chat_id: int,
        update: Update,
        work: Callable[[Callable[[], None]], Awaitable[None]],
        *,
        tell_on_error: bool = True,
    ) -> None:
        """Run `work`; log and apologise instead of raising, except for a step the
        database could not record (Telegram must deliver it again). `work` calls
        `done` once the update is fully dealt with, possibly after returning."""
        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        counted = False

        def done() -> None:
            nonlocal counted
            if not counted:
                counted = True
                self.handled += 1

        try:
            await work(done)
        except StepNotRecorded:
            done()
            raise
        except Exception as exc:
            log.error("telegram update %d failed: %s", update.update_id, where(exc))
            if tell_on_error:
                apology = [Outbound(self.texts("telegram.error"))]
                await self.sender.deliver(chat_id, apology)
            done()
        finally:
            if task is not None:
                self.inflight.discard(task)
