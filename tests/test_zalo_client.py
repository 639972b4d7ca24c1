"""ZaloClient, parse_update and split_text, driven against the FakeZaloAPI server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.zalo.client import (
    ZaloBadRequest,
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloNotFound,
    ZaloRateLimited,
    ZaloUnauthorized,
)
from bot.channels.zalo.text import split_text, text_length
from bot.channels.zalo.updates import ZaloUpdate, parse_update
from tests.fakes.zalo_api import DEFAULT_USER_ID, FakeZaloAPI

USER = "6ede9afa66b88fe6d6a9"


# ------------------------------------------------------------------------- fixtures


@pytest.fixture
async def api() -> AsyncIterator[FakeZaloAPI]:
    async with FakeZaloAPI(long_poll_cap=0.3) as fake:
        yield fake


def make_client(api: FakeZaloAPI, **kwargs: Any) -> ZaloClient:
    options: dict[str, Any] = {"backoff_base": 0.001, "messages_per_second": 1000.0}
    options.update(kwargs)
    return ZaloClient(api.token, api_base=api.base_url, **options)


@pytest.fixture
async def client(api: FakeZaloAPI) -> AsyncIterator[ZaloClient]:
    async with make_client(api) as zalo:
        yield zalo


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------- basic calls


async def test_get_me(client: ZaloClient, api: FakeZaloAPI) -> None:
    me = await client.get_me()
    assert set(me) == {"id", "account_name", "account_type", "can_join_groups"}
    assert api.calls_to("getMe")


async def test_send_message_is_recorded(client: ZaloClient, api: FakeZaloAPI) -> None:
    result = await client.send_message(USER, "Xin chào bác")
    assert isinstance(result["message_id"], str) and isinstance(result["date"], int)
    assert api.sent_texts(USER) == ["Xin chào bác"]
    assert api.violations == []


async def test_send_photo_and_chat_action(client: ZaloClient, api: FakeZaloAPI) -> None:
    assert await client.send_chat_action(USER) is True
    await client.send_photo(USER, "https://example.org/a.png", caption="Ảnh")
    [photo] = api.sent(USER)
    assert (photo.kind, photo.photo, photo.text) == ("photo", "https://example.org/a.png", "Ảnh")
    assert api.violations == []


@pytest.mark.parametrize("text", ["", "a" * 2001])
async def test_bad_text_length_rejected_client_side(
    client: ZaloClient, api: FakeZaloAPI, text: str
) -> None:
    with pytest.raises(ValueError):
        await client.send_message(USER, text)
    assert api.calls == []  # never reached the server


async def test_2000_chars_accepted(client: ZaloClient, api: FakeZaloAPI) -> None:
    await client.send_message(USER, "a" * 2000)
    assert api.sent_texts() == ["a" * 2000]


async def test_non_string_chat_id_rejected(client: ZaloClient) -> None:
    with pytest.raises(ValueError):
        await client.send_message(12345, "hi")  # type: ignore[arg-type]


# ---------------------------------------------------------------- error handling


@pytest.mark.parametrize(
    ("code", "error_cls"),
    [(400, ZaloBadRequest), (403, ZaloForbidden), (404, ZaloNotFound), (401, ZaloUnauthorized)],
)
async def test_ok_false_on_http_200_raises_typed_error(
    client: ZaloClient, api: FakeZaloAPI, code: int, error_cls: type[ZaloError]
) -> None:
    api.fail_next("sendMessage", code, http_status=200, description="nope")
    with pytest.raises(error_cls) as info:
        await client.send_message(USER, "hi")
    err = info.value
    assert (err.error_code, err.description, err.method) == (code, "nope", "sendMessage")
    assert len(api.calls_to("sendMessage")) == 1  # never retried
    assert api.sent() == []


async def test_401_wrong_token_not_retried(api: FakeZaloAPI) -> None:
    async with ZaloClient("999:wrong", api_base=api.base_url, backoff_base=0.001) as zalo:
        with pytest.raises(ZaloUnauthorized) as info:
            await zalo.get_me()
    assert info.value.error_code == 401
    api.fail_next("getMe", 401)
    async with make_client(api) as zalo:
        with pytest.raises(ZaloUnauthorized):
            await zalo.get_me()
    assert len(api.calls_to("getMe")) == 1


async def test_429_then_success_is_retried(client: ZaloClient, api: FakeZaloAPI) -> None:
    api.fail_next("sendMessage", 429, times=2)
    await client.send_message(USER, "hi")
    assert api.http_429 == 2
    assert len(api.calls_to("sendMessage")) == 3
    assert api.sent_texts() == ["hi"]


async def test_429_on_http_200_is_retried(client: ZaloClient, api: FakeZaloAPI) -> None:
    api.fail_next("sendMessage", 429, http_status=200)
    await client.send_message(USER, "hi")
    assert api.sent_texts() == ["hi"]


async def test_429_forever_raises_rate_limited(api: FakeZaloAPI) -> None:
    api.fail_next("sendMessage", 429, times=-1)
    async with make_client(api, max_retries=2) as zalo:
        with pytest.raises(ZaloRateLimited) as info:
            await zalo.send_message(USER, "hi")
    assert info.value.error_code == 429
    assert len(api.calls_to("sendMessage")) == 3  # 1 try + 2 retries
    assert api.sent() == []


async def test_429_honours_retry_after(client: ZaloClient, api: FakeZaloAPI) -> None:
    api.fail_next("sendMessage", 429, retry_after=0.2)
    started = time.monotonic()
    await client.send_message(USER, "hi")
    assert time.monotonic() - started >= 0.19


async def test_5xx_retried_then_network_error(api: FakeZaloAPI) -> None:
    api.fail_next("getMe", 503)
    async with make_client(api, max_retries=1) as zalo:
        assert await zalo.get_me()  # one 503, then success
        api.fail_next("getMe", 502, times=-1)
        with pytest.raises(ZaloNetworkError) as info:
            await zalo.get_me()
    assert info.value.error_code == 502
    assert len(api.calls_to("getMe")) == 4


async def test_closed_port_raises_network_error() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    async with ZaloClient("1:t", api_base=base, max_retries=1, backoff_base=0.001) as zalo:
        with pytest.raises(ZaloNetworkError) as info:
            await zalo.get_me()
    assert info.value.error_code is None and info.value.method == "getMe"


async def test_stopped_server_raises_network_error() -> None:
    api = FakeZaloAPI()
    await api.start()
    zalo = make_client(api, max_retries=1)
    assert await zalo.get_me()
    await api.stop()
    with pytest.raises(ZaloNetworkError):
        await zalo.send_message(USER, "hi")
    await zalo.close()


async def test_token_never_in_error_text(api: FakeZaloAPI) -> None:
    token = api.token
    errors: list[ZaloError] = []
    # A server that echoes the token in its description.
    api.fail_next("getMe", 400, description=f"bad request for /bot{token}/getMe")
    async with make_client(api) as zalo:
        try:
            await zalo.get_me()
        except ZaloError as exc:
            errors.append(exc)
    base = f"http://127.0.0.1:{closed_port()}"
    async with ZaloClient(token, api_base=base, max_retries=0) as zalo:
        try:
            await zalo.get_me()
        except ZaloError as exc:
            errors.append(exc)
    async with ZaloClient(token, api_base="http://exa mple:bad", max_retries=0) as zalo:
        try:
            await zalo.get_me()
        except ZaloError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for err in errors:
        assert err.__cause__ is None
        for text in (str(err), repr(err), err.description):
            assert token not in text and "fake-secret" not in text
    assert token not in repr(ZaloClient(token))


# ------------------------------------------------------------------------ updates


async def test_get_updates_408_returns_none(client: ZaloClient) -> None:
    started = time.monotonic()
    assert await client.get_updates(timeout=5) is None  # fake caps the poll at 0.3 s
    assert time.monotonic() - started < 3


async def test_one_update_per_get_updates(client: ZaloClient, api: FakeZaloAPI) -> None:
    first = api.feed("một", user_id="u1")
    api.feed("hai", user_id="u2")
    got1 = await client.get_updates(timeout=1)
    got2 = await client.get_updates(timeout=1)
    assert got1 == first
    assert [parse_update(got1).text, parse_update(got2).text] == ["một", "hai"]
    assert await client.get_updates(timeout=1) is None


async def test_long_poll_wakes_on_feed(client: ZaloClient, api: FakeZaloAPI) -> None:
    poll = asyncio.create_task(client.get_updates(timeout=1))
    await asyncio.sleep(0.05)
    api.feed("muộn")
    update = parse_update(await poll)
    assert update is not None and update.text == "muộn" and update.user_id == DEFAULT_USER_ID


async def test_webhook_round_trip(client: ZaloClient, api: FakeZaloAPI) -> None:
    received: list[tuple[str | None, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Bot-Api-Secret-Token"), await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        with pytest.raises(ValueError):
            await client.set_webhook(url, "short")
        with pytest.raises(ZaloBadRequest):  # not https, not loopback
            await client.set_webhook("http://example.org/hook", "s3cret-token")
        assert (await client.set_webhook(url, "s3cret-token"))["url"] == url
        assert (await client.get_webhook_info())["url"] == url
        with pytest.raises(ZaloBadRequest):  # getUpdates unusable with a webhook
            await client.get_updates(timeout=1)

        status, _ = await api.deliver({"text": "qua webhook", "user_id": "u9"})
        assert status == 200
        await api.deliver({"text": "giả"}, secret="forged-secret", wrapped=False)
        secret, body = received[0]
        assert secret == "s3cret-token"
        assert parse_update(body).text == "qua webhook"
        assert received[1][0] == "forged-secret"
        assert parse_update(received[1][1]).text == "giả"

        assert (await client.delete_webhook())["url"] == ""
        assert await client.get_updates(timeout=0) is None
    finally:
        await runner.cleanup()


# --------------------------------------------------------------- fake strictness


async def test_fake_rejects_what_the_platform_rejects(api: FakeZaloAPI) -> None:
    async with aiohttp.ClientSession() as http:
        base = f"{api.base_url}/bot{api.token}"
        async with http.post(f"{base}/sendmessage", json={}) as resp:
            assert resp.status == 404  # method names are case-sensitive
        async with http.post(f"{base}/sendMessage", json={"chat_id": 1, "text": "x"}) as resp:
            assert resp.status == 400
        async with http.post(
            f"{base}/sendMessage", data={"chat_id": USER, "text": "x" * 2001}
        ) as r:
            assert r.status == 400 and (await r.json())["ok"] is False
        async with http.get(f"{base}/sendMessage", params={"chat_id": USER, "text": "q"}) as r:
            assert r.status == 200
        async with http.post(f"{base}/sendChatAction", json={"chat_id": USER, "action": "x"}) as r:
            assert r.status == 400
    assert len(api.violations) == 3
    assert api.sent_texts() == ["q"]


async def test_rate_limiter_paces_sends(api: FakeZaloAPI) -> None:
    async with make_client(api, messages_per_second=50.0) as zalo:
        started = time.monotonic()
        for i in range(6):
            await zalo.send_message(USER, f"m{i}")
        assert time.monotonic() - started >= 0.09  # 5 intervals of 20 ms
    assert api.http_429 == 0


async def test_fake_rate_limit_triggers_client_backoff() -> None:
    async with (
        FakeZaloAPI(rate_limit=3) as api,
        make_client(api, backoff_base=0.4, max_retries=3) as zalo,
    ):
        for i in range(4):
            await zalo.send_message(USER, f"m{i}")
    assert api.http_429 >= 1
    assert api.sent_texts() == ["m0", "m1", "m2", "m3"]


# -------------------------------------------------------------------- parse_update

_SAMPLE: dict[str, Any] = {
    "event_name": "message.text.received",
    "message": {
        "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
        "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
        "text": "Xin chào",
        "message_id": "2d758cb5e222177a4e35",
        "date": 1750316131602,
    },
}


def _with(message_changes: dict[str, Any], event_name: str | None = None) -> dict[str, Any]:
    message = {**_SAMPLE["message"], **message_changes}
    message = {k: v for k, v in message.items() if v is not _DROP}
    return {"event_name": event_name or _SAMPLE["event_name"], "message": message}


_DROP = object()


def test_parse_wrapped_and_bare() -> None:
    expected = ZaloUpdate(
        event_name="message.text.received",
        message_id="2d758cb5e222177a4e35",
        user_id="6ede9afa66b88fe6d6a9",
        chat_id="6ede9afa66b88fe6d6a9",
        display_name="Ted",
        text="Xin chào",
        date_ms=1750316131602,
        kind="text",
        chat_type="PRIVATE",
    )
    assert parse_update({"ok": True, "result": _SAMPLE}) == expected
    assert parse_update(_SAMPLE) == expected


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {},
        {"ok": False, "error_code": 408, "description": "timeout"},
        {"ok": True, "result": None},
        {"ok": True, "result": [_SAMPLE]},
        {"event_name": "message.text.received"},
        {"event_name": 5, "message": _SAMPLE["message"]},
        {"event_name": "message.text.received", "message": "hi"},
        _with({"from": _DROP}),
        _with({"from": {"display_name": "no id"}}),
        _with({"from": {"id": 123}}),  # ids are strings
        _with({"message_id": _DROP}),
        _with({"message_id": 42}),
        _with({"chat": "PRIVATE"}),
    ],
)
def test_parse_malformed_returns_none(body: Any) -> None:
    assert parse_update(body) is None


def test_parse_kinds() -> None:
    sticker = parse_update(_with({"text": _DROP}, "message.sticker.received"))
    image = parse_update(_with({"text": _DROP}, "message.image.received"))
    unsupported = parse_update(_with({"text": _DROP}, "message.unsupported.received"))
    voice = parse_update(_with({"text": _DROP}, "message.voice.received"))
    assert sticker is not None and (sticker.kind, sticker.text) == ("sticker", None)
    assert image is not None and (image.kind, image.text) == ("image", None)
    assert unsupported is not None and unsupported.kind == "unsupported"
    assert voice is not None and voice.kind == "other"


def test_parse_tolerates_optional_oddities() -> None:
    update = parse_update(_with({"chat": _DROP, "date": "oops", "text": 7}))
    assert update is not None
    assert (update.chat_id, update.chat_type, update.date_ms, update.text) == (
        "6ede9afa66b88fe6d6a9",
        None,
        None,
        None,
    )
    group = parse_update(_with({"chat": {"id": "g1", "chat_type": "GROUP"}}))
    assert group is not None and (group.chat_id, group.chat_type) == ("g1", "GROUP")


# ---------------------------------------------------------------------- split_text


def _words(chunks: list[str]) -> list[str]:
    return " ".join(chunks).split()


def test_split_short_text_unchanged() -> None:
    assert split_text("Xin chào") == ["Xin chào"]
    assert split_text("   \n\n ") == []


def test_split_paragraphs_at_boundary() -> None:
    para = ("Bác hãy mở ứng dụng VNeID trên điện thoại. " * 12).strip()  # ~500 chars
    paragraphs = [f"{i}. {para}" for i in range(5)]
    text = "\n\n".join(paragraphs)
    assert 2400 <= len(text) <= 2700
    chunks = split_text(text)
    assert len(chunks) == 2
    assert all(0 < len(c) <= 2000 for c in chunks)
    # The cut falls between paragraphs: every paragraph is whole in one chunk.
    assert chunks == ["\n\n".join(paragraphs[:3]), "\n\n".join(paragraphs[3:])]
    assert _words(chunks) == text.split()


def test_split_long_paragraph_at_spaces_never_mid_word() -> None:
    words = [f"từ{i}" for i in range(900)]  # one paragraph, no sentence ends, ~5,000 chars
    text = " ".join(words)
    chunks = split_text(text, limit=2000)
    assert len(chunks) >= 3
    assert all(0 < len(c) <= 2000 for c in chunks)
    assert _words(chunks) == words  # no word cut, order kept


def test_split_prefers_lines_then_sentences() -> None:
    lines = ["Dòng một có vài chữ.", "Dòng hai. Câu thứ hai của dòng hai dài hơn."]
    chunks = split_text("\n".join(lines), limit=30)
    assert chunks[0] == "Dòng một có vài chữ."
    assert "Dòng hai." in chunks
    assert all(len(c) <= 30 for c in chunks)
    assert _words(chunks) == " ".join(lines).split()


def test_split_hard_cuts_only_overlong_words() -> None:
    chunks = split_text("ngắn " + "x" * 25 + " cuối", limit=10)
    assert chunks == ["ngắn", "x" * 10, "x" * 10, "x" * 5 + " cuối"]


def test_split_counts_emoji_conservatively() -> None:
    text = "👉 " * 800  # 2,400 UTF-16 units, 1,600 code points
    chunks = split_text(text)
    assert len(chunks) == 2
    assert all(text_length(c) <= 2000 for c in chunks)
