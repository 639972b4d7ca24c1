"""A province deployment's bots end to end: two Telegram bots (different tokens, each
its own FakeTelegramAPI, every call checked against the Bot API spec) and one Zalo bot
(FakeZaloAPI), all in webhook mode on the real web app, over three communes
(tests/province_support.py): each resident lands in their bot's commune and hears from
that bot; a shared bot asks; a forged secret changes nothing; queued messages leave
through the bot that owns the account (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.app import App
from bot.channels.registry import build_channels
from bot.outbox import OutboxWorker, throttles_from_settings
from bot.scheduling.nudges import run_nudges
from bot.web import build_web_app
from config.settings import BotSettings
from storage.models import ChannelAccount, ParticipationEvent, ProcessedUpdate
from tests.fakes.telegram_api import FakeTelegramAPI, RateLimits
from tests.fakes.zalo_api import FakeZaloAPI
from tests.province_support import commune, write_communes
from tests.support import make_app
from tests.test_telegram_e2e import numbered_lines, until

FAST = RateLimits(per_chat_per_second=100.0, per_chat_burst=100)
SECRETS = {"tg-hoaan": "secret-hoa-an", "tg-tanphu": "secret-tan-phu", "zl-tan": "secret-zalo-tan"}


@dataclass
class Province:
    app: App
    hoaan: FakeTelegramAPI  # bot "tg-hoaan": Xã Hòa An
    tanphu: FakeTelegramAPI  # bot "tg-tanphu": Xã Tân Phú
    zalo: FakeZaloAPI  # bot "zl-tan": Xã Tân Phú and Phường Tân Hòa
    base: str  # http://127.0.0.1:<port>
    channels: list[Any]

    def t(self, key: str, **values: Any) -> str:
        return self.app.engine.services.texts(key, **values)

    async def telegram(self, fake: FakeTelegramAPI, chat: int, text: str) -> str:
        """Send `text` (or press the button labelled so) and return the bot's answer."""
        before = len(fake.sent_messages(chat))
        last = fake.last_bot_message(chat) or {}
        markup = last.get("reply_markup") or {}
        labels = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
        update = (
            fake.button_update(chat, text) if text in labels else fake.message_update(chat, text)
        )
        status, _ = await fake.post_to_webhook(update)
        assert status == 200
        await until(lambda: len(fake.sent_messages(chat)) > before)
        return fake.sent_messages(chat)[-1].text or ""

    async def zalo_says(self, user: str, text: str) -> str:
        before = len(self.zalo.sent_texts(user))
        status, _ = await self.zalo.deliver({"text": text, "user_id": user})
        assert status == 200
        await until(lambda: len(self.zalo.sent_texts(user)) > before)
        return "\n".join(self.zalo.sent_texts(user)[before:])


