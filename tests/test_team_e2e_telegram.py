"""Team and admin flows end to end over Telegram: the real aiogram client and our
channel against FakeTelegramAPI (every call checked against the Bot API spec), with
queued messages delivered by the real outbox worker.

invite -> join; referral -> attribution; visit -> one-tap confirmation -> verified;
question -> answer round trip and escalation; and role-matrix cases as Telegram
delivers them (commands and forged button presses).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sending import RetryPolicy
from bot.outbox import ChannelThrottle, OutboxWorker
from bot.team.escalation import escalate_overdue
from config.settings import OutboxSettings, TelegramSettings
from storage.models import ChannelAccount, Person, Team
from storage.team_models import StaffRole, SupportVisit, TeamQuestion
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramAPI, RateLimits
from tests.support import make_app
from tests.team_support import add_households, resident_code

ADMIN, MEMBER, RESIDENT, NEIGHBOUR = 5_550_101, 5_550_102, 5_550_103, 5_550_104
FAST = RateLimits(per_chat_per_second=100.0, per_chat_burst=100)  # a quick journey
QUICK = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@dataclass
class Bot:
    fake: FakeTelegramAPI
    app: App
    channel: TelegramChannel
    worker: OutboxWorker

    @property
    def t(self) -> Callable[..., str]:
        return self.app.engine.services.texts

    async def deliver(self, update: dict[str, Any]) -> None:
        target = self.channel.handlers.handled + 1
        self.fake.feed(update)
        deadline = time.monotonic() + 5
        while self.channel.handlers.handled < target:
            assert time.monotonic() < deadline, "timed out waiting for the bot"
            await asyncio.sleep(0.005)

    async def say(self, chat: int, text: str) -> None:
        await self.deliver(self.fake.message_update(chat, text, first_name=NAMES[chat]))

    async def press(self, chat: int, label: str) -> None:
        """Press the button showing `label`, or the number of the line listing it."""
        markup = self.latest(chat).get("reply_markup") or {}
        buttons = {b["text"] for row in markup.get("inline_keyboard", []) for b in row}
        if label not in buttons:
            lines = re.finditer(r"^(\d+)\. (.+)$", self.latest(chat).get("text", ""), re.M)
            numbers = {m[2]: m[1] for m in lines}
            assert label in numbers, f"no {label!r} among {sorted(buttons)}"
            label = numbers[label]
        await self.deliver(self.fake.button_update(chat, label, first_name=NAMES[chat]))

    async def forge(self, chat: int, data: str) -> None:
        """A callback with `data` on the chat's latest message, as a tampered client would."""
        await self.deliver(self.fake.callback_update(chat, data, first_name=NAMES[chat]))

    def latest(self, chat: int) -> dict[str, Any]:
        message = self.fake.last_bot_message(chat)
        assert message is not None, "the bot has sent nothing"
        return message

    def buttons(self, chat: int) -> list[str]:
        markup = self.latest(chat).get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    def text(self, chat: int) -> str:
        return self.latest(chat).get("text") or self.latest(chat).get("caption") or ""

    def all_texts(self, chat: int) -> str:
        return "\n".join(self.fake.texts(chat))

    async def drain(self) -> None:
        """Deliver everything queued in the outbox (relays, confirmations)."""
        while await self.worker.drain_once():
            pass

    async def onboard(self, chat: int, village: str = "Thôn Đông") -> None:
        await self.say(chat, "/start")
        await self.press(chat, self.t("consent.agree"))
        await self.press(chat, village)
        await self.press(chat, self.t("age.skip"))


NAMES = {ADMIN: "Mai", MEMBER: "Sơn", RESIDENT: "Tám", NEIGHBOUR: "Hai"}


@asynccontextmanager
async def running(db_url: str, tmp_path: Path, clock) -> AsyncIterator[Bot]:
    async with FakeTelegramAPI(rate_limits=FAST) as fake:
        telegram = TelegramSettings(token=fake.token, api_base=fake.base_url)
        app = await make_app(db_url, tmp_path, clock, telegram=telegram)
        # Until Services carries them (see bot/team/options.py): the bot's username
        # for deep links, and where QR codes go.
        app.engine.services.telegram_username = BOT_USERNAME  # type: ignore[attr-defined]
        app.engine.services.data_dir = tmp_path / "data"  # type: ignore[attr-defined]
        channel = TelegramChannel(app, policy=QUICK)
        await channel.start()
        worker = OutboxWorker(
            app.database,
            {"telegram": channel},
            {"telegram": ChannelThrottle(30.0, 100.0)},
            OutboxSettings(),
            clock=clock,
        )
        try:
            yield Bot(fake, app, channel, worker)
            fake.assert_no_violations()
        finally:
            await channel.stop()
            await app.close()


