"""The Telegram channel end to end: the real aiogram client against FakeTelegramAPI.

Every test runs on SQLite and on PostgreSQL (the `db_url` fixture) and ends with
`fake.assert_no_violations()`: each call the bot made matched the Bot API spec.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiogram import Bot
from aiohttp import web
from sqlalchemy import func, select

from bot.app import App
from bot.channels.base import SendResult
from bot.channels.telegram.channel import TelegramChannel, TelegramStartupError, make_bot
from bot.channels.telegram.commands import COMMANDS
from bot.channels.telegram.sending import RetryPolicy
from bot.channels.telegram.webhook import WEBHOOK_PATH
from bot.core.messages import Outbound
from bot.web import build_web_app
from config.settings import TelegramSettings
from storage.models import ChannelAccount, ParticipationEvent, Person, ProcessedUpdate, Team
from tests.fakes.telegram_api import FakeTelegramAPI, RateLimits
from tests.support import ROOT, events, make_app

CHAT = 5_550_001
SECRET = "s3cret_Token-for-tests"
# Telegram's global limits, but a per-chat limit a quick test journey stays under.
FAST = RateLimits(per_chat_per_second=100.0, per_chat_burst=100)
QUICK = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@dataclass
class Harness:
    fake: FakeTelegramAPI
    app: App
    channel: TelegramChannel
    mode: str
    webhook_url: str

    @property
    def texts(self) -> Callable[..., str]:
        return self.app.engine.services.texts

    async def deliver(self, update: dict[str, Any]) -> None:
        """Give the bot one update and wait until it has been handled."""
        if self.mode == "webhook":
            status, _ = await self.fake.post_to_webhook(update)
            assert status == 200
            return
        target = self.channel.handlers.handled + 1
        self.fake.feed(update)
        await until(lambda: self.channel.handlers.handled >= target)

    async def say(self, text: str, chat: int = CHAT) -> None:
        await self.deliver(self.fake.message_update(chat, text, first_name="Lan"))

    async def press(self, label: str, chat: int = CHAT) -> None:
        """Press the button showing `label`, or the number of the line listing it."""
        markup = self.latest(chat).get("reply_markup") or {}
        buttons = {b["text"]: b for row in markup.get("inline_keyboard", []) for b in row}
        if label not in buttons:
            number = numbered_lines(self.latest(chat).get("text", "")).get(label)
            assert number is not None, f"no {label!r} among {list(buttons)}"
            label = str(number)
        await self.deliver(self.fake.button_update(chat, label, first_name="Lan"))

    async def restart(self) -> None:
        await self.channel.stop()
        bot = quick_closing(make_bot(self.app.settings.telegram))
        self.channel = TelegramChannel(self.app, bot=bot, policy=QUICK)
        await self.channel.start()

    def latest(self, chat: int = CHAT) -> dict[str, Any]:
        message = self.fake.last_bot_message(chat)
        assert message is not None, "the bot has sent nothing"
        return message

    def buttons(self, chat: int = CHAT) -> list[str]:
        markup = self.latest(chat).get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def numbered_lines(text: str) -> dict[str, int]:
    return {m[2]: int(m[1]) for m in re.finditer(r"^(\d+)\. (.+)$", text, re.MULTILINE)}


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.005)


def quick_closing(bot: Bot) -> Bot:
    """aiogram waits 250 ms on close for TLS connections to shut down; the fake speaks
    plain HTTP on localhost, so tests skip that wait."""
    session = bot.session

    async def close() -> None:
        inner = session._session
        if inner is not None and not inner.closed:
            await inner.close()

    session.close = close  # type: ignore[method-assign]
    return bot


@asynccontextmanager
async def running(
    db_url: str,
    tmp_path: Path,
    clock,
    mode: str = "polling",
    *,
    rate_limits: RateLimits | bool = FAST,
    policy: RetryPolicy = QUICK,
    **settings: Any,
) -> AsyncIterator[Harness]:
    """The bot as `hocvuso run` serves it: shared web app, channel started in `mode`."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
    async with FakeTelegramAPI(rate_limits=rate_limits) as fake:
        telegram = TelegramSettings(
            token=fake.token,
            api_base=fake.base_url,
            mode=mode,
            webhook_url=url,
            webhook_secret=SECRET,
        )
        app = await make_app(db_url, tmp_path, clock, telegram=telegram, **settings)
        channel = TelegramChannel(app, bot=quick_closing(make_bot(telegram)), policy=policy)
        runner = web.AppRunner(build_web_app(app.database, [channel]), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        await channel.start()
        harness = Harness(fake, app, channel, mode, url)
        try:
            yield harness
        finally:
            await harness.channel.stop()
            await runner.cleanup()
            await app.close()


async def count(app: App, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def account(app: App, chat: int = CHAT) -> ChannelAccount | None:
    async with app.database.session() as session:
        return await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == str(chat))
        )


