"""Hostile bodies and text through the real webhooks, on SQLite and PostgreSQL.

Any body, at any depth or size, gets 400 or 413 and no traceback; names and texts with
lone surrogates, NUL or other control characters are cleaned on the way in, so consent,
questions and codes still work (PostgreSQL refuses NUL in text; no database stores a
lone surrogate)."""

from __future__ import annotations

import json
import logging
import unicodedata

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import ChannelAccount, Person
from storage.team_models import TeamQuestion
from tests.test_telegram_e2e import CHAT, SECRET, account, running
from tests.test_zalo_e2e import SECRET as ZALO_SECRET
from tests.test_zalo_e2e import api, run_zalo  # noqa: F401 (api is a fixture)


def nested_replies(depth: int) -> dict:
    """A well-formed Telegram update whose message replies to a message ... `depth` deep."""
    message: dict = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}}
    for n in range(depth):
        message = {"message_id": n + 2, "date": 1, "chat": {"id": 1, "type": "private"},
                   "text": "x", "reply_to_message": message}  # fmt: skip
    return {"update_id": 1, "message": message}


HOSTILE_BODIES = {
    "10,000 nested lists": b"[" * 10_000 + b"]" * 10_000,
    "10,000 nested objects in an update": b'{"update_id": 1, "message": '
    + b'{"a": ' * 10_000
    + b"1"
    + b"}" * 10_001,
    "100,000 nested objects": b'{"a":' * 100_000,
    "900 nested replies in a valid update": json.dumps(nested_replies(900)).encode(),
    "not UTF-8": b'\xff\xfe{"update_id": 1}',
    "a lone surrogate string": b'"\\ud800"',
    "a number too long to read": b"1" * 100_000,
    "empty": b"",
}
TOO_BIG = b'{"x": "' + b"a" * 2_000_000 + b'"}'
# A lone surrogate, NUL, a bell and a decomposed "ễ": what some phones and bots send.
HOSTILE_NAME = "Lan\ud800\x00\x07 Nguye\u0302\u0303n"
CLEAN_NAME = "Lan Nguyễn"


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


async def post_all(url: str, headers: dict[str, str]) -> dict[str, int]:
    statuses = {}
    async with aiohttp.ClientSession(headers=headers) as http:
        for name, body in {**HOSTILE_BODIES, "2 MB": TOO_BIG}.items():
            async with http.post(url, data=body) as response:
                statuses[name] = response.status
    return statuses


EXPECTED = {**dict.fromkeys(HOSTILE_BODIES, 400), "2 MB": 413}


async def test_telegram_webhook_refuses_any_hostile_body_cleanly(db_url, tmp_path, clock, caplog):
    caplog.set_level(logging.WARNING)
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        assert await post_all(bot.webhook_url, headers) == EXPECTED
        await bot.say("/start")  # and the bot still serves
        assert bot.texts("consent.welcome") in bot.latest()["text"]
    no_errors_logged(caplog)


async def test_zalo_webhook_refuses_any_hostile_body_cleanly(api, db_url, tmp_path, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING)
    zalo, close = await run_zalo(api, db_url, tmp_path)
    try:
        headers = {"X-Bot-Api-Secret-Token": ZALO_SECRET, "Content-Type": "application/json"}
        assert await post_all(zalo.webhook_url, headers) == EXPECTED
        assert "Bạn có đồng ý không?" in await zalo.user().say("Xin chào")
    finally:
        await close()
    no_errors_logged(caplog)


async def test_telegram_hostile_name_and_texts_are_cleaned_before_storage(
    db_url, tmp_path, clock, caplog
):
    caplog.set_level(logging.WARNING)
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        t, fake = bot.texts, bot.fake

        async def say(text: str) -> None:
            await bot.deliver(fake.message_update(CHAT, text, first_name=HOSTILE_NAME))

        async def press(label: str) -> None:
            await bot.deliver(fake.button_update(CHAT, label, first_name=HOSTILE_NAME))

        await say("/start")
        await press(t("consent.agree"))
        await press("Thôn Nam")
        await press(t("age.groups.tu60"))
        assert t("menu.text") in bot.latest()["text"]
        await say("/hoicanbo")
        await say("Cho hỏi\x00 cài VNeID\ud800 thế nào?\x1b")
        await say("/ho")
        await say("H01\x00")
        busy = t("common.db_down")
        assert not [m for m in fake.texts(CHAT) if busy in m]
        async with bot.app.database.session() as session:
            person = await session.get(Person, (await account(bot.app)).person_id)
            question = await session.scalar(select(TeamQuestion))
        assert person.display_name == CLEAN_NAME
        assert question.text == "Cho hỏi cài VNeID thế nào?"
        fake.assert_no_violations()
    no_errors_logged(caplog)


async def test_zalo_hostile_name_and_texts_are_cleaned_before_storage(
    api,  # noqa: F811
    db_url,
    tmp_path,
    caplog,
):
    caplog.set_level(logging.WARNING)
    zalo, close = await run_zalo(api, db_url, tmp_path)
    try:
        bac = zalo.user(name=HOSTILE_NAME)
        assert "Bạn có đồng ý không?" in await bac.say("Xin chào\x00")
        assert "Cảm ơn bạn đã đồng ý" in await bac.say("1\x00")
        await bac.say("1")
        await bac.say("/hoicanbo\ud800")
        await bac.say("Số nhà\x00 tôi\x07 ở đâu?")
        await bac.say("/ho")
        replies = await bac.send("H01\x00")
        assert replies and not [r for r in zalo.api.sent_texts() if "đang bận" in r]
        async with zalo.app.database.session() as session:
            acct = await session.scalar(
                select(ChannelAccount).where(ChannelAccount.channel == "zalo")
            )
            person = await session.get(Person, acct.person_id)
            question = await session.scalar(select(TeamQuestion))
        assert person.display_name == CLEAN_NAME
        assert question is not None and question.text == "Số nhà tôi ở đâu?"
        assert unicodedata.is_normalized("NFC", person.display_name)
    finally:
        await close()
    no_errors_logged(caplog)


def test_cleaning_keeps_line_breaks_in_texts_and_caps_lengths():
    from bot.core.clean import MAX_NAME, MAX_TEXT, clean_name, clean_text
    from bot.core.messages import Inbound, Kind

    inbound = Inbound("zalo", "z\x00u", Kind.TEXT, text="dòng 1\ndòng\x00 2", display_name="\x00")
    assert (inbound.user_id, inbound.text, inbound.display_name) == ("zu", "dòng 1\ndòng 2", None)
    assert len(clean_text("a" * 10_000)) == MAX_TEXT
    assert len(clean_name("Lan " * 100)) <= MAX_NAME
    assert clean_name("  Bà\n Lan\t ") == "Bà Lan"
