"""The webhook endpoint Telegram posts updates to (mounted on the shared web app).

401 for a missing or wrong secret token (compared in constant time), 400 for a body
that is not JSON or not an Update; otherwise the update is processed, then 200, or
503 when its step could not be recorded (database unavailable): Telegram retries.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.channels.body import loads

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts

Handler = Callable[[web.Request], Awaitable[web.Response]]


def webhook_handler(
    bot: Bot,
    secret: str,
    process: Callable[[Update], Awaitable[bool]],
    accepting: Callable[[], bool],
) -> Handler:
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        if not accepting():  # stopping: Telegram keeps the update and retries later
            return web.Response(status=503)
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401)
        try:
            data = loads(await request.read())
            update = Update.model_validate(data, context={"bot": bot})
        except (ValueError, ValidationError, RecursionError):  # JSON errors are ValueErrors
            return web.Response(status=400)
        # Shielded: a platform that hangs up early must not cut a step in half.
        if not await asyncio.shield(process(update)):
            return web.Response(status=503)
        return web.Response(status=200)

    return handle