def first_lesson(app: App):
    return next(iter(app.engine.services.curriculum.lessons.values()))


# --------------------------------------------------------------------------- journeys


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_residents_whole_journey(db_url, tmp_path, clock, mode) -> None:
    async with running(db_url, tmp_path, clock, mode) as bot:
        fake, t = bot.fake, bot.texts
        menu = fake.commands[('{"type": "default"}', "")]
        assert [c["command"] for c in menu] == list(COMMANDS)
        assert menu[0]["description"] == t("telegram.commands.menu")
        if mode == "webhook":
            assert fake.webhook_url == bot.webhook_url and fake.webhook_secret == SECRET

        await bot.say("/start")
        if mode == "polling":
            methods = [call.method for call in fake.calls]
            assert methods.index("deleteWebhook") < methods.index("getUpdates")
        assert t("consent.welcome") in bot.latest()["text"]
        consent = ["consent.agree", "consent.refuse", "consent.details_button"]
        assert bot.buttons() == [t(key) for key in consent]

        consent_id = bot.latest()["message_id"]
        await bot.press(t("consent.agree"))
        assert "reply_markup" not in fake.message(CHAT, consent_id)  # old buttons removed
        assert t("consent.thanks") in fake.texts(CHAT)
        assert "Thôn Nam" in bot.buttons()
        rows = bot.latest()["reply_markup"]["inline_keyboard"]
        assert len(rows[0]) == 2  # villages two per row (Outbound.columns)

        await bot.press("Thôn Nam")
        await bot.press(t("age.groups.tu60"))
        assert t("menu.text") in bot.latest()["text"]

        lesson = first_lesson(bot.app)
        await bot.press(t("menu.start_lesson", title=lesson.title))
        for n in range(1, len(lesson.cards)):
            assert f"({n}/{len(lesson.cards)})" in bot.latest()["text"]
            await bot.press(t("lesson.next"))
        await bot.press(t("lesson.quiz"))

        quiz = bot.app.engine.services.curriculum.quizzes[lesson.id]
        for question in quiz.questions:
            assert question.text in bot.latest()["text"]
            right = question.options[question.correct_index].text
            if any(len(o.text) > 30 for o in question.options):
                # long options: numbered lines in the text, short number buttons in one row
                assert right in numbered_lines(bot.latest()["text"])
                assert bot.buttons() == [str(n) for n in range(1, len(question.options) + 1)]
            await bot.press(right)
        total = len(quiz.questions)
        passed = t("quiz.passed", score=total, total=total, need=quiz.pass_count)
        assert passed in bot.latest()["text"]

        kinds = [e.kind for e in await events(bot.app)]
        assert kinds == [
            "registered",
            "consented",
            "village_set",
            "lesson_started",
            "lesson_completed",
            "quiz_passed",
        ]
        async with bot.app.database.session() as session:
            person = await session.scalar(select(Person))
            assert person.display_name == "Lan"
            rows = list(await session.scalars(select(ParticipationEvent)))
            assert {row.channel for row in rows} == {"telegram"}
        presses = len(fake.calls_to("answerCallbackQuery"))
        assert presses == 4 + len(lesson.cards) + len(quiz.questions)  # every press answered
        assert all("parse_mode" not in c.params for c in fake.sent_messages())
        fake.assert_no_violations()


