"""Sending to Telegram under its rules: wait out 429s, back off on transient errors.

`Sender.deliver` never raises: it returns SENT, BLOCKED (403: the person blocked the
bot) or FAILED (gave up after bounded retries, or Telegram refused the request).
Logs carry error types and Telegram's description, never texts, names or the token.
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, FSInputFile, LinkPreviewOptions, Message

from bot.channels.base import SendResult
from bot.channels.telegram.render import TelegramMessage, render
from bot.core.messages import Outbound

log = logging.getLogger(__name__)

T = TypeVar("T")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # lesson cards stand on their own
MAX_PHOTO_IDS = 1000


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # per API call, the first try included
    base_delay: float = 0.5  # transient errors wait 0.5, 1, 2, 4 s (plus jitter)
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a longer flood wait is not waited out in line


# aiogram parses every answer with `Response[method.__returning__]`, a pydantic generic
# model built on first use. pydantic caches such classes only weakly, so each time the
# garbage collector takes one (often, under load) the next call builds the class and
# its validator again: 1-3 ms, on about one call in twelve in bench.telegram. Holding
# them here makes every call after the first a cache hit.
_RESPONSE_TYPES: dict[Any, Any] = {}


async def keep_response_types(
    make_request: NextRequestMiddlewareType[T], bot: Bot, method: TelegramMethod[T]
) -> Any:
    """aiogram request middleware: keep the response model of each method alive."""
    returning = method.__returning__
    if returning not in _RESPONSE_TYPES:
        _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
    return await make_request(bot, method)


def install_response_cache(bot: Bot) -> None:
    """Register `keep_response_types` on the bot's session (once)."""
    if keep_response_types not in bot.session.middleware:
        bot.session.middleware(keep_response_types)


class GaveUp(Exception):
    """A call failed for good: retries exhausted or the request itself is refused."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, TelegramEntityTooLarge):
        return False
    return isinstance(exc, TelegramServerError | TelegramNetworkError | ClientDecodeError)


class Sender:
    def __init__(
        self,
        bot: Bot,
        lessons_dir: Path,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.lessons_dir = lessons_dir
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._photo_ids: dict[tuple[str, int, int], str] = {}  # sent once, then by file_id

    async def call(self, method: TelegramMethod[T]) -> T:
        """Run one API call with retries. Raises TelegramForbiddenError or GaveUp."""
        policy = self.policy
        name = type(method).__name__
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                return await self.bot(method)
            except TelegramRetryAfter as exc:
                if last or exc.retry_after > policy.max_retry_after:
                    log.warning("%s: flood wait %ss, giving up", name, exc.retry_after)
                    raise GaveUp(name) from exc
                log.info("%s: 429, waiting %ss (attempt %d)", name, exc.retry_after, attempt)
                await self._sleep(exc.retry_after)
            except TelegramForbiddenError:
                raise
            except Exception as exc:
                if last or not _transient(exc):
                    log.warning("%s failed: %s %s", name, type(exc).__name__, _describe(exc))
                    raise GaveUp(name) from exc
                # Exponential, with jitter so that many chats do not retry in step.
                delay = policy.base_delay * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)
                delay = min(policy.max_delay, delay)
                log.info("%s: %s, retrying in %.1fs", name, type(exc).__name__, delay)
                await self._sleep(delay)
        raise GaveUp(name)  # not reached: the last attempt returns or raises

    async def best_effort(self, method: TelegramMethod[Any]) -> bool:
        """One try, errors logged and swallowed (answerCallbackQuery, keyboard removal)."""
        try:
            await self.bot(method)
        except Exception as exc:
            log.info("%s skipped: %s %s", type(method).__name__, type(exc).__name__, _describe(exc))
            return False
        return True

    async def deliver(self, chat_id: int, messages: Sequence[Outbound]) -> SendResult:
        """Send the messages in order; the outcome of the whole batch."""
        try:
            for outbound in messages:
                for part in render(outbound, self.lessons_dir):
                    await self._send(chat_id, part)
        except TelegramForbiddenError:
            return SendResult.BLOCKED
        except GaveUp:
            return SendResult.FAILED
        except Exception as exc:  # a bug (e.g. a choice id too long): never raise
            log.error("telegram delivery failed: %s", where(exc))
            return SendResult.FAILED
        return SendResult.SENT

    async def _send(self, chat_id: int, part: TelegramMessage) -> None:
        if part.document is not None:
            document = BufferedInputFile(part.document.data, filename=part.document.filename)
            await self.call(
                SendDocument(
                    chat_id=chat_id,
                    document=document,
                    caption=part.text or None,
                    reply_markup=part.keyboard,
                )
            )
            return
        if part.photo is None:
            await self.call(
                SendMessage(
                    chat_id=chat_id,
                    text=part.text,
                    reply_markup=part.keyboard,
                    link_preview_options=NO_PREVIEW,
                )
            )
            return
        key = _photo_key(part.photo)
        cached = self._photo_ids.get(key)
        if cached is not None:
            try:
                await self.call(self._photo(chat_id, part, cached))
                return
            except GaveUp as exc:
                if not isinstance(exc.__cause__, TelegramBadRequest):
                    raise
                self._photo_ids.pop(key, None)  # file_id no longer valid: upload
        source = FSInputFile(part.photo) if isinstance(part.photo, Path) else part.photo
        try:
            sent: Message = await self.call(self._photo(chat_id, part, source))
        except GaveUp as exc:
            if not isinstance(exc.__cause__, TelegramBadRequest):
                raise
            # A picture Telegram refuses (e.g. a URL it cannot fetch) must not hold
            # back the words: send the caption and its buttons on their own.
            if part.text or part.keyboard:
                await self._send(chat_id, TelegramMessage(part.text or "👇", part.keyboard))
            return
        if sent.photo:  # later sends of this picture reuse Telegram's copy
            self._photo_ids[key] = sent.photo[-1].file_id
            if len(self._photo_ids) > MAX_PHOTO_IDS:
                self._photo_ids.pop(next(iter(self._photo_ids)))

    @staticmethod
    def _photo(chat_id: int, part: TelegramMessage, photo: str | FSInputFile) -> SendPhoto:
        return SendPhoto(
            chat_id=chat_id, photo=photo, caption=part.text or None, reply_markup=part.keyboard
        )


def _photo_key(photo: Path | str) -> tuple[str, int, int]:
    """A file is known by path, change time and size: a regenerated file is new."""
    if isinstance(photo, str):
        return (photo, 0, 0)
    stat = photo.stat()
    return (str(photo), stat.st_mtime_ns, stat.st_size)


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, TelegramAPIError) else ""


def where(exc: BaseException) -> str:
    """The error's type and innermost frames, without its message: messages of database
    errors can quote the values (names) that were being written."""
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    trail = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__name__} at {trail}"
