"""Thin async client for the Zalo Bot Platform HTTP API.

See ``/work/shared/reference/zalo-bot-api.md`` for the platform facts this relies on:

* every call is ``{api_base}/bot{token}/{method}``; we always POST a JSON body;
* every response body is ``{"ok": bool, "result": ..., "error_code": int, "description": str}``
  and failures have been seen with HTTP 200 and ``ok: false``, so ``ok`` is always checked;
* ``getUpdates`` answers error 408 when nothing arrived during the long poll;
* 429 means "quota exceeded"; no numeric rate limit is published, so sending is throttled
  by a configurable ``messages_per_second`` and 429s are retried with backoff.

The bot token is a credential: it is never logged and is redacted from every exception
message this module raises (network exceptions are re-raised ``from None`` so the
original aiohttp exception, which may carry the URL, is not chained into tracebacks).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import aiohttp

__all__ = [
    "DEFAULT_API_BASE",
    "MAX_TEXT_LENGTH",
    "ZaloBadRequest",
    "ZaloClient",
    "ZaloError",
    "ZaloForbidden",
    "ZaloNetworkError",
    "ZaloNotFound",
    "ZaloRateLimited",
    "ZaloUnauthorized",
]

log = logging.getLogger(__name__)

DEFAULT_API_BASE: Final = "https://bot-api.zaloplatforms.com"
#: Zalo rejects texts (and captions) longer than this; see ``bot.channels.zalo.text``.
MAX_TEXT_LENGTH: Final = 2000
#: Secret token length accepted by setWebhook.
SECRET_TOKEN_MIN: Final = 8
SECRET_TOKEN_MAX: Final = 256
#: Upper bound on a server-supplied ``retry_after`` so a bogus value cannot hang us.
MAX_RETRY_AFTER: Final = 60.0
#: Extra seconds on top of the long-poll timeout for the HTTP request of getUpdates.
LONG_POLL_GRACE: Final = 10.0

_REDACTED: Final = "<redacted>"


# --------------------------------------------------------------------------- errors


class ZaloError(Exception):
    """A failed Zalo API call.

    ``error_code`` is the API's ``error_code`` (or the HTTP status when the body had none,
    or ``None`` for transport failures); ``description`` is the API's human text with the
    token redacted; ``method`` is the API method name (e.g. ``"sendMessage"``).
    """

    def __init__(
        self,
        description: str,
        *,
        error_code: int | None = None,
        method: str | None = None,
    ) -> None:
        self.error_code = error_code
        self.description = description
        self.method = method
        code = f" [{error_code}]" if error_code is not None else ""
        super().__init__(f"Zalo {method or 'API'} failed{code}: {description}")


class ZaloBadRequest(ZaloError):
    """400: invalid parameters (or an API misuse such as getUpdates with a webhook set)."""


class ZaloUnauthorized(ZaloError):
    """401: the bot token is wrong or was reset."""


class ZaloForbidden(ZaloError):
    """403: the bot may not do this (e.g. write to this chat)."""


class ZaloNotFound(ZaloError):
    """404: unknown method (names are case-sensitive) or unknown resource."""


class ZaloRateLimited(ZaloError):
    """429: quota exceeded and still exceeded after all retries."""

    def __init__(
        self,
        description: str,
        *,
        error_code: int | None = 429,
        method: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(description, error_code=error_code, method=method)
        #: The server's last ``retry_after`` hint in seconds, if it gave one.
        self.retry_after = retry_after


class ZaloNetworkError(ZaloError):
    """Connection error, timeout or HTTP 5xx that persisted after all retries."""


_ERRORS_BY_CODE: Final[dict[int, type[ZaloError]]] = {
    400: ZaloBadRequest,
    401: ZaloUnauthorized,
    403: ZaloForbidden,
    404: ZaloNotFound,
    429: ZaloRateLimited,
}


# --------------------------------------------------------------------- rate limiting


class _MinIntervalLimiter:
    """Spaces calls at least ``1 / rate`` seconds apart (rate <= 0 disables it).

    A minimum-interval limiter rather than a bursting token bucket: Zalo publishes no
    limit, so a steady pace is the least surprising behaviour. Safe for concurrent
    callers on one event loop (they queue on the lock in arrival order).
    """

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next_slot = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self._interval <= 0:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._next_slot > now:
                await asyncio.sleep(self._next_slot - now)
                now = self._next_slot
            self._next_slot = now + self._interval


# ---------------------------------------------------------------------------- client

# Sentinel returned by the request loop when getUpdates answers 408 ("nothing yet").
_NO_UPDATE: Final = object()


class ZaloClient:
    """Async client for the Zalo Bot Platform.

    Use as ``async with ZaloClient(token) as zalo: await zalo.send_message(chat, "Xin chào")``
    or call :meth:`close` yourself. If ``session`` is given it is used and NOT closed by
    :meth:`close`; otherwise the client creates (lazily) and owns its own session.
    """

    def __init__(
        self,
        token: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        session: aiohttp.ClientSession | None = None,
        messages_per_second: float = 20.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        request_timeout: float = 20.0,
    ) -> None:
        if not token:
            raise ValueError("a Zalo bot token is required")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._limiter = _MinIntervalLimiter(messages_per_second)
        self._max_retries = max_retries
        self._backoff_base = max(0.0, backoff_base)
        self._request_timeout = request_timeout

    def __repr__(self) -> str:  # never show the token
        return f"ZaloClient(api_base={self._api_base!r})"

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it. Idempotent."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    # -- public API --------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """``{id, account_name, account_type, can_join_groups}`` of the bot."""
        return await self._call("getMe")

    # ``timeout`` is the API's long-poll parameter, not a cancellation timeout.
    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | None:  # noqa: ASYNC109
        """Long-poll for ONE update; return its ``{event_name, message}`` or None on 408.

        Not usable while a webhook is set (the API then answers an error). The HTTP
        request's own timeout is ``timeout + LONG_POLL_GRACE`` so it outlives the poll.
        """
        if timeout < 0:
            raise ValueError("timeout must be >= 0")
        result = await self._call(
            "getUpdates",
            {"timeout": str(int(timeout))},  # the reference documents a string
            http_timeout=max(self._request_timeout, timeout + LONG_POLL_GRACE),
        )
        if result is _NO_UPDATE:
            return None
        if not isinstance(result, dict):
            raise ZaloError(
                f"unexpected getUpdates result type {type(result).__name__}",
                method="getUpdates",
            )
        return result

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Register ``url`` (https) for updates; Zalo echoes ``secret_token`` (8–256 chars)
        in the ``X-Bot-Api-Secret-Token`` header of each webhook call. Returns
        ``{url, updated_at}``."""
        if not SECRET_TOKEN_MIN <= len(secret_token) <= SECRET_TOKEN_MAX:
            raise ValueError(
                f"secret_token must be {SECRET_TOKEN_MIN}-{SECRET_TOKEN_MAX} characters"
            )
        return await self._call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> dict[str, Any]:
        """Remove the webhook (getUpdates works again). Returns ``{url: "", updated_at}``."""
        return await self._call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        """``{url, updated_at}``; ``url`` is empty when no webhook is set."""
        return await self._call("getWebhookInfo")

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send a text (1–2000 chars, checked here: ValueError otherwise; use
        ``split_text`` for longer ones). Returns ``{message_id, date}`` (date in ms)."""
        _check_chat_id(chat_id)
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_LENGTH:
            length = len(text) if isinstance(text, str) else type(text).__name__
            raise ValueError(f"text must be 1-{MAX_TEXT_LENGTH} characters (got {length})")
        return await self._call("sendMessage", {"chat_id": chat_id, "text": text}, throttle=True)

    async def send_photo(
        self, chat_id: str, photo: str, caption: str | None = None
    ) -> dict[str, Any]:
        """Send a photo by URL with an optional caption (≤2000 chars).
        Returns ``{message_id, date}``."""
        _check_chat_id(chat_id)
        if not photo:
            raise ValueError("photo URL is required")
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
        if caption is not None:
            if len(caption) > MAX_TEXT_LENGTH:
                raise ValueError(f"caption must be at most {MAX_TEXT_LENGTH} characters")
            if caption:
                params["caption"] = caption
        return await self._call("sendPhoto", params, throttle=True)

    async def send_sticker(self, chat_id: str, sticker: str) -> dict[str, Any]:
        """Send a sticker by its id. Returns ``{message_id, date}``."""
        _check_chat_id(chat_id)
        if not sticker:
            raise ValueError("sticker is required")
        return await self._call(
            "sendSticker", {"chat_id": chat_id, "sticker": sticker}, throttle=True
        )

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> bool:
        """Show "typing…" in the chat (``typing`` is the only documented action)."""
        _check_chat_id(chat_id)
        result = await self._call(
            "sendChatAction", {"chat_id": chat_id, "action": action}, throttle=True
        )
        return bool(result)

    # -- transport ---------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    def _redact(self, text: str) -> str:
        """Remove the token (raw and URL-encoded) from ``text``."""
        for variant in {self._token, quote(self._token, safe=""), quote(self._token)}:
            text = text.replace(variant, _REDACTED)
        return text

    def _backoff(self, attempt: int) -> float:
        return self._backoff_base * (2**attempt)

    async def _call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        throttle: bool = False,
        http_timeout: float | None = None,
    ) -> Any:
        """POST ``params`` to ``method`` with retries; return ``result`` or raise.

        Retried (up to ``max_retries`` times): 429 (honouring ``retry_after``), 5xx and
        connection errors/timeouts. Never retried: 4xx other than 429 (and 408 from
        getUpdates, which means "no update" and yields ``_NO_UPDATE``).
        Note: a send that timed out may have been delivered, so a retry can duplicate it.
        """
        url = f"{self._api_base}/bot{self._token}/{method}"
        timeout = aiohttp.ClientTimeout(total=http_timeout or self._request_timeout)
        attempt = 0
        while True:
            if throttle:
                await self._limiter.acquire()

            # 1. Transport: get (status, parsed body or None, Retry-After header).
            try:
                session = self._get_session()
                async with session.post(url, json=params or {}, timeout=timeout) as resp:
                    status = resp.status
                    raw = await resp.read()
                    header_retry = resp.headers.get("Retry-After")
            except aiohttp.InvalidURL as exc:  # misconfigured api_base: retrying is futile
                raise ZaloError(self._redact(f"invalid URL: {exc}"), method=method) from None
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                detail = self._redact(f"{type(exc).__name__}: {exc}".rstrip(": "))
                if attempt < self._max_retries:
                    delay = self._backoff(attempt)
                    log.warning(
                        "Zalo %s network error (%s); retry %d/%d in %.2fs",
                        method, detail, attempt + 1, self._max_retries, delay,
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise ZaloNetworkError(detail, method=method) from None

            body = _parse_json(raw)

            # 2. Success needs ok:true in the body, whatever the HTTP status says.
            if isinstance(body, dict) and body.get("ok") is True and status < 400:
                return body.get("result")

            # 3. Failure: classify by the body's error_code, else by the HTTP status.
            code, description = self._error_fields(status, body)
            if code == 408 and method == "getUpdates":
                return _NO_UPDATE

            if code == 429:
                retry_after = _retry_after(body, header_retry)
                if attempt < self._max_retries:
                    delay = (
                        min(retry_after, MAX_RETRY_AFTER)
                        if retry_after is not None
                        else self._backoff(attempt)
                    )
                    log.warning(
                        "Zalo %s rate limited (429); retry %d/%d in %.2fs",
                        method, attempt + 1, self._max_retries, delay,
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise ZaloRateLimited(
                    description, error_code=429, method=method, retry_after=retry_after
                )

            if (code is not None and code >= 500) or status >= 500:
                if attempt < self._max_retries:
                    delay = self._backoff(attempt)
                    log.warning(
                        "Zalo %s server error %s; retry %d/%d in %.2fs",
                        method, code, attempt + 1, self._max_retries, delay,
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise ZaloNetworkError(description, error_code=code, method=method)

            error_cls = _ERRORS_BY_CODE.get(code, ZaloError) if code is not None else ZaloError
            raise error_cls(description, error_code=code, method=method)

    def _error_fields(self, status: int, body: Any) -> tuple[int | None, str]:
        """(error_code, redacted description) from a failed response."""
        code: int | None = None
        description = ""
        if isinstance(body, dict):
            raw_code = body.get("error_code")
            if isinstance(raw_code, int) and not isinstance(raw_code, bool):
                code = raw_code
            elif isinstance(raw_code, str) and raw_code.strip().isdigit():
                code = int(raw_code)
            if isinstance(body.get("description"), str):
                description = body["description"]
        if code is None and status >= 400:
            code = status
        if not description:
            if body is None:
                description = f"HTTP {status} with a non-JSON body"
            elif isinstance(body, dict) and "ok" not in body:
                description = f"HTTP {status} with a malformed body (no 'ok')"
            else:
                description = f"HTTP {status}"
        return code, self._redact(description)


# --------------------------------------------------------------------------- helpers


def _check_chat_id(chat_id: str) -> None:
    # Ids are opaque strings; an int here is a caller bug (leading zeros, hex ids...).
    if not isinstance(chat_id, str) or not chat_id:
        raise ValueError("chat_id must be a non-empty string")


def _parse_json(raw: bytes) -> Any:
    """Decoded JSON body, or None if it is not JSON."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _as_seconds(value: Any) -> float | None:
    """A non-negative finite number of seconds, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _retry_after(body: Any, header: str | None) -> float | None:
    """``retry_after`` from the body (top level or Telegram-style ``parameters``), else
    a numeric ``Retry-After`` header."""
    if isinstance(body, dict):
        for holder in (body, body.get("parameters")):
            if isinstance(holder, dict) and "retry_after" in holder:
                seconds = _as_seconds(holder["retry_after"])
                if seconds is not None:
                    return seconds
    return _as_seconds(header) if header is not None else None