async def test_deep_link_attributes_the_team(db_url, tmp_path, clock) -> None:
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        await bot.say("/start team_TCN-T04")
        assert bot.texts("consent.welcome") in bot.latest()["text"]
        assert await count(bot.app, Person) == 0  # nothing personal before consent
        await bot.press(bot.texts("consent.agree"))
        async with bot.app.database.session() as session:
            person = await session.scalar(select(Person))
            team = await session.scalar(select(Team).where(Team.code == "TCN-T04"))
            assert person.attributed_team_id == team.id
        bot.fake.assert_no_violations()


async def test_typed_label_text_works(db_url, tmp_path, clock) -> None:
    async with running(db_url, tmp_path, clock) as bot:
        await bot.say("/start")
        await bot.say("dong y")  # no diacritics, as many type on cheap phones
        assert bot.texts("consent.thanks") in bot.fake.texts(CHAT)
        await bot.say("3")  # a number picks the third village
        assert bot.texts("age.ask") in bot.latest()["text"]
        assert await count(bot.app, ParticipationEvent, ParticipationEvent.kind == "village_set")
        bot.fake.assert_no_violations()


async def test_stickers_photos_and_contacts_get_a_friendly_reply(db_url, tmp_path, clock) -> None:
    async with running(db_url, tmp_path, clock) as bot:
        await bot.say("/start")
        fake, t = bot.fake, bot.texts
        await bot.deliver(fake.sticker_update(CHAT))
        assert t("common.media") in fake.texts(CHAT)
        assert t("consent.agree") in bot.buttons()  # and the current screen again
        await bot.deliver(fake.photo_update(CHAT, caption="ảnh"))
        await bot.deliver(fake.voice_update(CHAT))
        assert fake.texts(CHAT).count(t("common.media")) == 3
        await bot.deliver(fake.contact_update(CHAT, "+84912345678"))
        assert t("common.contact") in fake.texts(CHAT)
        assert not any("0912345678" in text for text in fake.texts(CHAT))
        fake.assert_no_violations()


async def test_a_group_gets_one_polite_message_only(db_url, tmp_path, clock) -> None:
    async with running(db_url, tmp_path, clock) as bot:
        group = -100_200_300
        for text in ("/start", "Xin chào bot", "/menu"):
            await bot.deliver(bot.fake.message_update(group, text, chat_type="supergroup"))
        sent = bot.fake.sent_messages(group)
        assert len(sent) == 1
        assert bot.texts("telegram.group_only") in sent[0].text
        assert "https://t.me/hocvuso_test_bot" in sent[0].text
        assert await count(bot.app, ChannelAccount) == 0
        bot.fake.assert_no_violations()


# --------------------------------------------------------------------------- webhook rules


async def test_webhook_refuses_a_forged_or_missing_secret(db_url, tmp_path, clock) -> None:
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        update = bot.fake.message_update(CHAT, "/start")
        assert (await bot.fake.post_to_webhook(update, secret_override="forged"))[0] == 401
        assert (await bot.fake.post_to_webhook(update, secret_override=None))[0] == 401
        assert (await bot.fake.post_to_webhook(update, secret_override=SECRET + "x"))[0] == 401
        assert bot.fake.sent_messages() == []
        for model in (Person, ChannelAccount, ProcessedUpdate):
            assert await count(bot.app, model) == 0
        bot.fake.assert_no_violations()


async def test_webhook_refuses_non_updates_and_ignores_unknown_kinds(
    db_url, tmp_path, clock
) -> None:
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with aiohttp.ClientSession(headers=headers) as http:
            for body in (b"{not json", b'["a list"]', b'{"message": {"text": "no update_id"}}'):
                async with http.post(bot.webhook_url, data=body) as response:
                    assert response.status == 400, body
        edited = bot.fake.message_update(CHAT, "/start")
        edited["edited_message"] = {**edited.pop("message"), "edit_date": 1}
        future = {"update_kind_from_2030": {"id": 1}}  # unknown to this aiogram
        for update in (edited, future):
            assert (await bot.fake.post_to_webhook(update))[0] == 200  # taken, and dropped
        assert bot.fake.sent_messages() == []
        assert await count(bot.app, ProcessedUpdate) == 0
        assert await count(bot.app, ChannelAccount) == 0
        bot.fake.assert_no_violations()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_redelivered_update_is_processed_once(db_url, tmp_path, clock, mode) -> None:
    async with running(db_url, tmp_path, clock, mode) as bot:
        await bot.say("/start")
        # Telegram's update ids only grow: a lower one would fall below the offset the
        # polling loop has confirmed and never be handed out.
        update = {**bot.fake.button_update(CHAT, bot.texts("consent.agree")), "update_id": 2**31}
        await bot.deliver(update)
        replies = len(bot.fake.sent_messages(CHAT))
        if mode == "polling":
            await bot.restart()  # stopped before confirming the offset: Telegram resends
        await bot.deliver(update)  # same update_id: a webhook retry or a polling replay
        assert len(bot.fake.sent_messages(CHAT)) == replies
        kinds = [e.kind for e in await events(bot.app)]
        assert kinds == ["registered", "consented"]
        assert await count(bot.app, Person) == 1
        bot.fake.assert_no_violations()