@asynccontextmanager
async def province(db_url, tmp_path, clock) -> AsyncIterator[Province]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with (
        FakeTelegramAPI("1111:hoa-an-token", rate_limits=FAST) as hoaan,
        FakeTelegramAPI("2222:tan-phu-token", rate_limits=FAST) as tanphu,
        FakeZaloAPI("3333:zalo-tan-token") as zalo,
    ):

        def bot(name: str, messenger: str, fake: Any, communes: list[str]) -> BotSettings:
            return BotSettings(
                name=name,
                messenger=messenger,
                token=fake.token,
                api_base=fake.base_url,
                mode="webhook",
                webhook_url=f"{base}/webhook/{name}",
                webhook_secret=SECRETS[name],
                communes=communes,
            )

        bots = [
            bot("tg-hoaan", "telegram", hoaan, ["hoa-an"]),
            bot("tg-tanphu", "telegram", tanphu, ["tan-phu"]),
            bot("zl-tan", "zalo", zalo, ["tan-phu", "tan-hoa"]),
        ]
        folder = write_communes(tmp_path / "communes")
        app = await make_app(db_url, tmp_path, clock, communes_dir=folder, bots=bots)
        channels = build_channels(app)
        runner = web.AppRunner(build_web_app(app.database, channels), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        for channel in channels:
            await channel.start()
        try:
            yield Province(app, hoaan, tanphu, zalo, base, channels)
            hoaan.assert_no_violations()
            tanphu.assert_no_violations()
        finally:
            for channel in channels:
                await channel.stop()
            await runner.cleanup()
            await app.close()


async def accounts(app: App) -> dict[tuple[str, str], int | None]:
    async with app.database.session() as session:
        rows = await session.execute(
            select(ChannelAccount.channel, ChannelAccount.external_id, ChannelAccount.commune_id)
        )
        return {(channel, ext): commune_id for channel, ext, commune_id in rows}


async def count(app: App, model) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def onboard_all(p: Province) -> None:
    """A resident on each bot consents; the shared Zalo bot asks for the commune first."""
    agree = p.t("consent.agree")
    for fake, chat in ((p.hoaan, 101), (p.tanphu, 202)):
        await p.telegram(fake, chat, "/start")
        await p.telegram(fake, chat, agree)
    asked = await p.zalo_says("z-303", "Xin chào")
    assert "Bạn ở xã (phường) nào?" in asked
    lines = numbered_lines(asked)
    assert list(lines) == ["Xã Tân Phú", "Phường Tân Hòa"]  # only the bot's communes
    welcome = await p.zalo_says("z-303", str(lines["Phường Tân Hòa"]))
    await p.zalo_says("z-303", str(numbered_lines(welcome)[agree]))


async def test_each_bot_lands_its_residents_in_its_commune_and_answers_them(
    db_url, tmp_path, clock
) -> None:
    async with province(db_url, tmp_path, clock) as p:
        assert {c.name for c in p.channels} == {"tg-hoaan", "tg-tanphu", "zl-tan"}
        assert p.hoaan.webhook_url == f"{p.base}/webhook/tg-hoaan"
        assert p.zalo.webhook.url == f"{p.base}/webhook/zl-tan"

        first = await p.telegram(p.hoaan, 101, "/start")
        assert "Xã Hòa An" in first and "Tân Phú" not in first
        assert await p.telegram(p.tanphu, 202, "/start")
        assert "Xã Tân Phú" in p.tanphu.texts(202)[-1]
        # Each answer came from the bot the resident wrote to, nowhere else.
        assert p.tanphu.sent_messages(101) == [] and p.hoaan.sent_messages(202) == []
        assert p.zalo.sent() == []

        await p.telegram(p.hoaan, 101, p.t("consent.agree"))
        await p.telegram(p.tanphu, 202, p.t("consent.agree"))
        asked = await p.zalo_says("z-303", "Xin chào")  # the shared bot asks first
        assert "Bạn ở xã (phường) nào?" in asked
        lines = numbered_lines(asked)
        welcome = await p.zalo_says("z-303", str(lines["Phường Tân Hòa"]))
        assert "Phường Tân Hòa" in welcome
        await p.zalo_says("z-303", str(numbered_lines(welcome)[p.t("consent.agree")]))

        app = p.app
        assert await accounts(app) == {
            ("tg-hoaan", "101"): commune(app, "hoa-an").id,
            ("tg-tanphu", "202"): commune(app, "tan-phu").id,
            ("zl-tan", "z-303"): commune(app, "tan-hoa").id,
        }
        async with app.database.session() as session:
            recorded = set(await session.scalars(select(ParticipationEvent.channel)))
        assert recorded <= {"tg-hoaan", "tg-tanphu", "zl-tan"} and recorded


async def test_a_wrong_secret_for_one_bot_is_refused_and_changes_nothing(
    db_url, tmp_path, clock
) -> None:
    async with province(db_url, tmp_path, clock) as p:
        hello = p.hoaan.message_update(101, "/start")
        # Another bot's (valid) secret on this bot's path, a forged one, none at all.
        for secret in (SECRETS["tg-tanphu"], "forged", None):
            status, _ = await p.hoaan.post_to_webhook(hello, secret_override=secret)
            assert status == 401
        status, _ = await p.zalo.deliver({"text": "Xin chào", "user_id": "z-1"}, secret="forged")
        assert status == 401
        status, _ = await p.zalo.deliver(
            {"text": "Xin chào", "user_id": "z-1"}, secret=SECRETS["tg-hoaan"]
        )
        assert status == 401
        assert await accounts(p.app) == {}
        assert await count(p.app, ProcessedUpdate) == 0
        assert p.hoaan.sent_messages() == [] and p.zalo.sent() == []


async def test_queued_messages_leave_through_the_bot_that_owns_the_account(
    db_url, tmp_path, clock
) -> None:
    async with province(db_url, tmp_path, clock) as p:
        await onboard_all(p)
        app = p.app
        throttles = throttles_from_settings(app.settings)
        assert {"tg-hoaan", "tg-tanphu", "zl-tan"} <= set(throttles)  # one per bot
        assert throttles["tg-hoaan"] is not throttles["tg-tanphu"]

        clock.advance(days=1, hours=9)  # 19:00 the next day: the default nudge hour
        run = await run_nudges(app, clock())
        assert run.due == 3
        sent_before = {101: len(p.hoaan.sent_messages(101)), 202: len(p.tanphu.sent_messages(202))}
        zalo_before = len(p.zalo.sent_texts("z-303"))
        worker = OutboxWorker(
            app.database,
            {c.name: c for c in p.channels},
            throttles,
            app.settings.outbox,
            clock=clock,
        )
        assert await worker.drain_once() == 3 and worker.sent == 3
        assert len(p.hoaan.sent_messages(101)) > sent_before[101]
        assert len(p.tanphu.sent_messages(202)) > sent_before[202]
        assert len(p.zalo.sent_texts("z-303")) > zalo_before
        # Nothing crossed over: no bot wrote to another bot's residents.
        assert p.hoaan.sent_messages(202) == [] and p.tanphu.sent_messages(101) == []
