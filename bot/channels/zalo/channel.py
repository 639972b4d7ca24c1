"""The Zalo channel: receive updates (long polling or webhook), let the engine answer,
send the reply as numbered text.

- Polling (development): a task loops `getUpdates`; 408 means "nothing yet"; errors back
  off exponentially; `stop()` cancels the long poll at once.
- Webhook: `POST /zalo/webhook` (a `[[bots]]` entry: `POST /webhook/<name>`) on the
  shared web app. The `X-Bot-Api-Secret-Token`
  header must equal `zalo.webhook_secret` (constant-time compare) or the call gets 401
  and changes nothing. Wrapped `{ok, result}` and bare bodies are both accepted.
- Redelivery is undocumented, so the message id is the update key and the engine drops
  duplicates. Updates of one person are handled one at a time, in arrival order, by
  the shared `Intake` (fair-use throttle, replies sent off the request).
- A step the database could not record gets 503 on the webhook (the platform may
  deliver it again); a polled update cannot come back, so its sender is told once.
- Logs carry no token, no message text and no account id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.app import App
from bot.channels.base import SendResult
from bot.channels.body import loads
from bot.channels.intake import Intake, StepNotRecorded
from bot.channels.throttle import Throttle
from bot.channels.zalo import TRAITS
from bot.channels.zalo.client import (
    SECRET_TOKEN_MAX,
    SECRET_TOKEN_MIN,
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloUnauthorized,
)
from bot.channels.zalo.inbound import CHANNEL, MAX_KEY, is_private, to_inbound
from bot.channels.zalo.render import render_parts
from bot.channels.zalo.updates import ZaloUpdate, parse_update
from bot.core.engine import Engine
from bot.core.messages import Outbound
from config.settings import BotSettings, FairUseSettings, ZaloSettings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TOLD_GROUPS = 10_000  # group chats already told "private chats only" (memory bound)


class ZaloConfigError(ValueError):
    """The Zalo settings cannot work; the message names the setting to fix."""


class ZaloChannel:
    """One Zalo bot: the legacy `[zalo]` one ("zalo", on /zalo/webhook) unless `name`
    and `webhook_path` say which `[[bots]]` entry it is."""

    name = CHANNEL

    def __init__(
        self,
        engine: Engine,
        client: ZaloClient,
        settings: ZaloSettings,
        *,
        poll_timeout: int = 30,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        stop_timeout: float = 10.0,
        fair_use: FairUseSettings | None = None,
        name: str = CHANNEL,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        self.name = name
        self.webhook_path = webhook_path
        self.where = "zalo" if name == CHANNEL else f"bots.{name}"  # in setting errors
        self.engine = engine
        self.client = client
        self.settings = settings
        self.poll_timeout = poll_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stop_timeout = stop_timeout
        self.updates_handled = 0  # finished updates (answered, dropped or failed)
        self._texts = engine.services.texts
        self.intake = Intake(engine, throttle=Throttle.from_settings(fair_use or FairUseSettings()))
        self._tasks: set[asyncio.Task[bool]] = set()
        self._poll_task: asyncio.Task[None] | None = None
        self._told_groups: set[str] = set()
        self._stopping = False

    # -- Channel protocol ------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        if self.settings.mode != "webhook":
            return []
        return [web.post(self.webhook_path, self._webhook)]

    async def start(self) -> None:
        self._stopping = False
        if self.settings.mode == "webhook":
            url, secret = self._webhook_config()
            await self.client.set_webhook(url, secret)
            log.info("Zalo webhook registered")
            return
        try:
            await self.client.delete_webhook()  # getUpdates is refused while one is set
        except ZaloUnauthorized:
            raise ZaloConfigError(
                f"{self.where}.token was refused by Zalo (401): check it"
            ) from None
        except ZaloError as exc:  # the loop below backs off until Zalo answers
            log.warning("Zalo deleteWebhook failed (%s)", type(exc).__name__)
        self._poll_task = asyncio.create_task(self._poll(), name=f"{self.name}-polling")
        log.info("Zalo polling started")

    async def stop(self) -> None:
        self._stopping = True
        if self._poll_task is not None:
            self._poll_task.cancel()  # a pending long poll ends now, not in 30 s
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.stop_timeout)
        await self.intake.drain(self.stop_timeout)
        await self.client.close()

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        """Send in order. Never raises: BLOCKED on 403, FAILED once the client's own
        retries are spent (429, network, 5xx). The caller marks a blocked account
        (`converse` does) so that nothing more is sent to it."""
        parts = render_parts(messages, self._texts, self.settings.media_base_url)
        try:
            for part in parts:
                if part.photo is not None:
                    await self._send_photo(external_id, part.photo)
                elif part.text:
                    await self.client.send_message(external_id, part.text)
        except ZaloForbidden:
            log.info("Zalo refused delivery (403): the account counts as blocked")
            return SendResult.BLOCKED
        except (ZaloError, ValueError) as exc:
            code = getattr(exc, "error_code", None)
            log.warning("Zalo send failed (%s, code %s)", type(exc).__name__, code)
            return SendResult.FAILED
        return SendResult.SENT

    # -- receiving -------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        if not self._secret_ok(request.headers.get(SECRET_HEADER)):
            return web.json_response({"ok": False, "description": "unauthorized"}, status=401)
        if self._stopping:  # the platform may deliver again, to a running process
            return web.json_response({"ok": False, "description": "stopping"}, status=503)
        try:
            body: Any = await request.json(loads=loads)
        except ValueError:  # JSON and UTF-8 decoding errors
            body = None
        update = parse_update(body)
        if update is None:
            return web.json_response({"ok": False, "description": "malformed update"}, status=400)
        # Shielded: a platform that hangs up early must not cut a step in half. A 503
        # brings the update again where the declaration says the platform redelivers.
        redeliverable = TRAITS.redelivers_on_5xx
        if not await asyncio.shield(self._dispatch(update, redeliverable=redeliverable)):
            return web.json_response({"ok": False, "description": "try again"}, status=503)
        return web.json_response({"ok": True})

    def _secret_ok(self, given: str | None) -> bool:
        expected = self.settings.webhook_secret
        if expected is None or given is None:
            return False
        return hmac.compare_digest(
            given.encode(errors="replace"), expected.get_secret_value().encode()
        )

    async def _poll(self) -> None:
        delay = self.backoff_initial
        while True:
            try:
                raw = await self.client.get_updates(timeout=self.poll_timeout)
            except Exception as exc:  # ZaloError after the client's retries, or a bug
                code = getattr(exc, "error_code", None)
                log.warning(
                    "Zalo getUpdates failed (%s, code %s); next try in %.1fs",
                    type(exc).__name__, code, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            if raw is None:  # 408: nothing arrived during the long poll
                continue
            update = parse_update(raw)
            if update is None:
                log.warning("malformed Zalo update dropped")
                continue
            self._dispatch(update, redeliverable=False)

    def _dispatch(self, update: ZaloUpdate, *, redeliverable: bool = False) -> asyncio.Task[bool]:
        task = asyncio.create_task(self._process(update, redeliverable))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _process(self, update: ZaloUpdate, redeliverable: bool) -> bool:
        """Handle one update; False when its step was not recorded and may come again."""
        counted = False

        def done() -> None:  # once the reply is sent (or given up), maybe after return
            nonlocal counted
            if not counted:
                counted = True
                self.updates_handled += 1

        try:
            if not is_private(update):
                await self._answer_group(update)
            elif len(update.user_id) > MAX_KEY:
                log.warning("Zalo update dropped: sender id longer than %d", MAX_KEY)
            else:
                inbound = to_inbound(update, self.name)
                await self.intake.take(inbound, self.send, redeliverable=redeliverable, done=done)
                return True
        except StepNotRecorded:
            done()
            return False
        except Exception as exc:
            # Only the type: database errors quote parameters, which may be personal.
            log.error("Zalo update could not be handled (%s)", type(exc).__name__)
        done()
        return True

    async def _answer_group(self, update: ZaloUpdate) -> None:
        """The bot serves private chats only; say so once per group, store nothing."""
        if update.chat_id in self._told_groups:
            return
        if len(self._told_groups) >= MAX_TOLD_GROUPS:
            self._told_groups.clear()
        self._told_groups.add(update.chat_id)
        await self.send(update.chat_id, [Outbound(self._texts("zalo.private_only"))])

    # -- helpers ---------------------------------------------------------------------

    async def _send_photo(self, chat_id: str, url: str) -> None:
        """A photo that fails (bad URL, file gone) must not cost the lesson's text."""
        try:
            await self.client.send_photo(chat_id, url)
        except ZaloForbidden:
            raise
        except ZaloError as exc:
            log.warning("Zalo photo not sent (%s); sending the text", type(exc).__name__)

    def _webhook_config(self) -> tuple[str, str]:
        url = self.settings.webhook_url
        secret = self.settings.webhook_secret
        if secret is None or not secret.get_secret_value():
            raise ZaloConfigError(
                f"{self.where}.webhook_secret (HOCVUSO_ZALO__WEBHOOK_SECRET) is required "
                "in webhook mode"
            )
        value = secret.get_secret_value()
        if not SECRET_TOKEN_MIN <= len(value) <= SECRET_TOKEN_MAX:
            raise ZaloConfigError(
                f"{self.where}.webhook_secret must be "
                f"{SECRET_TOKEN_MIN}-{SECRET_TOKEN_MAX} characters"
            )
        if not url:
            raise ZaloConfigError(
                f"{self.where}.webhook_url (HOCVUSO_ZALO__WEBHOOK_URL) is required in "
                f"webhook mode: the public https URL ending in {self.webhook_path}"
            )
        return url, value


def create_zalo_channel(
    app: App, bot: BotSettings | None = None, *, client: ZaloClient | None = None
) -> ZaloChannel:
    """The Zalo channel from `app.settings.zalo`, or of the `[[bots]]` entry `bot`
    (POST /webhook/<name>); `client` lets tests tune retries."""
    settings = app.settings.zalo if bot is None else bot.as_zalo()
    if client is None:
        if settings.token is None:
            raise ZaloConfigError("zalo.token (HOCVUSO_ZALO__TOKEN) is not set")
        client = ZaloClient(
            settings.token.get_secret_value(),
            api_base=settings.api_base,
            messages_per_second=settings.messages_per_second,
        )
    if bot is None:
        return ZaloChannel(app.engine, client, settings, fair_use=app.settings.fair_use)
    return ZaloChannel(
        app.engine,
        client,
        settings,
        fair_use=app.settings.fair_use,
        name=bot.name,
        webhook_path=bot.webhook_path,
    )