# --------------------------------------------------------------------------- Telegram's rules


async def test_a_429_is_waited_out_and_the_message_delivered_once(db_url, tmp_path, clock) -> None:
    """A conversation reply and an outbox send (Channel.send) both meet a 429."""
    other = CHAT + 1
    async with running(db_url, tmp_path, clock) as bot:
        bot.fake.fail_next("sendMessage", 429, retry_after=1, times=2)
        started = time.monotonic()
        _, sent = await asyncio.gather(
            bot.say("/start"), bot.channel.send(str(other), [Outbound("Nhắc học bài")])
        )
        assert time.monotonic() - started >= 1.0  # Telegram's retry_after was honoured
        assert {call.chat_id for call in bot.fake.injected} == {CHAT, other}
        welcome = [text for text in bot.fake.texts(CHAT) if bot.texts("consent.welcome") in text]
        assert len(welcome) == 1
        assert sent is SendResult.SENT and bot.fake.texts(other) == ["Nhắc học bài"]
        bot.fake.assert_no_violations()


async def test_a_block_marks_the_account_inactive(db_url, tmp_path, clock) -> None:
    """Decision: once an account is inactive, Channel.send returns BLOCKED without
    calling Telegram (no pointless 403s in broadcasts); writing again reactivates it.
    A block is noticed from a 403 or from Telegram's my_chat_member update."""
    async with running(db_url, tmp_path, clock) as bot:
        await bot.say("/start")
        bot.fake.fail_next("sendMessage", 403)
        await bot.press(bot.texts("consent.agree"))
        assert (await account(bot.app)).active is False
        assert await count(bot.app, Person) == 1  # the recorded step is kept

        calls = len(bot.fake.calls_to("sendMessage"))
        result = await bot.channel.send(str(CHAT), [Outbound("Nhắc học bài")])
        assert result is SendResult.BLOCKED
        assert len(bot.fake.calls_to("sendMessage")) == calls  # Telegram not called

        await bot.say("/menu")  # unblocked and wrote again
        assert (await account(bot.app)).active is True
        assert await bot.channel.send(str(CHAT), [Outbound("Nhắc học bài")]) is SendResult.SENT
        assert bot.fake.texts(CHAT)[-1] == "Nhắc học bài"

        await bot.deliver(blocked_update(bot.fake))  # Telegram tells us of a new block
        assert (await account(bot.app)).active is False
        bot.fake.assert_no_violations()