async def grant_admin(app: App, chat: int) -> None:
    async with app.database.transaction() as session:
        person_id = await session.scalar(
            select(ChannelAccount.person_id).where(ChannelAccount.external_id == str(chat))
        )
        session.add(
            StaffRole(
                person_id=person_id,
                role="commune_admin",
                commune_id=app.engine.services.communes.only.id,
                created_at=app.engine.services.clock(),
            )
        )


async def person(app: App, chat: int) -> Person:
    async with app.database.session() as session:
        return await session.scalar(
            select(Person)
            .join(ChannelAccount, ChannelAccount.person_id == Person.id)
            .where(ChannelAccount.external_id == str(chat))
        )


async def test_team_flows_over_telegram(db_url, tmp_path, clock):
    async with running(db_url, tmp_path, clock) as bot:
        t = bot.t
        await add_households(bot.app, "T01", [("H001", "Lê Văn Cường"), ("H002", "Trần Thị Bình")])

        # --- invite -> join
        await bot.onboard(ADMIN, "Thôn Bắc")
        await grant_admin(bot.app, ADMIN)
        await bot.say(ADMIN, "/quantri")
        await bot.press(ADMIN, t("admin.invite"))
        await bot.press(ADMIN, t("team.roles.member"))
        await bot.press(ADMIN, "Thôn Đông")
        await bot.press(ADMIN, t("admin.invite_uses", n=5))
        created = bot.all_texts(ADMIN)
        link = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=(inv_[A-Z0-9]{{8}})", created)
        assert link, created
        await bot.say(MEMBER, f"/start {link.group(1)}")
        assert "vai trò thành viên của Tổ công nghệ số cộng đồng thôn Đông" in bot.text(MEMBER)
        await bot.press(MEMBER, t("consent.agree"))
        assert "Chào mừng bạn tham gia" in bot.all_texts(MEMBER)
        assert t("team.visit") in bot.buttons(MEMBER)
        member = await person(bot.app, MEMBER)
        async with bot.app.database.session() as session:
            role = await session.scalar(select(StaffRole).where(StaffRole.person_id == member.id))
            team = await session.get(Team, role.team_id)
        assert (role.role, team.code, member.village_id) == ("member", "TCN-T01", team.village_id)

        # --- referral -> resident attributed to member, team and village
        await bot.press(MEMBER, t("team.referral"))
        referral = re.search(
            rf"https://t\.me/{BOT_USERNAME}\?start=(ref_[A-Z0-9]{{8}})", bot.all_texts(MEMBER)
        )
        assert referral
        await bot.say(RESIDENT, f"/start {referral.group(1)}")
        assert "Bạn được Sơn, Tổ công nghệ số cộng đồng Thôn Đông, giới thiệu." in bot.text(
            RESIDENT
        )
        await bot.press(RESIDENT, t("consent.agree"))
        await bot.press(RESIDENT, t("team.join.village_yes"))
        resident = await person(bot.app, RESIDENT)
        assert (resident.referred_by_person_id, resident.attributed_team_id) == (member.id, team.id)
        assert resident.village_id == team.village_id
        # The village has a household list: the resident may give their code (or skip).
        assert t("team.household.ask").split("\n")[0] in bot.text(RESIDENT)
        await bot.say(RESIDENT, await resident_code(bot.app, "T01", "H001"))
        assert t("age.ask") in bot.text(RESIDENT)
        await bot.press(RESIDENT, t("age.skip"))
        assert (await person(bot.app, RESIDENT)).household_id is not None

        # --- visit logged -> resident confirms with one tap -> verified
        await bot.say(MEMBER, "/to")
        await bot.press(MEMBER, t("team.visit"))
        await bot.press(MEMBER, "H001 · Lê Văn Cường")
        await bot.press(MEMBER, t("team.service_off", label=t("team.services.vneid_level2")))
        await bot.press(MEMBER, t("team.service_off", label=t("team.services.public_service")))
        await bot.press(MEMBER, t("team.services_done"))
        await bot.press(MEMBER, t("team.note_skip"))
        assert "Đã ghi lần hỗ trợ hộ H001" in bot.all_texts(MEMBER)
        await bot.drain()
        assert "VNeID mức 2, Dịch vụ công trực tuyến" in bot.text(RESIDENT)
        await bot.press(RESIDENT, t("team.verify.yes"))
        assert t("team.verify.thanks_yes") in bot.all_texts(RESIDENT)
        async with bot.app.database.session() as session:
            visit = await session.scalar(select(SupportVisit))
        assert visit.verified_by_person_id == resident.id
        await bot.say(MEMBER, "/to")
        await bot.press(MEMBER, t("team.view_entry", village="Thôn Đông"))
        assert "Được người dân xác nhận: 1 · chưa xác nhận: 0" in bot.text(MEMBER)

        # --- question -> answer round trip
        await bot.say(RESIDENT, "/hoicanbo")
        await bot.say(RESIDENT, "Làm sao đặt lịch khám trên Sổ sức khỏe điện tử ạ?")
        await bot.drain()
        assert "Câu hỏi mới từ Tám (Thôn Đông)" in bot.all_texts(MEMBER)
        await bot.say(MEMBER, "/cauhoi")
        await bot.press(MEMBER, t("questions.pick", n=1))
        await bot.say(MEMBER, "Bác mở VNeID, chọn Sổ sức khỏe điện tử rồi Đặt lịch khám nhé.")
        await bot.drain()
        answer = bot.text(RESIDENT)
        assert answer.startswith("💬 Tổ công nghệ số cộng đồng Thôn Đông trả lời")
        assert "Đặt lịch khám nhé." in answer

        # --- escalation: nobody answers in 48 hours -> the commune admin hears of it
        await bot.onboard(NEIGHBOUR, "Thôn Đông")
        await bot.say(NEIGHBOUR, "/hoicanbo")
        await bot.say(NEIGHBOUR, "Xã có lớp học thanh toán QR không ạ?")
        clock.advance(hours=49)
        assert await escalate_overdue(bot.app.database, clock.now) == 1
        await bot.drain()
        assert "⏰ Câu hỏi chưa được trả lời sau 48 giờ, từ Hai (Thôn Đông)" in bot.text(ADMIN)
        assert t("questions.escalated_to_resident") in bot.text(NEIGHBOUR)
        await bot.say(ADMIN, "/cauhoi")
        await bot.press(ADMIN, t("questions.pick", n=1))
        await bot.say(ADMIN, "Có ạ, sáng Chủ nhật tại nhà văn hóa xã.")
        await bot.drain()
        assert bot.text(NEIGHBOUR).startswith("💬 Cán bộ Xã Hòa An trả lời")
        async with bot.app.database.session() as session:
            open_questions = await session.scalar(
                select(TeamQuestion).where(TeamQuestion.answered_at.is_(None))
            )
        assert open_questions is None


