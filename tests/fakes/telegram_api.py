"""A fake Telegram Bot API server that checks every call against the official spec.

Start it as an async context manager and point a real aiogram ``Bot`` at it::

    async with FakeTelegramAPI() as fake:
        bot = fake.create_bot()          # or build the session yourself:
        # Bot(fake.token, session=AiohttpSession(
        #     api=TelegramAPIServer.from_base(fake.base_url)))
        await bot.send_message(42, "Xin chào")
        assert fake.texts(42) == ["Xin chào"]
        fake.assert_no_violations()

What it does (see the README-style docstrings on each public method):

* serves ``POST /bot{token}/{method}`` (multipart, urlencoded, JSON or query
  string) and ``GET /file/bot{token}/{file_path}``;
* checks every call against ``api.min.json`` (see :mod:`tests.fakes.telegram_spec`);
  a violation is recorded in :attr:`FakeTelegramAPI.violations` and answered with
  ``400 Bad Request`` exactly like Telegram would;
* records every call (:attr:`FakeTelegramAPI.calls`) and returns realistic results
  that aiogram parses into its types;
* queues updates for ``getUpdates`` (offset, limit, long-poll timeout,
  allowed_updates) and posts them to a webhook with the secret-token header;
* injects failures (429 with ``retry_after``, 403 blocked, 5xx ...) and applies
  token-bucket flood limits (30 messages/s overall, 1/s per chat, with bursts).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import hashlib
import inspect
import itertools
import json
import math
import mimetypes
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web

from .telegram_spec import SPEC_AVAILABLE, SPEC_PATH, TelegramSpec, get_spec, parse_entities

if TYPE_CHECKING:
    from aiogram import Bot

__all__ = [
    "BOT_USERNAME",
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "SENDING_METHODS",
    "SENT_MESSAGE_METHODS",
    "SPEC_AVAILABLE",
    "SPEC_PATH",
    "Call",
    "FakeTelegramAPI",
    "RateLimits",
    "TokenBucket",
]

#: ``<bot_id>:<secret>``, the shape of a real token (aiogram validates it).
DEFAULT_TOKEN = "7000000001:AAHocVuSoFakeTokenForTests_0123456789"
BOT_USERNAME = "hocvuso_test_bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: Calls that count against Telegram's flood limits.
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendSticker",
        "copyMessage",
        "forwardMessage",
        "sendMediaGroup",
        "sendVoice",
    }
)
#: Calls that :meth:`FakeTelegramAPI.sent_messages` and :meth:`~FakeTelegramAPI.texts` list.
SENT_MESSAGE_METHODS = ("sendMessage", "sendPhoto", "sendDocument")

#: Update types Telegram delivers when ``allowed_updates`` is not set / empty.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_ATTACH = "attach://"
_KEEP: Any = object()  # sentinel: "use the stored webhook secret"

_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    """One request received by the fake (or found in a webhook reply)."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    time: float  # the fake's clock (time.monotonic by default) when the call arrived
    source: str = "http"  # "http" or "webhook_reply"
    status: int = 0  # HTTP status answered
    response: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    injected: bool = False
    filenames: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` as sent (markup included)."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def visible_text(self) -> str | None:
        """:attr:`text` after parsing its ``parse_mode`` (what the user reads)."""
        if self.text is None:
            return None
        error, visible = parse_entities(self.text, self.params.get("parse_mode"))
        return self.text if error else visible

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    def buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (``[]`` when the call has no inline keyboard)."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [list(row) for row in rows if isinstance(row, list)]

    def button_texts(self) -> list[str]:
        """Labels of the inline keyboard (inline) or reply keyboard, row by row, flattened."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [
            b if isinstance(b, str) else b.get("text", "")
            for row in rows
            if isinstance(row, list)
            for b in row
        ]

    def file(self, name: str) -> bytes | None:
        """Bytes uploaded for param ``name`` (resolves ``attach://`` references)."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith(_ATTACH):
            return self.files.get(value[len(_ATTACH) :])
        return self.files.get(name)


@dataclass(frozen=True)
class RateLimits:
    """Token-bucket flood limits.  Defaults follow Telegram's published limits."""

    global_per_second: float = 30.0
    global_burst: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: int | None
    description: str | None
    times: int
    chat_id: int | str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    filename: str | None = None


class _ApiError(Exception):
    """Raised by handlers to answer like Telegram does with ``ok: false``."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _error(status: int, description: str, parameters: Mapping[str, Any] | None = None) -> dict:
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = dict(parameters)
    return payload


def _chat_key(chat_id: Any) -> int | str | None:
    """Normalise a chat id: ``"42"`` and ``42`` are the same chat."""
    if isinstance(chat_id, bool) or chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str):
        try:
            return int(chat_id)
        except ValueError:
            return chat_id
    return None


#: Integer fields, used to decode form values only when the spec is unavailable.
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "duration",
        "cache_time",
        "max_connections",
    }
)


def _decode_without_spec(name: str, raw: Any) -> Any:
    """Decode a form value without the spec: ids/counters to int, JSON objects/arrays."""
    if not isinstance(raw, str):
        return raw
    stripped = raw.strip()
    if name in _INT_FIELDS and stripped.lstrip("-").isdigit():
        return int(stripped)
    if stripped in ("true", "false") and name not in ("text", "caption", "data"):
        return stripped == "true"
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return raw


async def _close_session_fast(bot: Bot) -> None:
    """Close a bot's aiohttp session without aiogram's 250 ms TLS grace sleep.

    The fake speaks plain HTTP on localhost, so there is no TLS shutdown to wait for.
    """
    inner = getattr(bot.session, "_session", None)
    if isinstance(inner, ClientSession):
        if not inner.closed:
            await inner.close()
    else:
        await bot.session.close()


def _update_type(update: Mapping[str, Any]) -> str | None:
    return next((k for k in update if k != "update_id"), None)


# --------------------------------------------------------------------------- the server


class FakeTelegramAPI:
    """In-process fake of ``api.telegram.org`` for aiogram tests.

    Args:
        token: the only accepted bot token; any other gets ``401 Unauthorized``.
        rate_limits: ``True`` (default limits), ``False`` (off) or a :class:`RateLimits`.
        spec_check: check calls against the spec (when the spec file is available).
        long_poll_cap: upper bound in seconds for a ``getUpdates`` long poll.
        require_https_webhook: reject ``setWebhook`` with a non-HTTPS url like Telegram;
            off by default so tests can point the webhook at a local http server.
        process_webhook_replies: when a webhook answers with a method call in its
            body (aiogram does this), execute it like Telegram does.
        clock: monotonic clock used for call times and rate limiting.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        rate_limits: bool | RateLimits = True,
        spec_check: bool = True,
        long_poll_cap: float = 0.5,
        require_https_webhook: bool = False,
        process_webhook_replies: bool = True,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "Học Vụ Số (test)",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.spec: TelegramSpec | None = get_spec() if spec_check else None
        if rate_limits is True:
            rate_limits = RateLimits()
        self.rate_limits: RateLimits | None = rate_limits or None
        self.long_poll_cap = long_poll_cap
        self.require_https_webhook = require_https_webhook
        self.process_webhook_replies = process_webhook_replies
        self.clock = clock
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        # -- what tests inspect
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.injected: list[Call] = []
        self.rate_limited: list[Call] = []
        self.http_429 = 0  # rate-limiter 429s (injected ones are in .injected)
        self.internal_errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[tuple[dict[str, Any], int]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}

        # -- internal state
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._client: ClientSession | None = None
        self._bots: list[Bot] = []
        self._faults: list[_Fault] = []
        self._results: dict[str, Any] = {}
        self._global_bucket: TokenBucket | None = None
        self._chat_buckets: dict[int | str, TokenBucket] = {}
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._last_update_id = 100_000_000
        self._allowed_updates: list[str] | None = None
        self._webhook_info: dict[str, Any] = {}
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._message_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._deleted: set[tuple[int | str, int]] = set()
        self._last_bot_message: dict[int | str, int] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_001)
        self._files: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._handlers: dict[str, Callable[[Call], Any]] = {
            "getMe": lambda call: self._get_me(),
            "logOut": lambda call: True,
            "close": lambda call: True,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda call: self._get_webhook_info(),
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendSticker": self._send_sticker,
            "sendVoice": self._send_voice,
            "sendMediaGroup": self._send_media_group,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": lambda call: self._edit(call, "text"),
            "editMessageCaption": lambda call: self._edit(call, "caption"),
            "editMessageReplyMarkup": lambda call: self._edit(call, "markup"),
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": lambda call: True,
            "sendChatAction": lambda call: True,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getFile": self._get_file,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegramAPI:
        """Start listening on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        """Stop the server and close bots created with :meth:`create_bot`."""
        self._closing = True
        self._wake()
        for bot in self._bots:
            await _close_session_fast(bot)
        self._bots.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramAPI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegramAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        return f"http://127.0.0.1:{self.port}"

    def create_bot(self, **bot_kwargs: Any) -> Bot:
        """An aiogram ``Bot`` talking to this fake; its session is closed by :meth:`close`."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        bot = Bot(self.token, session=session, **bot_kwargs)
        self._bots.append(bot)
        return bot

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """All calls of ``method`` (any outcome), in arrival order."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | str | None = None) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendDocument calls, optionally to one chat."""
        key = _chat_key(chat_id)
        return [
            c
            for c in self.calls
            if c.ok
            and c.method in SENT_MESSAGE_METHODS
            and (key is None or _chat_key(c.chat_id) == key)
        ]

    def texts(self, chat_id: int | str | None = None, *, visible: bool = False) -> list[str]:
        """``text``/``caption`` of :meth:`sent_messages` (``visible=True``: markup parsed)."""
        out = []
        for call in self.sent_messages(chat_id):
            text = call.visible_text if visible else call.text
            out.append(text or "")
        return out

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """The fake's current copy of a message (after edits), or None."""
        return self._messages.get((_chat_key(chat_id), message_id))

    def last_bot_message(self, chat_id: int | str) -> dict[str, Any] | None:
        """The latest message the bot sent to ``chat_id`` (as currently stored)."""
        key = _chat_key(chat_id)
        mid = self._last_bot_message.get(key)
        return None if mid is None else self._messages.get((key, mid))

    def assert_no_violations(self) -> None:
        """Fail with the list of spec violations, if any."""
        if self.internal_errors:
            raise AssertionError("FakeTelegramAPI crashed:\n" + "\n".join(self.internal_errors))
        if self.violations:
            listing = "\n  ".join(self.violations)
            raise AssertionError(f"{len(self.violations)} Bot API violation(s):\n  {listing}")

    def clear(self) -> None:
        """Forget recorded calls, violations, injected failures and 429 counts."""
        self.calls.clear()
        self.violations.clear()
        self.injected.clear()
        self.rate_limited.clear()
        self.http_429 = 0

    # ------------------------------------------------------------------ configuration

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any) fail with ``status``.

        429 gets ``parameters.retry_after`` (default 1); 403 defaults to
        "Forbidden: bot was blocked by the user".  ``chat_id`` limits it to calls
        for that chat.  Such calls land in :attr:`injected`, not in violations.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(_Fault(method, status, retry_after, description, times, chat_id))

    def set_result(self, method: str, result: Any) -> None:
        """Answer ``method`` with ``result`` (a value, or a callable taking the :class:`Call`)."""
        self._results[method.lower()] = result

    def add_file(
        self, content: bytes, *, file_id: str | None = None, filename: str | None = None
    ) -> str:
        """Register a downloadable file (for ``getFile`` + download); returns its file_id."""
        return self._store_file(content, filename=filename, file_id=file_id).file_id

    # ------------------------------------------------------------------ updates

    def feed(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue an update for ``getUpdates``; assigns ``update_id`` if missing."""
        upd = self._with_update_id(update)
        self._pending.append(upd)
        self._wake()
        return upd

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a ``getUpdates`` offset."""
        return list(self._pending)

    def _with_update_id(self, update: Mapping[str, Any]) -> dict[str, Any]:
        upd = dict(update)
        if "update_id" not in upd:
            upd["update_id"] = next(self._update_ids)
            while upd["update_id"] <= self._last_update_id:
                upd["update_id"] = next(self._update_ids)
        self._last_update_id = max(self._last_update_id, upd["update_id"])
        return upd

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def post_to_webhook(
        self,
        update: Mapping[str, Any],
        *,
        secret_override: str | None = _KEEP,
        url: str | None = None,
        request_timeout: float = 10.0,
    ) -> tuple[int, str]:
        """POST ``update`` to the webhook set with ``setWebhook`` (or ``url``).

        Sends ``X-Telegram-Bot-Api-Secret-Token`` with the stored secret;
        ``secret_override="forged"`` sends another value, ``secret_override=None``
        omits the header.  Returns ``(status, body)``.  A method call in the reply
        body is executed and recorded (``source="webhook_reply"``).
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook is set: call setWebhook first or pass url=")
        upd = self._with_update_id(update)
        secret = self.webhook_secret if secret_override is _KEEP else secret_override
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        if self._client is None:
            self._client = ClientSession()
        async with self._client.post(
            target,
            data=json.dumps(upd),
            headers=headers,
            timeout=ClientTimeout(total=request_timeout),
        ) as resp:
            body = await resp.read()
            status = resp.status
            content_type = resp.headers.get("Content-Type", "")
        self.webhook_deliveries.append((upd, status))
        if status == 200 and self.process_webhook_replies and body:
            await self._process_webhook_reply(content_type, body)
        return status, body.decode("utf-8", "replace")

    async def _process_webhook_reply(self, content_type: str, body: bytes) -> None:
        raw: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if content_type.startswith("multipart/"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                if part.get_filename() is not None:
                    files[str(name)] = payload
                else:
                    raw[str(name)] = payload.decode("utf-8")
        elif "json" in content_type:
            data = json.loads(body)
            if isinstance(data, dict):
                raw = data
        method = raw.pop("method", None)
        if isinstance(method, str) and method:
            await self._process(method, raw, files, {}, source="webhook_reply")

    # ------------------------------------------------------------------ update builders

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}
        self._users[user_id] = user
        return dict(user)

    def _register_chat(
        self, chat_id: int, chat_type: str, first_name: str = "Lan"
    ) -> dict[str, Any]:
        if chat_type == "private":
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": "Nhóm học vụ số"}
        self._chats[chat_id] = chat
        return dict(chat)

    def _user_message(
        self,
        chat_id: int,
        user_id: int | None,
        first_name: str,
        chat_type: str,
        content: Mapping[str, Any],
    ) -> dict[str, Any]:
        chat = self._register_chat(chat_id, chat_type, first_name)
        uid = user_id if user_id is not None else (chat_id if chat_type == "private" else 1001)
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": self._user(uid, first_name),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat_id, message["message_id"])] = message
        return {"message": message}

    def message_update(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        first_name: str = "Lan",
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """A text message from a user (``/commands`` get a bot_command entity)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            length = len(command.encode("utf-16-le")) // 2
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._user_message(chat_id, user_id, first_name, chat_type, content)

    def callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """A press on an inline button with ``data``.

        ``message_id`` defaults to the bot's latest message in the chat (1 if none);
        when the fake knows that message, the update carries it (with its keyboard).
        """
        if message_id is None:
            message_id = self._last_bot_message.get(chat_id, 1)
        chat = self._chats.get(chat_id) or self._register_chat(chat_id, "private", first_name)
        message = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        uid = user_id if user_id is not None else chat_id
        return {
            "callback_query": {
                "id": str(next(self._callback_ids)),
                "from": self._user(uid, first_name),
                "message": json.loads(json.dumps(message)),
                "chat_instance": str(zlib.crc32(f"{self.bot_id}:{chat_id}".encode())),
                "data": data,
            }
        }

    def button_update(
        self, chat_id: int, button_text: str, *, user_id: int | None = None, first_name: str = "Lan"
    ) -> dict[str, Any]:
        """Press the inline button labelled ``button_text`` on the bot's latest keyboard.

        Looks through the bot's messages in the chat, newest first; raises
        ``LookupError`` (listing the visible buttons) if no such button exists.
        """
        seen: list[str] = []
        mids = sorted(
            (mid for (cid, mid), msg in self._messages.items() if cid == chat_id),
            reverse=True,
        )
        for mid in mids:
            msg = self._messages[(chat_id, mid)]
            if msg.get("from", {}).get("id") != self.bot_id:
                continue
            rows = (msg.get("reply_markup") or {}).get("inline_keyboard") or []
            for row in rows:
                for button in row:
                    seen.append(button.get("text", ""))
                    if button.get("text") == button_text:
                        if "callback_data" not in button:
                            raise LookupError(f"button {button_text!r} has no callback_data")
                        return self.callback_update(
                            chat_id,
                            button["callback_data"],
                            mid,
                            user_id=user_id,
                            first_name=first_name,
                        )
        raise LookupError(f"no inline button {button_text!r} in chat {chat_id}; buttons: {seen}")

    def sticker_update(
        self,
        chat_id: int,
        *,
        emoji: str = "👍",
        user_id: int | None = None,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """A sticker from a user."""
        stored = self._store_file(b"RIFF-fake-webp", filename="sticker.webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.content),
        }
        return self._user_message(chat_id, user_id, first_name, "private", {"sticker": sticker})

    def photo_update(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        user_id: int | None = None,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """A photo from a user (downloadable via getFile)."""
        stored = self._store_file(content, filename="photo.jpg")
        body: dict[str, Any] = {"photo": self._photo_sizes(stored)}
        if caption is not None:
            body["caption"] = caption
        return self._user_message(chat_id, user_id, first_name, "private", body)

    def contact_update(
        self,
        chat_id: int,
        phone: str,
        *,
        own: bool = True,
        user_id: int | None = None,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """A shared contact; ``own=True`` means the user shared their own number."""
        uid = user_id if user_id is not None else chat_id
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if own:
            contact["user_id"] = uid
        return self._user_message(chat_id, uid, first_name, "private", {"contact": contact})

    def voice_update(
        self,
        chat_id: int,
        *,
        duration: int = 3,
        user_id: int | None = None,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """A voice message from a user."""
        stored = self._store_file(b"OggS-fake-voice", filename="voice.ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.content),
        }
        return self._user_message(chat_id, user_id, first_name, "private", {"voice": voice})

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_method(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            raw, files, filenames = await self._read_request(request)
        except ValueError as exc:
            self.violations.append(f"{method}: {exc}")
            return web.json_response(_error(400, f"Bad Request: {exc}"), status=400)
        if token != self.token:
            return web.json_response(_error(401, "Unauthorized"), status=401)
        try:
            status, payload = await self._process(method, raw, files, filenames, source="http")
        except Exception as exc:  # a bug in the fake: make it loud, keep serving
            self.internal_errors.append(f"{method}: {traceback.format_exc()}")
            status, payload = 500, _error(500, f"Internal Server Error: fake crashed: {exc!r}")
        return web.json_response(payload, status=status)

    async def _read_request(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    raise ValueError("unsupported nested multipart body")
                if part.filename is not None:
                    files[part.name] = bytes(await part.read(decode=False))
                    filenames[part.name] = part.filename
                else:
                    raw[part.name] = await part.text()
        elif ctype == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError as exc:
                    raise ValueError(f"can't parse JSON body: {exc}") from None
                if not isinstance(data, dict):
                    raise ValueError("JSON body must be an object")
                raw.update(data)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    raw[key] = value
                else:  # a FileField
                    files[key] = value.file.read()
                    filenames[key] = value.filename
        return raw, files, filenames

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(_error(401, "Unauthorized"), status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content)
        return web.json_response(_error(404, "Not Found"), status=404)

    async def _process(
        self,
        method_name: str,
        raw: dict[str, Any],
        files: dict[str, bytes],
        filenames: dict[str, str],
        *,
        source: str,
    ) -> tuple[int, dict[str, Any]]:
        """Record, check and answer one call; returns ``(status, json payload)``."""
        ms = self.spec.method(method_name) if self.spec else None
        method = ms.name if ms else self._canonical(method_name)
        if self.spec:
            params = self.spec.decode_params(method, raw)
        else:
            params = {k: _decode_without_spec(k, v) for k, v in raw.items()}
        call = Call(method, params, files, self.clock(), source=source, filenames=filenames)
        self.calls.append(call)

        if self.spec and ms is None:
            self._violate(call, [f"unknown method {method_name!r}"])
            return self._finish(call, 404, _error(404, "Not Found"))
        problems = self.spec.check_call(method, params, files) if self.spec else []
        if problems:
            self._violate(call, problems)

        fault = self._take_fault(call)
        if fault is not None:
            call.injected = True
            self.injected.append(call)
            description = fault.description or _DESCRIPTIONS.get(fault.status, "Error")
            parameters = None
            if fault.retry_after is not None:
                parameters = {"retry_after": fault.retry_after}
                if fault.description is None:
                    description = f"Too Many Requests: retry after {fault.retry_after}"
            return self._finish(call, fault.status, _error(fault.status, description, parameters))

        if problems:
            return self._finish(call, 400, _error(400, f"Bad Request: {problems[0]}"))

        retry_after = self._rate_limit(call)
        if retry_after is not None:
            self.http_429 += 1
            self.rate_limited.append(call)
            description = f"Too Many Requests: retry after {retry_after}"
            return self._finish(call, 429, _error(429, description, {"retry_after": retry_after}))

        try:
            result = await self._dispatch(call, ms.returns if ms else ())
        except _ApiError as exc:
            return self._finish(
                call, exc.status, _error(exc.status, exc.description, exc.parameters)
            )
        return self._finish(call, 200, {"ok": True, "result": result})

    def _canonical(self, name: str) -> str:
        lowered = name.lower()
        return next((m for m in self._handlers if m.lower() == lowered), name)

    def _violate(self, call: Call, problems: Iterable[str]) -> None:
        for problem in problems:
            call.violations.append(problem)
            self.violations.append(f"{call.method}: {problem}")

    @staticmethod
    def _finish(call: Call, status: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        call.status = status
        call.response = payload
        return status, payload

    def _take_fault(self, call: Call) -> _Fault | None:
        for fault in self._faults:
            if fault.method != "*" and fault.method.lower() != call.method.lower():
                continue
            if fault.chat_id is not None and _chat_key(fault.chat_id) != _chat_key(call.chat_id):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _rate_limit(self, call: Call) -> int | None:
        """``retry_after`` seconds if the call exceeds the flood limits, else None."""
        limits = self.rate_limits
        if limits is None or call.method not in SENDING_METHODS:
            return None
        now = self.clock()
        if self._global_bucket is None:
            self._global_bucket = TokenBucket(limits.global_per_second, limits.global_burst, now)
        buckets = [self._global_bucket]
        key = _chat_key(call.chat_id)
        if key is not None:
            if key not in self._chat_buckets:
                self._chat_buckets[key] = TokenBucket(
                    limits.per_chat_per_second, limits.per_chat_burst, now
                )
            buckets.append(self._chat_buckets[key])
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take(now)
        return None

    async def _dispatch(self, call: Call, returns: tuple[str, ...]) -> Any:
        override = self._results.get(call.method.lower())
        if override is not None:
            result = override(call) if callable(override) else override
        elif (handler := self._handlers.get(call.method)) is not None:
            result = handler(call)
        elif returns == ("Boolean",):
            return True
        elif returns and returns[0] == "Message" and "chat_id" in call.params:
            result = self._generic_message(call)
        else:
            raise _ApiError(
                501, f"Not Implemented: FakeTelegramAPI has no result for {call.method}"
            )
        if inspect.isawaitable(result):
            result = await result
        return result

    # ------------------------------------------------------------------ messages

    def _next_message_id(self, chat_key: int | str) -> int:
        self._message_ids[chat_key] = self._message_ids.get(chat_key, 0) + 1
        return self._message_ids[chat_key]

    def _chat_for(self, chat_id: Any) -> dict[str, Any]:
        key = _chat_key(chat_id)
        if key in self._chats:
            return dict(self._chats[key])
        if isinstance(key, int):
            if key > 0:
                return {"id": key, "type": "private"}
            return {"id": key, "type": "supergroup", "title": "Test group"}
        username = str(key).lstrip("@")
        fake_id = -1_000_000_000_000 - zlib.crc32(username.encode())
        return {"id": fake_id, "type": "channel", "title": username, "username": username}

    def _new_bot_message(self, chat_id: Any, content: Mapping[str, Any]) -> dict[str, Any]:
        chat = self._chat_for(chat_id)
        key = _chat_key(chat_id)
        mid = self._next_message_id(key)
        message = {
            "message_id": mid,
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._messages[(key, mid)] = message
        self._last_bot_message[key] = mid
        return json.loads(json.dumps(message))

    @staticmethod
    def _inline_markup(params: Mapping[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            return markup
        return None

    @staticmethod
    def _visible(params: Mapping[str, Any], name: str) -> str | None:
        value = params.get(name)
        if not isinstance(value, str):
            return None
        error, visible = parse_entities(value, params.get("parse_mode"))
        return value if error else visible

    def _common_content(self, params: Mapping[str, Any], text_field: str) -> dict[str, Any]:
        content: dict[str, Any] = {}
        text = self._visible(params, text_field)
        if text is not None:
            content[text_field] = text
        if (markup := self._inline_markup(params)) is not None:
            content["reply_markup"] = markup
        return content

    def _store_file(
        self, content: bytes, *, filename: str | None = None, file_id: str | None = None
    ) -> _StoredFile:
        n = next(self._file_seq)
        digest = hashlib.sha1(content + str(n).encode()).hexdigest()
        file_id = file_id or f"FAKE{digest[:24]}{n}"
        ext = (filename or "file.bin").rsplit(".", 1)[-1]
        stored = _StoredFile(
            file_id=file_id,
            file_unique_id=f"U{digest[:12]}",
            content=content,
            file_path=f"documents/file_{n}.{ext}",
            filename=filename,
        )
        self._files[file_id] = stored
        return stored

    def _file_param(self, call: Call, name: str, default_name: str) -> _StoredFile:
        """The file sent as param ``name``: an upload, a known file_id, or a URL/file_id."""
        value = call.params.get(name)
        part = None
        if isinstance(value, str) and value.startswith(_ATTACH):
            part = value[len(_ATTACH) :]
        elif value is None and name in call.files:
            part = name
        if part is not None:
            return self._store_file(
                call.files.get(part, b""), filename=call.filenames.get(part, default_name)
            )
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        filename = value.rsplit("/", 1)[-1] if isinstance(value, str) else default_name
        return self._store_file(b"", filename=filename or default_name)

    @staticmethod
    def _photo_sizes(stored: _StoredFile) -> list[dict[str, Any]]:
        return [
            {
                "file_id": f"{stored.file_id}_s",
                "file_unique_id": f"{stored.file_unique_id}s",
                "width": 90,
                "height": 67,
                "file_size": max(1, len(stored.content) // 10),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(stored.content),
            },
        ]

    @staticmethod
    def _document(stored: _StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.filename:
            doc["file_name"] = stored.filename
            mime, _ = mimetypes.guess_type(stored.filename)
            if mime:
                doc["mime_type"] = mime
        return doc

    def _send_message(self, call: Call) -> dict[str, Any]:
        return self._new_bot_message(call.chat_id, self._common_content(call.params, "text"))

    def _send_photo(self, call: Call) -> dict[str, Any]:
        stored = self._file_param(call, "photo", "photo.jpg")
        content = self._common_content(call.params, "caption")
        content["photo"] = self._photo_sizes(stored)
        return self._new_bot_message(call.chat_id, content)

    def _send_document(self, call: Call) -> dict[str, Any]:
        stored = self._file_param(call, "document", "document")
        content = self._common_content(call.params, "caption")
        content["document"] = self._document(stored)
        return self._new_bot_message(call.chat_id, content)

    def _send_sticker(self, call: Call) -> dict[str, Any]:
        stored = self._file_param(call, "sticker", "sticker.webp")
        content = self._common_content(call.params, "caption")
        content["sticker"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._new_bot_message(call.chat_id, content)

    def _send_voice(self, call: Call) -> dict[str, Any]:
        stored = self._file_param(call, "voice", "voice.ogg")
        content = self._common_content(call.params, "caption")
        duration = call.params.get("duration")
        content["voice"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration if isinstance(duration, int) else 1,
            "mime_type": "audio/ogg",
        }
        return self._new_bot_message(call.chat_id, content)

    def _send_media_group(self, call: Call) -> list[dict[str, Any]]:
        group_id = str(next(self._file_seq) + 13_000_000_000)
        messages = []
        for item in call.params.get("media") or []:
            media = item.get("media")
            pseudo = Call("sendMediaGroup", {"media": media}, call.files, call.time)
            pseudo.filenames = call.filenames
            stored = self._file_param(pseudo, "media", f"{item.get('type', 'file')}.bin")
            content = self._common_content(item, "caption")
            if item.get("type") == "photo":
                content["photo"] = self._photo_sizes(stored)
            elif item.get("type") == "audio":
                content["audio"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "duration": 1,
                }
            elif item.get("type") == "video":
                content["video"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 640,
                    "height": 360,
                    "duration": 1,
                }
            else:
                content["document"] = self._document(stored)
            content["media_group_id"] = group_id
            messages.append(self._new_bot_message(call.chat_id, content))
        return messages

    def _generic_message(self, call: Call) -> dict[str, Any]:
        """A Message for send* methods without a dedicated handler (location, contact ...)."""
        params = call.params
        content = self._common_content(params, "caption")
        if call.method == "sendLocation":
            content["location"] = {
                "latitude": params.get("latitude"),
                "longitude": params.get("longitude"),
            }
        elif call.method == "sendContact":
            content["contact"] = {
                k: params[k] for k in ("phone_number", "first_name", "last_name") if k in params
            }
        elif call.method == "sendVenue":
            content["venue"] = {
                "location": {
                    "latitude": params.get("latitude"),
                    "longitude": params.get("longitude"),
                },
                "title": params.get("title", ""),
                "address": params.get("address", ""),
            }
        elif call.method == "sendDice":
            content["dice"] = {"emoji": params.get("emoji", "🎲"), "value": 1}
        return self._new_bot_message(call.chat_id, content)

    _CONTENT_KEYS = ("text", "caption", "photo", "document", "sticker", "voice", "audio", "video")

    def _source_message(self, call: Call) -> dict[str, Any] | None:
        key = (_chat_key(call.params.get("from_chat_id")), call.params.get("message_id"))
        if key in self._deleted:
            raise _ApiError(400, "Bad Request: message to copy not found")
        return self._messages.get(key)

    def _copy_message(self, call: Call) -> dict[str, Any]:
        source = self._source_message(call) or {}
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        if "caption" in call.params:
            content["caption"] = self._visible(call.params, "caption")
        if (markup := self._inline_markup(call.params)) is not None:
            content["reply_markup"] = markup
        message = self._new_bot_message(call.chat_id, content)
        return {"message_id": message["message_id"]}

    def _forward_message(self, call: Call) -> dict[str, Any]:
        source = self._source_message(call) or {}
        content: dict[str, Any] = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        sender = source.get("from")
        if sender:
            content["forward_origin"] = {
                "type": "user",
                "date": source.get("date", int(time.time())),
                "sender_user": sender,
            }
        return self._new_bot_message(call.chat_id, content)

    def _edit(self, call: Call, kind: str) -> dict[str, Any] | bool:
        params = call.params
        if "inline_message_id" in params:
            return True
        key = (_chat_key(params.get("chat_id")), params.get("message_id"))
        if key in self._deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        known = key in self._messages
        old = self._messages.get(key) or {
            "message_id": key[1],
            "from": dict(self.bot_user),
            "chat": self._chat_for(key[0]),
            "date": int(time.time()),
        }
        if known and old.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        new = dict(old)
        if kind == "text":
            if known and "text" not in old:
                raise _ApiError(400, "Bad Request: there is no text in the message to edit")
            new["text"] = self._visible(params, "text") or ""
        elif kind == "caption":
            new["caption"] = self._visible(params, "caption") or ""
        markup = self._inline_markup(params)
        if markup is None:
            new.pop("reply_markup", None)
        else:
            new["reply_markup"] = markup
        if known and all(new.get(k) == old.get(k) for k in ("text", "caption", "reply_markup")):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        new["edit_date"] = int(time.time())
        self._messages[key] = new
        return json.loads(json.dumps(new))

    def _delete_message(self, call: Call) -> bool:
        key = (_chat_key(call.params.get("chat_id")), call.params.get("message_id"))
        if key in self._deleted:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self._messages.pop(key, None)
        self._deleted.add(key)
        return True

    # ------------------------------------------------------------------ other methods

    def _get_me(self) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll still waiting gets 409, like on Telegram
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or []) or None
        limit = params.get("limit", 100)
        limit = min(max(limit if isinstance(limit, int) else 100, 1), 100)
        timeout = params.get("timeout", 0)
        timeout = max(0.0, min(float(timeout or 0), self.long_poll_cap))
        self._confirm(params.get("offset"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            if batch or self._closing:
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
            if generation != self._poll_generation:
                raise _ApiError(409, _DESCRIPTIONS[409])

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or isinstance(offset, bool) or offset == 0:
            return
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        allowed = self._allowed_updates
        kept = []
        for update in self._pending:
            kind = _update_type(update)
            if allowed is None:
                if kind in _NOT_DEFAULT_UPDATES:
                    continue
            elif kind not in allowed:
                continue  # Telegram drops update types the bot did not ask for
            kept.append(update)
        self._pending = kept
        return json.loads(json.dumps(kept[:limit]))

    def _set_webhook(self, call: Call) -> bool:
        url = call.params.get("url") or ""
        if url and self.require_https_webhook and not url.startswith("https://"):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook_url = None
            self.webhook_secret = None
            self._webhook_info = {}
            return True
        self.webhook_url = url
        self.webhook_secret = call.params.get("secret_token")
        self._webhook_info = {
            k: call.params[k] for k in ("max_connections", "allowed_updates") if k in call.params
        }
        if "allowed_updates" in call.params:
            self._allowed_updates = list(call.params["allowed_updates"] or []) or None
        self._wake()  # a long poll in progress now conflicts
        return True

    def _delete_webhook(self, call: Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = None
        self.webhook_secret = None
        self._webhook_info = {}
        return True

    def _get_webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["ip_address"] = "127.0.0.1"
            info.update(self._webhook_info)
        return info

    @staticmethod
    def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def _set_my_commands(self, call: Call) -> bool:
        self.commands[self._commands_key(call.params)] = list(call.params.get("commands") or [])
        return True

    def _get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        return list(self.commands.get(self._commands_key(call.params), []))

    def _delete_my_commands(self, call: Call) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    def _get_chat(self, call: Call) -> dict[str, Any]:
        return {
            **self._chat_for(call.chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _get_chat_member(self, call: Call) -> dict[str, Any]:
        user_id = call.params.get("user_id")
        if user_id == self.bot_id:
            return {"status": "member", "user": dict(self.bot_user)}
        user = self._users.get(user_id) if isinstance(user_id, int) else None
        user = user or {"id": user_id, "is_bot": False, "first_name": "Lan"}
        return {"status": "member", "user": dict(user)}

    def _get_file(self, call: Call) -> dict[str, Any]:
        file_id = call.params.get("file_id")
        stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None and isinstance(file_id, str) and file_id.endswith("_s"):
            stored = self._files.get(file_id[:-2])  # the small photo size
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }
