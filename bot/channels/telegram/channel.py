"""The Telegram channel: aiogram in polling or webhook mode, and `send` for the outbox.

    channel = create_telegram_channel(app)
    web_app = build_web_app(app.database, [channel])   # mounts the webhook in that mode
    await channel.start()   # polling task, or setWebhook; plus the command menu
    ...
    await channel.send("123456789", [Outbound("Nhắc bạn học bài mới")])
    await channel.stop()    # stop intake, let in-flight updates finish

`send` skips accounts already marked inactive (they blocked the bot) and returns
BLOCKED without calling Telegram; a fresh 403 marks the account inactive. Writing to
the bot again makes the account active (the engine does that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TypeVar

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import (
    DeleteWebhook,
    GetMe,
    GetUpdates,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.utils.token import TokenValidationError
from aiohttp import web
from sqlalchemy import select

from bot.app import App
from bot.channels.base import SendResult, mark_blocked
from bot.channels.intake import Intake, StepNotRecorded
from bot.channels.telegram.commands import bot_commands
from bot.channels.telegram.handlers import Handlers
from bot.channels.telegram.inbound import CHANNEL
from bot.channels.telegram.sending import (
    GaveUp,
    RetryPolicy,
    Sender,
    install_response_cache,
    where,
)
from bot.channels.telegram.webhook import SECRET_PATTERN, WEBHOOK_PATH, webhook_handler
from bot.channels.throttle import Throttle
from bot.content.loader import default_content_root
from bot.core.messages import Outbound
from config.settings import BotSettings, SettingsError, TelegramSettings
from storage.models import ChannelAccount

log = logging.getLogger(__name__)

T = TypeVar("T")
POLLING_TIMEOUT = 25  # seconds a getUpdates long poll waits for news
BACKOFF_INITIAL = 1.0  # seconds before asking again after a failure; doubles each time
BACKOFF_MAX = 30.0


class TelegramStartupError(RuntimeError):
    """Telegram refused to start the channel (bad token, webhook rejected, unreachable)."""


def check_settings(
    settings: TelegramSettings, where: str = "telegram", path: str = WEBHOOK_PATH
) -> None:
    """Raise SettingsError naming the field (`where`: "telegram" or "bots.<name>"),
    before anything connects."""
    if settings.token is None:
        raise SettingsError(f"{where}.token: not set (HOCVUSO_TELEGRAM__TOKEN)")
    if settings.mode != "webhook":
        return
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        raise SettingsError(
            f"{where}.webhook_secret: required in webhook mode "
            "(HOCVUSO_TELEGRAM__WEBHOOK_SECRET, 1-256 characters A-Z a-z 0-9 _ -)"
        )
    if not SECRET_PATTERN.fullmatch(secret):
        raise SettingsError(
            f"{where}.webhook_secret: use 1-256 characters among A-Z a-z 0-9 _ - only"
        )
    url = settings.webhook_url or ""
    if not url.startswith(("https://", "http://")):
        raise SettingsError(
            f"{where}.webhook_url: required in webhook mode: the public https URL "
            f"ending in {path} (HOCVUSO_TELEGRAM__WEBHOOK_URL)"
        )


def make_bot(settings: TelegramSettings) -> Bot:
    """An aiogram Bot on `settings.api_base` (api.telegram.org or a local server)."""
    assert settings.token is not None  # checked by check_settings
    api = TelegramAPIServer.from_base(settings.api_base.rstrip("/"))
    try:
        return Bot(settings.token.get_secret_value(), session=AiohttpSession(api=api))
    except TokenValidationError:
        raise SettingsError("telegram.token: not a Telegram bot token") from None


class TelegramChannel:
    """One Telegram bot: the legacy `[telegram]` one ("telegram", on /telegram/webhook)
    unless `name`, `settings` and `webhook_path` say which `[[bots]]` entry it is."""

    name = CHANNEL

    def __init__(
        self,
        app: App,
        *,
        bot: Bot | None = None,
        policy: RetryPolicy | None = None,
        drain_timeout: float = 10.0,
        name: str = CHANNEL,
        settings: TelegramSettings | None = None,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        settings = settings or app.settings.telegram
        where = "telegram" if name == CHANNEL else f"bots.{name}"
        check_settings(settings, where, webhook_path)
        self.name = name
        self.webhook_path = webhook_path
        self.app = app
        self.settings = settings
        self.bot = bot or make_bot(settings)
        install_response_cache(self.bot)
        lessons_dir = (app.settings.content_dir or default_content_root()) / "lessons"
        self.sender = Sender(self.bot, lessons_dir, policy)
        self.intake = Intake(app.engine, throttle=Throttle.from_settings(app.settings.fair_use))
        self.handlers = Handlers(app.engine, self.sender, self.intake, name)
        self.dispatcher = Dispatcher(disable_fsm=True)  # state lives in the database
        self.dispatcher.include_router(self.handlers.router())
        self.allowed_updates = self.dispatcher.resolve_used_update_types()
        self.drain_timeout = drain_timeout
        self._polling: asyncio.Task[None] | None = None
        self._accepting = True

    # ------------------------------------------------------------------ Channel

    def routes(self) -> list[web.RouteDef]:
        if self.settings.mode != "webhook":
            return []
        assert self.settings.webhook_secret is not None  # checked by check_settings
        handler = webhook_handler(
            self.bot,
            self.settings.webhook_secret.get_secret_value(),
            self.process,
            lambda: self._accepting,
        )
        return [web.post(self.webhook_path, handler)]

    async def start(self) -> None:
        self._accepting = True
        me = await self._startup(GetMe())
        self.handlers.bot_username = me.username
        services = self.app.engine.services
        services.telegram_usernames[self.name] = me.username  # deep links to this bot
        if self.name == CHANNEL or services.telegram_username is None:
            services.telegram_username = me.username  # for deep links, QR
        commands = bot_commands(self.app.engine.services.texts)
        if not await self.sender.best_effort(SetMyCommands(commands=commands)):
            log.warning("telegram command menu not set; it will be tried at next start")
        if self.settings.mode == "webhook":
            assert self.settings.webhook_secret is not None
            await self._startup(
                SetWebhook(
                    url=self.settings.webhook_url or "",
                    secret_token=self.settings.webhook_secret.get_secret_value(),
                    allowed_updates=self.allowed_updates,
                    drop_pending_updates=False,
                )
            )
            log.info("%s webhook set for @%s", self.name, me.username)
            return
        await self._startup(DeleteWebhook(drop_pending_updates=False))
        self._polling = asyncio.create_task(self._poll(), name=f"{self.name}-polling")
        self._polling.add_done_callback(_log_polling_end)
        log.info("%s polling started for @%s", self.name, me.username)

    async def stop(self) -> None:
        self._accepting = False
        task, self._polling = self._polling, None
        if task is not None and not task.done():
            task.cancel()  # a pending long poll ends now; a batch in progress finishes
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        current = asyncio.current_task()
        pending = {t for t in self.handlers.inflight if t is not current}
        if pending:
            await asyncio.wait(pending, timeout=self.drain_timeout)
        await self.intake.drain(self.drain_timeout)
        await self.bot.session.close()

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        try:
            chat_id = int(external_id)
            if not await self._active(external_id):
                return SendResult.BLOCKED
            async with self.handlers.locks.hold(chat_id):  # in order with conversations
                result = await self.handlers.deliver(external_id, messages)
            if result is SendResult.BLOCKED:
                await mark_blocked(self.app.database, self.name, external_id)
            return result
        except Exception as exc:  # bad id, database down...: report, never raise
            log.warning("telegram send failed: %s", where(exc))
            return SendResult.FAILED

    # ------------------------------------------------------------------ internals

    async def process(self, update: Update) -> bool:
        """Run one update through the router (webhook and polling). False when the
        step could not be recorded and Telegram should deliver the update again."""
        try:
            update.event_type  # noqa: B018  (raises for kinds newer than this aiogram)
        except UpdateTypeLookupError:
            log.info("telegram update %d of an unknown kind ignored", update.update_id)
            return True
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except StepNotRecorded:
            return False
        except Exception as exc:  # handlers catch everything; this is a last guard
            log.error("telegram update %d not processed: %s", update.update_id, where(exc))
        return True

    async def _poll(self) -> None:
        """getUpdates in a loop. The offset moves past an update only once its step is
        recorded: after an outage, Telegram hands back the first unrecorded update and
        those after it (the recorded ones are then dropped as duplicates)."""
        offset: int | None = None
        delay = BACKOFF_INITIAL
        while True:
            try:
                updates = await self.bot(
                    GetUpdates(
                        offset=offset,
                        timeout=POLLING_TIMEOUT,
                        allowed_updates=self.allowed_updates,
                    ),
                    request_timeout=POLLING_TIMEOUT + 10,
                )
            except Exception as exc:  # network, 409 conflict, 5xx: wait and ask again
                log.warning("telegram getUpdates failed: %s; next try in %.0fs", where(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if not updates:
                continue
            # In arrival order: each chat's steps take its lock in that order.
            batch = asyncio.ensure_future(asyncio.gather(*(self.process(u) for u in updates)))
            self.handlers.inflight.add(batch)
            batch.add_done_callback(self.handlers.inflight.discard)
            taken = await asyncio.shield(batch)  # stop() lets a batch finish
            refused = [u.update_id for u, ok in zip(updates, taken, strict=True) if not ok]
            if not refused:
                offset = updates[-1].update_id + 1
                delay = BACKOFF_INITIAL
                continue
            offset = min(refused)
            log.warning(
                "%d telegram updates not recorded; asking for them again in %.0fs",
                len(refused), delay,
            )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _active(self, external_id: str) -> bool:
        async with self.app.database.session() as session:
            active = await session.scalar(
                select(ChannelAccount.active).where(
                    ChannelAccount.channel == self.name, ChannelAccount.external_id == external_id
                )
            )
        return active is not False  # unknown accounts are tried

    async def _startup(self, method: TelegramMethod[T]) -> T:
        try:
            return await self.sender.call(method)
        except (GaveUp, TelegramAPIError) as exc:
            cause = exc.__cause__ if isinstance(exc, GaveUp) else exc
            if isinstance(cause, TelegramUnauthorizedError):
                where = "HOCVUSO_TELEGRAM__TOKEN" if self.name == CHANNEL else f"bots.{self.name}"
                raise TelegramStartupError(
                    f"Telegram rejected the bot token (401): check {where}"
                ) from None
            detail = cause.message if isinstance(cause, TelegramAPIError) else type(cause).__name__
            name = type(method).__name__
            raise TelegramStartupError(f"Telegram {name} failed: {detail}") from None


def _log_polling_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("telegram polling stopped: %s", where(task.exception()))  # type: ignore[arg-type]


def create_telegram_channel(app: App, bot: BotSettings | None = None) -> TelegramChannel:
    """The legacy `[telegram]` bot, or the `[[bots]]` entry `bot` (POST /webhook/<name>)."""
    if bot is None:
        return TelegramChannel(app)
    return TelegramChannel(
        app, name=bot.name, settings=bot.as_telegram(), webhook_path=bot.webhook_path
    )