def blocked_update(fake: FakeTelegramAPI) -> dict[str, Any]:
    """The my_chat_member update Telegram sends when a person blocks the bot."""
    me = {"id": fake.bot_id, "is_bot": True, "first_name": "Bot"}
    return {
        "my_chat_member": {
            "chat": {"id": CHAT, "type": "private", "first_name": "Lan"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Lan"},
            "date": 1,
            "old_chat_member": {"status": "member", "user": me},
            "new_chat_member": {"status": "kicked", "user": me, "until_date": 0},
        }
    }


async def test_send_retries_transient_errors_then_gives_up(db_url, tmp_path, clock) -> None:
    async with running(db_url, tmp_path, clock) as bot:
        bot.fake.fail_next("sendMessage", 502, times=2)
        assert await bot.channel.send(str(CHAT), [Outbound("Lần một")]) is SendResult.SENT
        assert bot.fake.texts(CHAT) == ["Lần một"]
        bot.fake.fail_next("sendMessage", 500, times=QUICK.attempts)
        assert await bot.channel.send(str(CHAT), [Outbound("Lần hai")]) is SendResult.FAILED
        bot.fake.fail_next("sendMessage", 403)
        assert await bot.channel.send(str(CHAT), [Outbound("Lần ba")]) is SendResult.BLOCKED
        assert bot.fake.texts(CHAT) == ["Lần một"]
        assert (await account(bot.app)) is None  # never wrote to us: nothing to mark
        bot.fake.assert_no_violations()


async def test_every_press_is_answered_stale_or_failing(
    db_url, tmp_path, clock, monkeypatch
) -> None:
    async with running(db_url, tmp_path, clock) as bot:
        await bot.say("/start")
        await bot.deliver(bot.fake.callback_update(CHAT, "v:T01"))  # not offered now
        assert bot.texts("common.stale") in bot.fake.texts(CHAT)
        assert len(bot.fake.calls_to("answerCallbackQuery")) == 1

        async def broken(inbound):
            raise RuntimeError("a bug")

        monkeypatch.setattr(bot.app.engine, "handle", broken)
        await bot.press(bot.texts("consent.agree"))
        assert len(bot.fake.calls_to("answerCallbackQuery")) == 2
        assert bot.fake.texts(CHAT)[-1] == bot.texts("telegram.error")
        bot.fake.assert_no_violations()


# --------------------------------------------------------------------------- images


def content_with_image(tmp_path: Path) -> Path:
    """A copy of the shipped content whose first lesson's first card has an image."""
    root = tmp_path / "content"
    shutil.copytree(ROOT / "lessons", root / "lessons")
    shutil.copytree(ROOT / "quizzes", root / "quizzes")
    (root / "lessons" / "media").mkdir()
    (root / "lessons" / "media" / "phone.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    path = next(p for p in sorted((root / "lessons").glob("*.yaml")) if p.name != "topics.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["cards"][0]["image"] = "media/phone.png"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


async def test_a_card_image_is_sent_as_a_photo_with_its_text(db_url, tmp_path, clock) -> None:
    content = content_with_image(tmp_path)
    async with running(db_url, tmp_path, clock, content_dir=content) as bot:
        t = bot.texts
        await bot.say("/start")
        await bot.press(t("consent.agree"))
        await bot.press("Thôn Đông")
        await bot.press(t("age.skip"))
        lesson = next(
            les for les in bot.app.engine.services.curriculum.lessons.values() if les.cards[0].image
        )
        await bot.say("/baihoc")
        topic = bot.app.engine.services.curriculum.topics[lesson.topic]
        await bot.press(topic.title)
        await bot.press(f"▫️ {lesson.title}")
        photo = bot.fake.calls_to("sendPhoto")[-1]
        assert photo.file("photo").startswith(b"\x89PNG")
        assert lesson.title in photo.text and photo.button_texts()
        await bot.press(t("lesson.next"))
        await bot.press(t("lesson.prev"))  # the same card again: sent by file_id
        again = bot.fake.calls_to("sendPhoto")[-1]
        assert again.files == {} and isinstance(again.params["photo"], str)

        bot.fake.fail_next("sendPhoto", 400, times=2)  # Telegram refuses the picture
        await bot.press(t("lesson.next"))
        await bot.press(t("lesson.prev"))
        assert bot.latest()["text"] == photo.text  # the words and buttons still arrive
        assert bot.buttons() == photo.button_texts()
        bot.fake.assert_no_violations()


async def test_a_rejected_token_stops_the_start_with_a_clear_error(sqlite_url, tmp_path) -> None:
    """Start-up only: no database behaviour, so SQLite is enough."""
    async with FakeTelegramAPI() as fake:
        wrong = "7000000002:AAWrongTokenWrongTokenWrongToken_0123"
        telegram = TelegramSettings(token=wrong, api_base=fake.base_url)
        app = await make_app(sqlite_url, tmp_path, telegram=telegram)
        channel = TelegramChannel(app, policy=QUICK)
        try:
            with pytest.raises(TelegramStartupError, match="rejected the bot token") as error:
                await channel.start()
            assert wrong.split(":")[1] not in str(error.value)
        finally:
            await channel.stop()
            await app.close()
        fake.assert_no_violations()
