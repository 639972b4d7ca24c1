"""A fake Zalo Bot Platform server for tests (aiohttp on 127.0.0.1, random free port).

Behaves as ``/work/shared/reference/zalo-bot-api.md`` describes, strictly enough to catch
client bugs:

* routes ``/bot{token}/{method}``, GET or POST, parameters as JSON, form or query;
  method names are case-sensitive; wrong token → 401, unknown method → 404;
* parameter and length checks (violations → 400 and recorded in ``.violations``);
* getUpdates returns ONE update per call, long-polls (capped, ``long_poll_cap``) and
  answers 408 when nothing came; it is an error while a webhook is set;
* webhook delivery with the ``X-Bot-Api-Secret-Token`` header (``deliver``);
* fault injection (``fail_next``), a 429 counter and an optional messages-per-second
  limit (off by default).

Usage::

    async with FakeZaloAPI() as api:
        client = ZaloClient(api.token, api_base=api.base_url)
        api.feed("Xin chào", user_id="u1")
        update = await client.get_updates(timeout=1)
        await client.send_message("u1", "Chào bạn")
        assert api.sent_texts("u1") == ["Chào bạn"]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "BOT_ID",
    "Call",
    "FakeZaloAPI",
    "SentItem",
    "Violation",
]

DEFAULT_TOKEN: Final = "12345689:fake-secret-token-xyz"
DEFAULT_USER_ID: Final = "6ede9afa66b88fe6d6a9"
BOT_ID: Final = "b07b07b07b07b07b07b0"
MAX_TEXT: Final = 2000
SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"

_ROUTE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[^/]+)$")
_SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendSticker", "sendChatAction"})
_OMIT: Final = object()  # "no argument given" sentinel for deliver(secret=...)


class Call(NamedTuple):
    """One authenticated request to a known method (faulted ones included)."""

    method: str
    params: dict[str, Any]


class Violation(NamedTuple):
    """A request the real platform would reject (answered with 400 here)."""

    method: str
    description: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SentItem:
    """Something the bot successfully sent. ``text`` is the message text or caption."""

    chat_id: str
    kind: str  # "text" | "photo" | "sticker"
    text: str | None = None
    photo: str | None = None
    sticker: str | None = None
    message_id: str = ""


@dataclass
class _Fault:
    error_code: int
    http_status: int
    times: int
    description: str
    retry_after: float | None = None


@dataclass
class _Webhook:
    url: str = ""
    secret_token: str = ""
    updated_at: int = field(default_factory=lambda: _now_ms())


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_id() -> str:
    return secrets.token_hex(10)  # 20 hex chars, like the reference's ids


class _ApiError(Exception):
    """Raised inside handlers to answer ``{"ok": false, ...}``."""

    def __init__(self, error_code: int, description: str, http_status: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.http_status = http_status if http_status is not None else error_code


class FakeZaloAPI:
    """In-process fake of the Zalo Bot Platform; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        long_poll_cap: float = 2.0,
        rate_limit: float | None = None,
    ) -> None:
        self.token = token
        #: getUpdates waits at most min(timeout, long_poll_cap) seconds.
        self.long_poll_cap = long_poll_cap
        #: Max send* calls per second (sliding 1 s window); None = unlimited.
        self.rate_limit = rate_limit

        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.http_429 = 0
        self.webhook = _Webhook()

        self._sent: list[SentItem] = []
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._faults: dict[str, deque[_Fault]] = {}
        self._send_times: deque[float] = deque()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> FakeZaloAPI:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop serving (idempotent). Pending long polls end at once."""
        self._closing.set()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloAPI:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: pass as ``api_base`` to the client."""
        if self._port is None:
            raise RuntimeError("FakeZaloAPI is not started")
        return f"http://127.0.0.1:{self._port}"

    # -- test-side helpers -------------------------------------------------------

    def sent(self, chat_id: str | None = None) -> list[SentItem]:
        """Successfully sent messages/photos/stickers in order (optionally for one chat)."""
        return [s for s in self._sent if chat_id is None or s.chat_id == chat_id]

    def sent_texts(self, chat_id: str | None = None) -> list[str]:
        """Texts of sent text messages in order (photos and stickers left out)."""
        return [s.text or "" for s in self.sent(chat_id) if s.kind == "text"]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @staticmethod
    def build_update(
        text: str | None = None,
        *,
        user_id: str = DEFAULT_USER_ID,
        display_name: str | None = "Tester",
        event_name: str = "message.text.received",
        message_id: str | None = None,
        chat_id: str | None = None,
        chat_type: str = "PRIVATE",
        date_ms: int | None = None,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """An update ``{event_name, message}`` in the reference's exact shape.

        ``text`` is included only when given (image/sticker/unsupported events normally
        carry none). ``chat_id`` defaults to ``user_id`` (a private chat).
        """
        sender: dict[str, Any] = {"id": user_id, "is_bot": is_bot}
        if display_name is not None:
            sender["display_name"] = display_name
        message: dict[str, Any] = {
            "from": sender,
            "chat": {"id": chat_id or user_id, "chat_type": chat_type},
        }
        if text is not None:
            message["text"] = text
        message["message_id"] = message_id or _new_id()
        message["date"] = date_ms if date_ms is not None else _now_ms()
        return {"event_name": event_name, "message": message}

    def feed(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Queue an update (``build_update`` arguments) for getUpdates; return it."""
        update = self.build_update(text, **kwargs)
        self._queue.put_nowait(update)
        return update

    def feed_raw(self, update: dict[str, Any]) -> None:
        """Queue an arbitrary (even malformed) update object for getUpdates."""
        self._queue.put_nowait(update)

    @property
    def pending_updates(self) -> int:
        return self._queue.qsize()

    def fail_next(
        self,
        method: str,
        error_code: int,
        *,
        http_status: int | None = None,
        times: int = 1,
        description: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail with ``error_code``.

        ``http_status`` defaults to ``error_code``; pass 200 to send ``ok: false`` with
        HTTP 200 as the platform sometimes does. ``retry_after`` adds that field to the
        body. Faults are queued in order; ``times=-1`` means "forever".
        """
        fault = _Fault(
            error_code=error_code,
            http_status=http_status if http_status is not None else error_code,
            times=times,
            description=description or _DEFAULT_DESCRIPTIONS.get(error_code, "Error"),
            retry_after=retry_after,
        )
        self._faults.setdefault(method, deque()).append(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    async def deliver(
        self,
        update_or_feed_kwargs: dict[str, Any],
        *,
        secret: str | None | object = _OMIT,
        wrapped: bool = True,
    ) -> tuple[int, Any]:
        """POST an update to the webhook URL set with setWebhook; return (status, body).

        ``update_or_feed_kwargs`` is an update ``{event_name, message}``, an already
        wrapped body ``{ok, result}`` (sent as is), or ``build_update`` kwargs.
        ``secret`` defaults to the registered secret; pass a string to forge it or None
        to omit the header. ``wrapped`` sends ``{"ok": true, "result": update}``, else
        the bare update. ``body`` is the parsed JSON reply, else its text.
        """
        if not self.webhook.url:
            raise RuntimeError("no webhook set: call setWebhook first")
        data = update_or_feed_kwargs
        if "result" in data and "ok" in data:
            payload: Any = data
        else:
            update = data if "message" in data else self.build_update(**data)
            payload = {"ok": True, "result": update} if wrapped else update

        headers: dict[str, str] = {}
        if secret is _OMIT:
            headers[SECRET_HEADER] = self.webhook.secret_token
        elif isinstance(secret, str):
            headers[SECRET_HEADER] = secret

        if self._client is None or self._client.closed:
            self._client = ClientSession(timeout=ClientTimeout(total=10))
        async with self._client.post(self.webhook.url, json=payload, headers=headers) as resp:
            raw = await resp.text()
            try:
                body: Any = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw
            return resp.status, body

    # -- HTTP handling -----------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        match = _ROUTE.match(request.path)
        if match is None:
            return _error(404, "Not Found")
        if not secrets.compare_digest(match["token"].encode(), self.token.encode()):
            return _error(401, "Unauthorized")
        method = match["method"]
        handler = self._methods.get(method)
        if handler is None:
            return _error(404, "Not Found")

        try:
            params = await _read_params(request)
        except _ApiError as exc:
            self.violations.append(Violation(method, exc.description, {}))
            return _error(exc.error_code, exc.description)
        self.calls.append(Call(method, params))

        fault = self._take_fault(method)
        if fault is not None:
            if fault.error_code == 429 or fault.http_status == 429:
                self.http_429 += 1
            extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else {}
            return _error(fault.error_code, fault.description, fault.http_status, **extra)

        if method in _SEND_METHODS and self._rate_limited():
            self.http_429 += 1
            return _error(429, "Too Many Requests: quota exceeded")

        try:
            result = await handler(self, params)
        except _ApiError as exc:
            if exc.error_code == 400:
                self.violations.append(Violation(method, exc.description, params))
            return _error(exc.error_code, exc.description, exc.http_status)
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str) -> _Fault | None:
        faults = self._faults.get(method)
        if not faults:
            return None
        fault = faults[0]
        if fault.times > 0:
            fault.times -= 1
            if fault.times == 0:
                faults.popleft()
        return fault

    def _rate_limited(self) -> bool:
        if not self.rate_limit:
            return False
        now = time.monotonic()
        while self._send_times and now - self._send_times[0] >= 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.rate_limit:
            return True
        self._send_times.append(now)
        return False

    # -- methods -----------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return {
            "id": BOT_ID,
            "account_name": "bot.hocvuso.test",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook.url:
            raise _ApiError(400, "getUpdates is not available while a webhook is set")
        raw_timeout = params.get("timeout", "30")
        try:
            timeout = float(raw_timeout)
        except (TypeError, ValueError):
            raise _ApiError(400, "timeout must be a number of seconds") from None
        if timeout < 0:
            raise _ApiError(400, "timeout must be >= 0")
        wait = min(timeout, self.long_poll_cap)

        if self._queue.empty() and wait > 0:
            getter = asyncio.ensure_future(self._queue.get())
            closing = asyncio.ensure_future(self._closing.wait())
            done, _ = await asyncio.wait(
                {getter, closing}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
            )
            closing.cancel()
            if getter in done:
                return getter.result()
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
            # A cancelled get() may still have taken an item in a race: put it back.
            if not getter.cancelled() and getter.exception() is None:
                return getter.result()
        elif not self._queue.empty():
            return self._queue.get_nowait()
        raise _ApiError(408, "Request Timeout: no update")

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = _require_str(params, "url")
        parts = urlsplit(url)
        local = parts.hostname in {"127.0.0.1", "localhost"}
        # https only; plain http is a documented test affordance for loopback hosts.
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and local)
        ):
            raise _ApiError(400, "url must be an https URL")
        secret = _require_str(params, "secret_token")
        if not 8 <= len(secret) <= 256:
            raise _ApiError(400, "secret_token must be 8-256 characters")
        self.webhook = _Webhook(url=url, secret_token=secret)
        return {"url": url, "updated_at": self.webhook.updated_at}

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = _Webhook()
        return {"url": "", "updated_at": self.webhook.updated_at}

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.url, "updated_at": self.webhook.updated_at}

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = _require_str(params, "chat_id")
        text = _require_str(params, "text", allow_empty=True)
        if not 1 <= len(text) <= MAX_TEXT:
            raise _ApiError(400, f"text must be 1-{MAX_TEXT} characters (got {len(text)})")
        return self._record(SentItem(chat_id, "text", text=text, message_id=_new_id()))

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        chat_id = _require_str(params, "chat_id")
        photo = _require_str(params, "photo")
        if urlsplit(photo).scheme not in {"http", "https"}:
            raise _ApiError(400, "photo must be a URL")
        caption = params.get("caption")
        if caption is not None:
            if not isinstance(caption, str):
                raise _ApiError(400, "caption must be a string")
            if len(caption) > MAX_TEXT:
                raise _ApiError(400, f"caption must be at most {MAX_TEXT} characters")
        item = SentItem(chat_id, "photo", text=caption, photo=photo, message_id=_new_id())
        return self._record(item)

    async def _send_sticker(self, params: dict[str, Any]) -> Any:
        chat_id = _require_str(params, "chat_id")
        sticker = _require_str(params, "sticker")
        return self._record(SentItem(chat_id, "sticker", sticker=sticker, message_id=_new_id()))

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        _require_str(params, "chat_id")
        if params.get("action") != "typing":
            raise _ApiError(400, "action must be 'typing'")
        return True

    def _record(self, item: SentItem) -> dict[str, Any]:
        self._sent.append(item)
        return {"message_id": item.message_id, "date": _now_ms()}

    # Case-sensitive method table (the real API's names).
    _methods: Final = {
        "getMe": _get_me,
        "getUpdates": _get_updates,
        "setWebhook": _set_webhook,
        "deleteWebhook": _delete_webhook,
        "getWebhookInfo": _get_webhook_info,
        "sendMessage": _send_message,
        "sendPhoto": _send_photo,
        "sendSticker": _send_sticker,
        "sendChatAction": _send_chat_action,
    }


_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests: quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _error(
    error_code: int, description: str, http_status: int | None = None, **extra: Any
) -> web.Response:
    body = {"ok": False, "error_code": error_code, "description": description, **extra}
    return web.json_response(body, status=http_status if http_status is not None else error_code)


def _require_str(params: dict[str, Any], name: str, *, allow_empty: bool = False) -> str:
    """A string parameter; ids must be strings (they are opaque, never integers)."""
    if name not in params:
        raise _ApiError(400, f"missing parameter: {name}")
    value = params[name]
    if not isinstance(value, str):
        raise _ApiError(400, f"{name} must be a string, got {type(value).__name__}")
    if not value and not allow_empty:
        raise _ApiError(400, f"{name} must not be empty")
    return value


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query parameters with a JSON or form body (body wins)."""
    params: dict[str, Any] = dict(request.query)
    if request.method not in {"POST", "PUT"} or not request.can_read_body:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                data = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise _ApiError(400, "body is not valid JSON") from None
            if not isinstance(data, dict):
                raise _ApiError(400, "JSON body must be an object")
            params.update(data)
    elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params
