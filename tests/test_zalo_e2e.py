"""The Zalo channel end to end: our client and channel against FakeZaloAPI on 127.0.0.1.

Residents type everything (Zalo has no buttons): numbers, labels without diacritics,
codes. Each test asserts what the resident sees in the chat and what the commune counts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, text

from bot.app import App
from bot.channels.base import SendResult
from bot.channels.zalo.channel import ZaloChannel, ZaloConfigError, create_zalo_channel
from bot.channels.zalo.client import ZaloClient
from bot.core.messages import Choice, Outbound
from bot.web import build_web_app
from config.settings import ZaloSettings
from storage.models import (
    ChannelAccount,
    ConsentRecord,
    LessonProgress,
    ParticipationEvent,
    Person,
    ProcessedUpdate,
    Team,
)
from tests.fakes.zalo_api import FakeZaloAPI
from tests.support import Chat, make_app

SECRET = "webhook-secret-0123456789"
HINT = "👉 Trả lời bằng số (ví dụ: 1)"
NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)
LEARNERS = text(
    "SELECT count(DISTINCT coalesce(p.merged_into_person_id, p.id)) FROM people p"
    " WHERE EXISTS (SELECT 1 FROM participation_events e WHERE e.person_id = p.id)"
)


# --------------------------------------------------------------------------- harness


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.005)


@dataclass
class Zalo:
    """The bot served over Zalo, and the fake platform it talks to."""

    app: App
    api: FakeZaloAPI
    channel: ZaloChannel
    webhook_url: str

    @property
    def mode(self) -> str:
        return self.channel.settings.mode

    async def deliver(self, update: dict[str, Any], **kwargs: Any) -> int:
        """Hand one update to the bot and wait until it has answered."""
        if self.mode == "webhook":
            status, _ = await self.api.deliver(update, **kwargs)
            return status
        handled = self.channel.updates_handled
        self.api.feed_raw(update)
        await until(lambda: self.channel.updates_handled > handled)
        return 200

    def user(self, user_id: str = "zu-1", name: str = "Bác Tư") -> Resident:
        return Resident(self, user_id, name)

    async def count(self, model: Any, *where: Any) -> int:
        async with self.app.database.session() as session:
            query = select(func.count()).select_from(model).where(*where)
            return int(await session.scalar(query) or 0)


@dataclass
class Resident:
    zalo: Zalo
    user_id: str
    name: str

    async def send(self, value: str | None, *, event: str = "text", **kwargs: Any) -> list[str]:
        """Send a message; return the texts the bot sent back, in order."""
        update = self.zalo.api.build_update(
            value,
            user_id=self.user_id,
            display_name=self.name,
            event_name=f"message.{event}.received",
            **kwargs,
        )
        before = len(self.zalo.api.sent_texts(self.user_id))
        assert await self.zalo.deliver(update) == 200
        return self.zalo.api.sent_texts(self.user_id)[before:]

    async def say(self, value: str) -> str:
        return "\n".join(await self.send(value))

    def last(self) -> str:
        return self.zalo.api.sent_texts(self.user_id)[-1]

    async def person(self) -> Person | None:
        async with self.zalo.app.database.session() as session:
            account = await session.scalar(
                select(ChannelAccount).where(
                    ChannelAccount.channel == "zalo", ChannelAccount.external_id == self.user_id
                )
            )
            if account is None or account.person_id is None:
                return None
            return await session.get(Person, account.person_id)


def number_of(message: str, label: str) -> str:
    """The number the resident types for `label` in a numbered message."""
    options = {found[2]: found[1] for found in NUMBERED.finditer(message)}
    assert label in options, f"{label!r} not offered in:\n{message}"
    return options[label]


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def api() -> AsyncIterator[FakeZaloAPI]:
    async with FakeZaloAPI(long_poll_cap=0.2) as fake:
        yield fake


async def run_zalo(
    api: FakeZaloAPI,
    db_url: str,
    tmp_path: Path,
    mode: str = "webhook",
    *,
    client: ZaloClient | None = None,
    **zalo: Any,
) -> tuple[Zalo, Callable[[], Any]]:
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/zalo/webhook"
    settings = ZaloSettings(
        token=api.token,
        mode=mode,
        api_base=api.base_url,
        webhook_url=url,
        webhook_secret=SECRET,
        messages_per_second=1000,
        **zalo,
    )
    app = await make_app(db_url, tmp_path, zalo=settings)
    channel = create_zalo_channel(app, client=client)
    channel.backoff_initial = 0.01
    runner = web.AppRunner(build_web_app(app.database, [channel]))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await channel.start()

    async def close() -> None:
        await channel.stop()
        await runner.cleanup()
        await app.close()

    return Zalo(app, api, channel, url), close


@pytest.fixture
async def zalo(api, sqlite_url, tmp_path) -> AsyncIterator[Zalo]:
    served, close = await run_zalo(api, sqlite_url, tmp_path, "webhook")
    yield served
    await close()


@pytest.fixture
async def polling(api, sqlite_url, tmp_path) -> AsyncIterator[Zalo]:
    served, close = await run_zalo(api, sqlite_url, tmp_path, "polling")
    yield served
    await close()


def quick_client(api: FakeZaloAPI, **kwargs: Any) -> ZaloClient:
    options: dict[str, Any] = {"backoff_base": 0.001, "messages_per_second": 1000.0}
    return ZaloClient(api.token, api_base=api.base_url, **{**options, **kwargs})


# --------------------------------------------------------------------------- journeys


async def whole_journey(zalo: Zalo, consent_answer: str) -> None:
    curriculum = zalo.app.engine.services.curriculum
    lesson = next(iter(curriculum.lessons.values()))
    quiz = curriculum.quizzes[lesson.id]
    bac = zalo.user()

    welcome = await bac.say("Xin chào")
    assert "Bạn có đồng ý không?" in welcome
    assert "1. Đồng ý\n2. Không đồng ý" in welcome
    assert welcome.endswith(HINT)

    after_consent = await bac.say(consent_answer)
    assert "Cảm ơn bạn đã đồng ý" in after_consent
    assert "1. Thôn Đông" in after_consent

    assert "nhóm tuổi" in await bac.say("1")  # village by number
    menu = await bac.say(number_of(bac.last(), "Từ 60 tuổi trở lên"))
    assert "Trang chính" in menu

    card = await bac.say(number_of(menu, f"▶ Học bài: {lesson.title}"))
    assert f"📘 {lesson.title} (1/{len(lesson.cards)})" in card
    for n in range(2, len(lesson.cards) + 1):
        card = await bac.say(number_of(bac.last(), "Tiếp ▶"))
        assert f"({n}/{len(lesson.cards)})" in card
    question = await bac.say(number_of(bac.last(), "✍️ Làm bài kiểm tra"))
    for n, item in enumerate(quiz.questions, start=1):
        assert f"Câu {n}/{len(quiz.questions)}" in question
        right = item.options[item.correct_index].text
        question = await bac.say(number_of(bac.last(), right))
        assert "✅ Đúng rồi!" in question
    assert "Bạn đã đạt bài này!" in question

    person = await bac.person()
    assert person is not None and person.display_name == "Bác Tư"
    assert await zalo.count(ParticipationEvent, ParticipationEvent.channel == "zalo") == 6
    passed = LessonProgress.passed_at.is_not(None)
    assert await zalo.count(LessonProgress, LessonProgress.lesson_id == lesson.id, passed) == 1
    assert zalo.api.violations == []
    assert all(len(sent) <= 2000 for sent in zalo.api.sent_texts())


async def test_a_resident_learns_a_whole_lesson_over_the_webhook(zalo):
    assert zalo.api.webhook.url == zalo.webhook_url  # start() registered it
    assert zalo.api.calls_to("setWebhook")[0].params["secret_token"] == SECRET
    await whole_journey(zalo, "1")


async def test_a_resident_learns_a_whole_lesson_over_polling(polling):
    assert polling.api.calls_to("deleteWebhook")  # getUpdates needs no webhook set
    await whole_journey(polling, "dong y")  # consent typed without diacritics


# ------------------------------------------------------------------------ the webhook


async def test_a_forged_or_missing_secret_is_refused_and_changes_nothing(zalo):
    update = zalo.api.build_update("Xin chào", user_id="zu-1")
    assert (await zalo.api.deliver(update, secret="not-the-secret-123"))[0] == 401
    assert (await zalo.api.deliver(update, secret=None))[0] == 401
    assert zalo.api.calls_to("sendMessage") == []
    assert await zalo.count(ChannelAccount) == 0
    assert await zalo.count(ProcessedUpdate) == 0
    assert (await zalo.api.deliver(update))[0] == 200  # the same update, signed right
    assert "Bạn có đồng ý không?" in zalo.api.sent_texts("zu-1")[-1]


async def test_bare_and_wrapped_bodies_are_accepted_and_malformed_ones_refused(zalo):
    bare = zalo.api.build_update("Xin chào", user_id="zu-1")
    assert (await zalo.api.deliver(bare, wrapped=False))[0] == 200
    assert len(zalo.api.sent_texts("zu-1")) == 1
    headers = {"X-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for body in (b"{not json", b'{"ok": true, "result": {"event_name": "x"}}', b"[]"):
            async with http.post(zalo.webhook_url, data=body, headers=headers) as resp:
                assert resp.status == 400
    assert len(zalo.api.sent_texts("zu-1")) == 1


async def test_a_redelivered_message_is_processed_once(zalo):
    bac = zalo.user()
    await bac.say("Xin chào")
    agree = zalo.api.build_update("1", user_id="zu-1", message_id="msg-agree-1")
    assert (await zalo.api.deliver(agree))[0] == 200
    sent = len(zalo.api.sent_texts("zu-1"))
    assert (await zalo.api.deliver(agree))[0] == 200  # Zalo delivers it again
    assert len(zalo.api.sent_texts("zu-1")) == sent  # no second answer
    assert await zalo.count(Person) == 1
    assert await zalo.count(ParticipationEvent, ParticipationEvent.kind == "consented") == 1


async def test_refusing_consent_without_diacritics_stores_nothing(zalo):
    bac = zalo.user()
    await bac.say("Xin chào")
    answer = await bac.say("khong dong y")
    assert "Không sao cả" in answer
    assert await bac.person() is None
    assert await zalo.count(ConsentRecord, ConsentRecord.answer == "refused") == 1
    assert await zalo.count(ParticipationEvent) == 0


@pytest.mark.parametrize("event", ["sticker", "image", "unsupported"])
async def test_a_sticker_or_photo_gets_a_kind_reply_and_the_same_question(zalo, event):
    bac = zalo.user()
    await bac.say("Xin chào")
    replies = await bac.send(None, event=event)
    assert "chỉ đọc được chữ" in replies[0]
    assert "1. Đồng ý" in replies[-1]  # the consent question again
    assert await bac.person() is None


async def test_a_group_chat_is_told_once_and_nothing_is_stored(zalo):
    for _ in range(2):
        update = zalo.api.build_update(
            "Xin chào", user_id="zu-1", chat_id="group-1", chat_type="GROUP"
        )
        assert (await zalo.api.deliver(update))[0] == 200
    told = zalo.api.sent_texts("group-1")
    assert len(told) == 1 and "trò chuyện riêng" in told[0]
    assert zalo.api.sent_texts("zu-1") == []
    assert await zalo.count(ChannelAccount) == 0


async def test_the_posters_code_as_first_message_attributes_the_team(zalo):
    bac = zalo.user()
    welcome = await bac.say("team_TCN-T04")
    assert "Xin chào!" in welcome and "1. Đồng ý" in welcome
    await bac.say("1")
    on_zalo = await bac.person()
    # The same poster scanned on Telegram is a deep link: /start team_TCN-T04.
    telegram = Chat(zalo.app, user="tg-1", channel="telegram")
    await telegram.start("team_TCN-T04")
    await telegram.choose("agree")
    async with zalo.app.database.session() as session:
        team = await session.scalar(select(Team.id).where(Team.code == "TCN-T04"))
        people = list(await session.scalars(select(Person).order_by(Person.id)))
        event_teams = set(await session.scalars(select(ParticipationEvent.team_id)))
    assert on_zalo is not None and on_zalo.attributed_team_id == team
    assert [(p.attributed_team_id, p.source) for p in people] == [(team, "team_TCN-T04")] * 2
    assert event_teams == {team}


# ----------------------------------------------------------------------- sending out


async def test_a_long_text_goes_out_as_two_messages_split_between_paragraphs(zalo):
    paragraphs = [f"Đoạn {n}: " + " ".join(["điện thoại an toàn"] * 26) for n in range(1, 6)]
    long_text = "\n\n".join(paragraphs)
    assert 2400 <= len(long_text) <= 2600
    message = Outbound(long_text, (Choice("a", "Đồng ý"), Choice("b", "Không đồng ý")))
    assert await zalo.channel.send("zu-1", [message]) is SendResult.SENT
    sent = zalo.api.sent_texts("zu-1")
    assert len(sent) == 2
    assert all(len(part) <= 2000 for part in sent)
    assert long_text.startswith(sent[0])  # cut between two paragraphs, never mid-word
    assert long_text[len(sent[0]) :].startswith("\n\n")
    assert sent[1].endswith(f"1. Đồng ý\n2. Không đồng ý\n{HINT}")  # choices stay last
    assert " ".join(sent).split()[: len(long_text.split())] == long_text.split()


async def test_several_messages_go_out_in_order(zalo):
    messages = [Outbound("Một"), Outbound("Hai"), Outbound("Ba", (Choice("x", "Tiếp"),))]
    assert await zalo.channel.send("zu-1", messages) is SendResult.SENT
    assert zalo.api.sent_texts("zu-1") == ["Một", "Hai", f"Ba\n\n1. Tiếp\n{HINT}"]


async def test_card_images_are_sent_only_when_a_public_media_url_is_set(api, sqlite_url, tmp_path):
    card = Outbound("📘 Bài mẫu (1/3)", image="media/hình mẫu.png")
    plain, close = await run_zalo(api, sqlite_url, tmp_path / "a")
    await plain.channel.send("zu-1", [card])
    await close()
    assert api.calls_to("sendPhoto") == []
    assert api.sent_texts("zu-1") == ["📘 Bài mẫu (1/3)"]

    media, close = await run_zalo(
        api, sqlite_url, tmp_path / "b", media_base_url="https://xa.example.vn/bai/"
    )
    await media.channel.send("zu-2", [card])
    await close()
    [photo] = api.sent("zu-2")[:1]
    assert photo.photo == "https://xa.example.vn/bai/media/h%C3%ACnh%20m%E1%BA%ABu.png"
    assert api.sent_texts("zu-2") == ["📘 Bài mẫu (1/3)"]


async def test_a_blocked_bot_marks_the_account_inactive(zalo):
    bac = zalo.user()
    zalo.api.fail_next("sendMessage", 403)
    await bac.send("Xin chào")
    async with zalo.app.database.session() as session:
        assert await session.scalar(select(ChannelAccount.active)) is False
    assert "Bạn có đồng ý không?" in await bac.say("Xin chào")  # they wrote again
    async with zalo.app.database.session() as session:
        assert await session.scalar(select(ChannelAccount.active)) is True


async def test_send_failures_are_reported_never_raised_and_logs_stay_clean(
    api, sqlite_url, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    served, close = await run_zalo(
        api, sqlite_url, tmp_path, client=quick_client(api, max_retries=1)
    )
    try:
        secret_text = "Nguyễn Văn Bí mật"
        api.fail_next("sendMessage", 429, times=-1)
        assert await served.channel.send("zu-1", [Outbound(secret_text)]) is SendResult.FAILED
        api.clear_faults()
        api.fail_next("sendMessage", 500, times=-1)
        assert await served.channel.send("zu-1", [Outbound(secret_text)]) is SendResult.FAILED
        api.clear_faults()
        api.fail_next("sendMessage", 403)
        assert await served.channel.send("zu-1", [Outbound(secret_text)]) is SendResult.BLOCKED
        assert await served.channel.send("zu-1", [Outbound(secret_text)]) is SendResult.SENT
    finally:
        await close()
    unreachable = ZaloClient(api.token, api_base=f"http://127.0.0.1:{free_port()}", max_retries=0)
    broken = ZaloChannel(served.app.engine, unreachable, served.channel.settings)
    assert await broken.send("zu-1", [Outbound(secret_text)]) is SendResult.FAILED
    await unreachable.close()
    logged = caplog.text
    assert "429" in logged  # something useful was logged...
    for private in (api.token, "zu-1", secret_text):  # ...but nothing personal or secret
        assert private not in logged


def free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


# ------------------------------------------------------------------ start and stop


async def test_webhook_mode_needs_a_secret(api, sqlite_url, tmp_path):
    app = await make_app(
        sqlite_url,
        tmp_path,
        zalo=ZaloSettings(
            token=api.token, mode="webhook", api_base=api.base_url,
            webhook_url="https://xa.example.vn/zalo/webhook",
        ),
    )  # fmt: skip
    channel = create_zalo_channel(app)
    with pytest.raises(ZaloConfigError, match="webhook_secret"):
        await channel.start()
    await channel.stop()
    await app.close()
    assert api.calls_to("setWebhook") == []


async def test_polling_backs_off_after_errors_and_stops_promptly(api, sqlite_url, tmp_path):
    api.long_poll_cap = 5.0  # a long poll is pending when stop() comes
    served, close = await run_zalo(
        api, sqlite_url, tmp_path, "polling", client=quick_client(api, max_retries=0)
    )
    api.fail_next("getUpdates", 401, times=2)
    api.fail_next("getUpdates", 500)
    assert "Bạn có đồng ý không?" in await served.user().say("Xin chào")
    assert len(api.calls_to("getUpdates")) >= 4  # three failures, then the update
    await asyncio.sleep(0.05)  # the next long poll is now waiting on the server
    started = time.monotonic()
    await asyncio.wait_for(close(), 2.0)  # not after the 5 s long poll
    assert time.monotonic() - started < 2.0


# ------------------------------------------------------------ two messengers, one learner


async def test_a_learner_linked_on_telegram_and_zalo_counts_once(zalo):
    curriculum = zalo.app.engine.services.curriculum
    lesson = next(iter(curriculum.lessons.values()))
    # Telegram side through the engine: register, pass a lesson, ask for a code.
    telegram = Chat(zalo.app, user="tg-1", channel="telegram", name="Bác Tư")
    await telegram.onboard()
    await telegram.read_lesson(lesson.id)
    await telegram.take_quiz(lesson.id)
    await telegram.text("/lienket")
    code = re.search(r"\b\d{3} \d{3}\b", telegram.last.text)
    assert code, telegram.last.text

    # Zalo side: the same resident had also registered there on their own.
    bac = zalo.user()
    await bac.say("Xin chào")
    await bac.say("1")
    await bac.say("1")
    await bac.say("4")
    async with zalo.app.database.session() as session:
        assert (await session.execute(LEARNERS)).scalar_one() == 2
    before = await bac.say("/tiendo")
    assert f"▫️ {lesson.title}" in before

    linked = await bac.say(code.group())
    assert "Liên kết thành công" in linked
    assert "Trang chính" in linked
    async with zalo.app.database.session() as session:
        assert (await session.execute(LEARNERS)).scalar_one() == 1
    progress = await bac.say("/tiendo")
    assert f"✅ {lesson.title}" in progress
    assert "đạt 1/" in progress