async def test_role_matrix_cases_over_telegram(db_url, tmp_path, clock):
    async with running(db_url, tmp_path, clock) as bot:
        t = bot.t
        denied = t("common.not_allowed")
        await bot.onboard(RESIDENT)
        await bot.onboard(ADMIN)
        await grant_admin(bot.app, ADMIN)
        for chat, command in [
            (RESIDENT, "/quantri"),
            (RESIDENT, "/to"),
            (RESIDENT, "/cauhoi"),
            (ADMIN, "/to"),  # an admin is not a team member
        ]:
            before = len(bot.fake.texts(chat))
            await bot.say(chat, command)
            assert denied in bot.fake.texts(chat)[before:], (chat, command)
        # A forged press of "send" on the resident's menu: not offered, so refused.
        await bot.say(RESIDENT, "/menu")
        await bot.forge(RESIDENT, "send")
        assert t("common.stale") in bot.all_texts(RESIDENT)
        # The admin's own menu offers the admin tools; the resident's does not.
        await bot.say(ADMIN, "/quantri")
        assert bot.text(ADMIN).startswith("🏛")
        await bot.press(ADMIN, t("admin.broadcast"))
        await bot.say(ADMIN, "Chiều nay họp thôn lúc 14 giờ.")
        await bot.press(ADMIN, t("broadcast.image_none"))
        await bot.press(ADMIN, t("broadcast.target_all", commune="Xã Hòa An"))
        assert "✅ Số người nhận: 2 người (2 tài khoản: 2 Telegram)." in bot.text(ADMIN)
        await bot.press(ADMIN, t("broadcast.send"))
        await bot.drain()
        assert "📣 Thông báo của Xã Hòa An:\n\nChiều nay họp thôn lúc 14 giờ." in bot.fake.texts(
            RESIDENT
        )
