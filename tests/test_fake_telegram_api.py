"""Tests of the fake Telegram Bot API server, driven by the real aiogram client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram_api import SECRET_HEADER, FakeTelegramAPI, RateLimits
from tests.fakes.telegram_spec import SPEC_AVAILABLE, SPEC_PATH, get_spec, parse_entities

requires_spec = pytest.mark.skipif(
    not SPEC_AVAILABLE, reason=f"Telegram Bot API spec not found at {SPEC_PATH}"
)

CHAT = 42


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(rate_limits=False) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegramAPI) -> Bot:
    return fake.create_bot()  # closed by the fake


async def raw_post(fake: FakeTelegramAPI, method: str, payload: dict[str, Any]) -> tuple[int, dict]:
    """POST a JSON body straight to the fake, bypassing aiogram's validation."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{fake.token}/{method}", json=payload) as resp,
    ):
        return resp.status, await resp.json()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=f"Nút {d}", callback_data=d)] for d in data]
    )


# --------------------------------------------------------------------------- basics


async def test_get_me(fake: FakeTelegramAPI) -> None:
    # Built by hand (not fake.create_bot) to prove the documented URL layout works.
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    bot = Bot(fake.token, session=session)
    try:
        me = await bot.get_me()
    finally:
        await session.close()
    assert me.is_bot is True
    assert me.username == "hocvuso_test_bot"
    assert me.id == fake.bot_id
    assert [c.method for c in fake.calls] == ["getMe"]
    fake.assert_no_violations()


async def test_wrong_token_is_unauthorized(fake: FakeTelegramAPI) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    intruder = Bot("111:not-the-token", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await session.close()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot111:nope/getMe") as resp,
    ):
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


@requires_spec
async def test_valid_send_message_with_inline_keyboard(fake: FakeTelegramAPI, bot: Bot) -> None:
    first = await bot.send_message(CHAT, "Chào bác! Bác muốn học gì?", reply_markup=keyboard("a"))
    second = await bot.send_message(CHAT, "Chọn bài học", reply_markup=keyboard("b", "c"))
    other = await bot.send_message(7, "Chat khác")

    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.chat.id == CHAT and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.is_bot
    # echoed and parsed by aiogram
    assert second.reply_markup.model_dump() == keyboard("b", "c").model_dump()
    assert fake.texts(CHAT) == ["Chào bác! Bác muốn học gì?", "Chọn bài học"]
    call = fake.sent_messages(CHAT)[1]
    assert call.params["chat_id"] == CHAT  # decoded from the multipart string "42"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Nút b", "callback_data": "b"}],
            [{"text": "Nút c", "callback_data": "c"}],
        ]
    }
    assert call.button_texts() == ["Nút b", "Nút c"]
    assert fake.violations == []
    fake.assert_no_violations()


@requires_spec
async def test_reply_keyboard_and_html_are_accepted(fake: FakeTelegramAPI, bot: Bot) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📱 Gửi số điện thoại", request_contact=True)]],
        resize_keyboard=True,
    )
    sent = await bot.send_message(
        CHAT, "<b>Bước 1</b>: bấm nút &lt;Gửi&gt;", parse_mode="HTML", reply_markup=markup
    )
    assert sent.text == "Bước 1: bấm nút <Gửi>"  # what the user sees
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    fake.assert_no_violations()


# --------------------------------------------------------------------------- violations


@requires_spec
async def test_missing_chat_id_is_a_violation(fake: FakeTelegramAPI) -> None:
    status, body = await raw_post(fake, "sendMessage", {"text": "xin chào"})
    assert status == 400
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    assert any("sendMessage" in v and "chat_id" in v for v in fake.violations)
    with pytest.raises(AssertionError, match="chat_id"):
        fake.assert_no_violations()


@requires_spec
async def test_callback_data_is_limited_to_64_bytes(fake: FakeTelegramAPI, bot: Bot) -> None:
    ok = "đ" * 32  # 32 characters, 64 bytes in UTF-8
    await bot.send_message(CHAT, "Câu hỏi", reply_markup=keyboard(ok))
    fake.assert_no_violations()

    too_long = ok + "a"  # 33 characters but 65 bytes
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(CHAT, "Câu hỏi", reply_markup=keyboard(too_long))
    assert len(fake.violations) == 1
    assert "callback_data" in fake.violations[0] and "65 bytes" in fake.violations[0]
    assert len(fake.sent_messages(CHAT)) == 1  # the rejected one is not "sent"


@requires_spec
async def test_text_longer_than_4096_characters(fake: FakeTelegramAPI, bot: Bot) -> None:
    await bot.send_message(CHAT, "ạ" * 4096)  # characters, not bytes
    fake.assert_no_violations()
    with pytest.raises(TelegramBadRequest, match="4097"):
        await bot.send_message(CHAT, "ạ" * 4097)
    assert fake.violations == ["sendMessage: text: 4097 characters, must be 1-4096 characters"]


@requires_spec
async def test_unknown_field_is_a_violation(fake: FakeTelegramAPI) -> None:
    status, body = await raw_post(fake, "sendMessage", {"chat_id": CHAT, "text": "hi", "colour": 1})
    assert status == 400
    assert "colour" in body["description"]
    assert fake.violations == ["sendMessage: colour: unknown field for sendMessage"]


@requires_spec
async def test_unknown_method_is_404_and_a_violation(fake: FakeTelegramAPI) -> None:
    status, body = await raw_post(fake, "sendMesage", {"chat_id": CHAT, "text": "hi"})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert len(fake.violations) == 1 and "sendMesage" in fake.violations[0]


@requires_spec
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"text": "Dòng 1<br>Dòng 2", "parse_mode": "HTML"}, 'Unsupported start tag "br"'),
        ({"text": "<b>đậm", "parse_mode": "HTML"}, "Can't find end tag"),
        ({"text": "Giá 5.000đ!", "parse_mode": "MarkdownV2"}, "Character '.' is reserved"),
        ({"text": "xin chào", "parse_mode": "html5"}, "unsupported parse_mode"),
        ({"text": "   "}, "non-empty"),
    ],
)
async def test_formatting_errors(
    fake: FakeTelegramAPI, bot: Bot, kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(CHAT, **kwargs)
    assert len(fake.violations) == 1 and fragment in fake.violations[0]


@requires_spec
async def test_bot_commands_rules(fake: FakeTelegramAPI, bot: Bot) -> None:
    good = [
        BotCommand(command="start", description="Bắt đầu"),
        BotCommand(command="hoc_bai", description="Học"),
    ]
    assert await bot.set_my_commands(good) is True
    assert [c.command for c in await bot.get_my_commands()] == ["start", "hoc_bai"]
    fake.assert_no_violations()

    with pytest.raises(TelegramBadRequest):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_commands([BotCommand(command="a" * 33, description="x")])
    many = [BotCommand(command=f"c{i}", description="x") for i in range(101)]
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_commands(many)
    assert len(fake.violations) == 3
    assert "lowercase" in fake.violations[0]
    assert "33 characters" in fake.violations[1]
    assert "101 items" in fake.violations[2]


@requires_spec
async def test_inline_button_needs_exactly_one_action(fake: FakeTelegramAPI) -> None:
    markup = {"inline_keyboard": [[{"text": "Không làm gì"}], []]}
    status, _ = await raw_post(
        fake, "sendMessage", {"chat_id": CHAT, "text": "x", "reply_markup": markup}
    )
    assert status == 400
    joined = "\n".join(fake.violations)
    assert "exactly one action" in joined
    assert "row must not be empty" in joined


@requires_spec
async def test_answer_callback_query_text_limit(fake: FakeTelegramAPI, bot: Bot) -> None:
    assert await bot.answer_callback_query("123", text="Đúng rồi!") is True
    with pytest.raises(TelegramBadRequest):
        await bot.answer_callback_query("123", text="x" * 201)
    assert "201 characters" in fake.violations[0]


# --------------------------------------------------------------------------- results


@requires_spec
async def test_results_and_updates_match_the_spec(fake: FakeTelegramAPI, bot: Bot) -> None:
    """Everything the fake returns is valid per the spec and parsed by aiogram."""
    spec = get_spec()
    assert spec is not None
    sent = await bot.send_message(CHAT, "Bài 1", reply_markup=keyboard("next"))
    await bot.send_photo(CHAT, BufferedInputFile(b"\xff\xd8jpeg", "bai1.jpg"), caption="Ảnh")
    await bot.send_document(CHAT, BufferedInputFile(b"%PDF-1.4", "huong-dan.pdf"))
    await bot.edit_message_text("Bài 1 (đã xem)", chat_id=CHAT, message_id=sent.message_id)
    await bot.send_chat_action(CHAT, "typing")
    await bot.get_webhook_info()
    await bot.get_chat(CHAT)
    await bot.copy_message(CHAT, CHAT, sent.message_id)
    await bot.forward_message(CHAT, CHAT, sent.message_id)
    await bot.get_me()
    for call in fake.calls:
        returns = spec.method(call.method).returns
        assert call.ok, call.response
        assert spec.check_value(call.result, returns, "result") == [], call.method

    builders = [
        fake.message_update(CHAT, "/start"),
        fake.message_update(-100123, "chào cả nhóm", user_id=5, chat_type="supergroup"),
        fake.callback_update(CHAT, "next"),
        fake.sticker_update(CHAT),
        fake.photo_update(CHAT, caption="ảnh màn hình"),
        fake.contact_update(CHAT, "+84901234567"),
        fake.voice_update(CHAT),
    ]
    for update in builders:
        update = fake.feed(update)
        assert spec.check_value(update, "Update") == [], update
        Update.model_validate(update, context={"bot": bot})
    fake.assert_no_violations()


async def test_photo_upload_is_recorded_and_downloadable(fake: FakeTelegramAPI, bot: Bot) -> None:
    sent = await bot.send_photo(CHAT, BufferedInputFile(b"PNGDATA", "qr.png"), caption="Mã QR")
    call = fake.calls_to("sendPhoto")[0]
    assert call.file("photo") == b"PNGDATA"
    assert list(call.files.values()) == [b"PNGDATA"]
    assert fake.texts(CHAT) == ["Mã QR"]
    downloaded = await bot.download(sent.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == b"PNGDATA"


async def test_edit_that_changes_nothing_is_rejected_like_telegram(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "Câu 1", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Câu 1", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    edited = await bot.edit_message_text("Câu 1 ✅", chat_id=CHAT, message_id=sent.message_id)
    assert edited.text == "Câu 1 ✅" and edited.reply_markup is None  # keyboard removed
    assert fake.message(CHAT, sent.message_id)["text"] == "Câu 1 ✅"
    assert fake.violations == []  # a Telegram error, not a spec violation


# --------------------------------------------------------------------------- updates


async def test_get_updates_returns_fed_updates_and_honours_offset(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    first = fake.feed(fake.message_update(CHAT, "xin chào"))
    fake.feed(fake.callback_update(CHAT, "lesson:1"))
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    assert updates[0].message.text == "xin chào"
    assert updates[1].callback_query.data == "lesson:1"

    # Not confirmed yet: returned again. limit is honoured.
    assert len(await bot.get_updates(limit=1)) == 1
    # Confirm both: the queue is empty.
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []
    assert fake.pending_updates == []
    later = fake.feed(fake.message_update(CHAT, "bài 2"))
    again = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert [u.update_id for u in again] == [later["update_id"]]


async def test_get_updates_long_polls(fake: FakeTelegramAPI, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=30) == []  # capped at fake.long_poll_cap
    assert 0.4 <= loop.time() - started < 2

    async def feed_later() -> None:
        await asyncio.sleep(0.1)
        fake.feed(fake.message_update(CHAT, "đến rồi"))

    started = loop.time()
    task = asyncio.create_task(feed_later())
    updates = await bot.get_updates(timeout=30)
    await task
    assert [u.message.text for u in updates] == ["đến rồi"]
    assert loop.time() - started < 0.4


async def test_second_poller_conflicts(fake: FakeTelegramAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    assert await bot.get_updates() == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first


async def test_allowed_updates_filters_update_types(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.feed(fake.message_update(CHAT, "tin nhắn"))
    fake.feed(fake.callback_update(CHAT, "x"))
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_polling_dispatcher_end_to_end(fake: FakeTelegramAPI) -> None:
    """aiogram's own polling loop works against the fake (offsets, parsing, replies)."""
    bot = fake.create_bot()
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"Bạn viết: {message.text}", reply_markup=keyboard("ok"))

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("Đã nhận")

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    try:
        fake.feed(fake.message_update(CHAT, "một"))
        fake.feed(fake.message_update(CHAT, "hai"))
        for _ in range(100):
            if len(fake.sent_messages(CHAT)) == 2:
                break
            await asyncio.sleep(0.02)
        fake.feed(fake.button_update(CHAT, "Nút ok"))
        for _ in range(100):
            if fake.calls_to("answerCallbackQuery"):
                break
            await asyncio.sleep(0.02)
    finally:
        await dp.stop_polling()
        await polling
    assert sorted(fake.texts(CHAT)) == ["Bạn viết: hai", "Bạn viết: một"]
    assert fake.calls_to("answerCallbackQuery")[0].params["text"] == "Đã nhận"
    # aiogram confirmed what it processed: later polls asked for newer updates only.
    offsets = [c.params.get("offset") for c in fake.calls_to("getUpdates")]
    assert any(isinstance(o, int) and o > 0 for o in offsets)
    fake.assert_no_violations()


# --------------------------------------------------------------------------- failures


async def test_injected_429_surfaces_as_retry_after(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "lần 1")
    assert info.value.retry_after == 7
    await bot.send_message(CHAT, "lần 2")  # only the next call failed
    assert [c.status for c in fake.injected] == [429]
    assert fake.violations == [] and fake.http_429 == 0
    assert fake.texts(CHAT) == ["lần 2"]


async def test_injected_403_blocked_and_500(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_next("sendMessage", 403, chat_id=CHAT)
    await bot.send_message(CHAT + 1, "người khác")  # not this chat: unaffected
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "chào")
    fake.fail_next("*", 500, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    assert (await bot.get_me()).is_bot
    assert [c.status for c in fake.injected] == [403, 500, 500]


async def test_rate_limit_per_chat() -> None:
    limits = RateLimits(per_chat_per_second=1.0, per_chat_burst=2)
    async with FakeTelegramAPI(rate_limits=limits) as fake:
        bot = fake.create_bot()
        await bot.send_message(CHAT, "1")
        await bot.send_message(CHAT, "2")
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(CHAT, "3")
        assert info.value.retry_after == 1
        await bot.send_message(CHAT + 1, "other chat is fine")
        assert fake.http_429 == 1
        assert [c.params["text"] for c in fake.rate_limited] == ["3"]
        assert fake.texts(CHAT) == ["1", "2"]
        fake.assert_no_violations()


async def test_rate_limit_global_and_refill() -> None:
    limits = RateLimits(global_per_second=5.0, global_burst=3, per_chat_burst=10)
    async with FakeTelegramAPI(rate_limits=limits) as fake:
        bot = fake.create_bot()
        for chat in (1, 2, 3):
            await bot.send_message(chat, "tin")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(4, "tin")
        await bot.get_me()  # not a message-sending method: never limited
        await asyncio.sleep(0.25)  # 5 tokens/s refill: one token after 200 ms
        await bot.send_message(4, "tin")
        assert fake.http_429 == 1


async def test_rate_limits_can_be_disabled(fake: FakeTelegramAPI, bot: Bot) -> None:
    for i in range(10):
        await bot.send_message(CHAT, str(i))
    assert fake.http_429 == 0 and len(fake.sent_messages(CHAT)) == 10


# --------------------------------------------------------------------------- webhook


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[web.Request], list[dict]]]:
    """A tiny webhook endpoint recording the requests it receives."""
    seen: list[web.Request] = []
    bodies: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", seen, bodies
    await runner.cleanup()


async def test_webhook_posting_sends_the_secret_header(
    fake: FakeTelegramAPI, bot: Bot, receiver: tuple[str, list[web.Request], list[dict]]
) -> None:
    url, seen, bodies = receiver
    assert await bot.set_webhook(url, secret_token="s3cr3t-Token_1") is True
    info = await bot.get_webhook_info()
    assert info.url == url

    status, _ = await fake.post_to_webhook(fake.message_update(CHAT, "qua webhook"))
    assert status == 200
    assert seen[0].headers[SECRET_HEADER] == "s3cr3t-Token_1"
    assert bodies[0]["message"]["text"] == "qua webhook"
    assert isinstance(bodies[0]["update_id"], int)

    await fake.post_to_webhook(fake.message_update(CHAT, "giả mạo"), secret_override="forged")
    await fake.post_to_webhook(fake.message_update(CHAT, "không có"), secret_override=None)
    assert seen[1].headers[SECRET_HEADER] == "forged"
    assert SECRET_HEADER not in seen[2].headers

    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == []
    fake.assert_no_violations()


@requires_spec
async def test_bad_webhook_secret_is_a_violation(fake: FakeTelegramAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest):
        await bot.set_webhook("https://example.org/hook", secret_token="có dấu")
    assert "secret_token" in fake.violations[0]


async def test_webhook_reply_is_executed_and_checked(fake: FakeTelegramAPI) -> None:
    """aiogram answering in the webhook response body is recorded like a normal call."""
    bot = fake.create_bot()
    router = Router()

    @router.message()
    async def reply(message: Message) -> SendMessage:
        return message.answer(f"Đã nhận: {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="tok", handle_in_background=False).register(
        app, path="/tg"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
        await bot.set_webhook(url, secret_token="tok")
        status, _ = await fake.post_to_webhook(fake.message_update(CHAT, "chào"))
        assert status == 200
        forged, _ = await fake.post_to_webhook(
            fake.message_update(CHAT, "x"), secret_override="bad"
        )
        assert forged == 401  # aiogram rejects a wrong secret
    finally:
        await runner.cleanup()
    replies = [c for c in fake.calls if c.source == "webhook_reply"]
    assert [(c.method, c.params["text"]) for c in replies] == [("sendMessage", "Đã nhận: chào")]
    assert fake.texts(CHAT) == ["Đã nhận: chào"]
    fake.assert_no_violations()


# --------------------------------------------------------------------------- plumbing


async def test_form_json_and_query_encodings_are_accepted(fake: FakeTelegramAPI) -> None:
    url = f"{fake.base_url}/bot{fake.token}"
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/sendMessage", data={"chat_id": "5", "text": "form"}) as r:
            assert r.status == 200
        async with http.get(f"{url}/sendMessage", params={"chat_id": "5", "text": "123"}) as r:
            assert r.status == 200
        payload = {"chat_id": 5, "text": "json", "reply_markup": json.loads(markup)}
        async with http.post(f"{url}/sendMessage", json=payload) as r:
            assert (await r.json())["result"]["reply_markup"] == json.loads(markup)
    assert fake.texts(5) == ["form", "123", "json"]  # "123" stays a String for text
    fake.assert_no_violations()


async def test_without_spec_checking_the_server_still_works() -> None:
    async with FakeTelegramAPI(spec_check=False, rate_limits=False) as fake:
        bot = fake.create_bot()
        await bot.send_message(CHAT, "x" * 5000)  # not checked
        assert fake.texts(CHAT) == ["x" * 5000]
        assert fake.violations == []


@requires_spec
def test_spec_checker_unit_cases() -> None:
    spec = get_spec()
    assert spec is not None
    assert spec.check_call("sendMessage", {"chat_id": "@kenh", "text": "x"}) == []
    assert spec.check_call("sendMessage", {"chat_id": 1.5, "text": "x"}) == [
        "chat_id: expected Integer or String, got float"
    ]
    assert spec.check_call("sendPhoto", {"chat_id": 1, "photo": "attach://p"}) != []
    assert spec.check_call("sendPhoto", {"chat_id": 1, "photo": "attach://p"}, files=["p"]) == []
    assert spec.check_call("sendPhoto", {"chat_id": 1, "caption": "c" * 1025}, files=["photo"]) == [
        "caption: 1025 characters, must be 0-1024 characters"
    ]
    assert spec.check_call("editMessageText", {"chat_id": 1, "text": "x"}) == [
        "message_id: required when inline_message_id not given"
    ]
    scope = {"type": "chat"}  # BotCommandScopeChat needs chat_id
    problems = spec.check_call("setMyCommands", {"commands": [], "scope": scope})
    assert problems == ["scope.chat_id: required field is missing"]
    assert spec.decode_value("123", ["String"]) == "123"
    assert spec.decode_value("123", ["Integer", "String"]) == 123
    assert spec.decode_value("true", ["Boolean"]) is True
    assert parse_entities("<i>a</b>", "HTML")[0] is not None
    assert parse_entities("*đậm* \\. _nghiêng_ `a.b` [x](http://a.b/c)", "MarkdownV2") == (
        None,
        "đậm . nghiêng a.b x",
    )
