"""Broadcasts through the engine and the outbox, on SQLite and PostgreSQL: compose,
preview with the recipient count, confirm; queued in batches, each recipient once,
blocked recipients skipped and counted, progress and a final tally for the admin."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from bot.channels.base import SendResult
from bot.core.messages import Outbound
from bot.outbox import ChannelThrottle, OutboxWorker
from bot.team import broadcast_service
from config.settings import OutboxSettings
from storage.delivery_models import Broadcast, OutboxMessage
from storage.models import Person
from storage.team_models import AuditEntry
from tests.support import make_app
from tests.team_support import onboarded, queued, seed_admin, seed_residents, texts_of


class RecordingChannel:
    """A stand-in messenger that records what reaches each chat, in order."""

    name = "telegram"

    def __init__(self, blocked: Sequence[str] = ()) -> None:
        self.received: list[tuple[str, str]] = []
        self.blocked = set(blocked)

    def routes(self):
        return []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: str, messages: Sequence[Outbound]) -> SendResult:
        if external_id in self.blocked:
            return SendResult.BLOCKED
        self.received += [(external_id, m.text) for m in messages]
        return SendResult.SENT


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def run_until_finished(app, channel: RecordingChannel, clock, batch_size: int = 50) -> None:
    worker = OutboxWorker(
        app.database,
        {"telegram": channel},
        {"telegram": ChannelThrottle(10_000.0, None)},
        OutboxSettings(batch_size=batch_size),
        name="test",
        clock=clock,
    )
    texts = app.engine.services.texts
    deadline = time.monotonic() + 60
    while await broadcast_service.step(app.database, texts, clock()):
        await worker.drain_once()
        clock.advance(seconds=1)
        assert time.monotonic() < deadline, "the broadcast did not finish"
    while await worker.drain_once():  # the final tally
        pass


async def test_compose_preview_confirm_and_send(app, clock):
    ids = await seed_residents(app, 30, villages=("T01", "T02", "T03"), inactive=0)
    blocked = await seed_residents(app, 2, villages=("T02",), first_id=800_000_001, inactive=2)
    admin = await onboarded(app, "admin", "commune_admin")
    await admin.text("/quantri")
    await admin.choose("bc_compose")
    await admin.text("x" * 901)
    assert "Tối đa 900 ký tự" in admin.all_text()
    await admin.text(
        "Tối thứ Sáu 19h, nhà văn hóa thôn hướng dẫn cài VNeID mức 2. Mời bà con đến dự!"
    )
    await admin.text("http://anh.example/a.jpg")
    assert "https://" in admin.all_text()
    await admin.choose("none")
    await admin.choose("some")
    await admin.choose("v:T01")
    await admin.choose("v:T02")
    await admin.choose("v:T03")
    await admin.choose("v:T03")  # toggled off again
    await admin.choose("done")
    preview = admin.last.text
    assert "📣 Thông báo của Xã Hòa An:" in preview and "Mời bà con đến dự!" in preview
    assert "Gửi tới: Thôn Đông, Thôn Tây" in preview
    # 10 + 10 seeded and the admin herself (T01, on the console); 2 blocked the bot.
    assert "✅ Số người nhận: 21 người (21 tài khoản: 20 Telegram, 1 Máy tính)." in preview
    assert "⚠️ Không nhận được: 2 người, vì:\n• 2 người đã chặn bot" in preview
    async with app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0
    await admin.choose("send")
    assert "Đang gửi thông báo #1 tới 23 tài khoản" in admin.all_text()
    assert admin.last.text.startswith("🏛")

    channel = RecordingChannel(blocked=blocked)
    await run_until_finished(app, channel, clock)
    chats = Counter(chat for chat, _ in channel.received)
    wanted = {i for n, i in enumerate(ids) if n % 3 in (0, 1)}
    assert set(chats) == wanted and set(chats.values()) == {1}
    tally = texts_of(await queued(app, admin, kind="relay"))
    assert tally == [
        "✅ Đã gửi xong thông báo #1.\n"
        "• Đã gửi: 20\n• Người nhận đã chặn bot: 2\n• Gửi không được: 0\n"
        "• Đang chờ người nhận mở hocvuso chat (máy tính): 1"
    ]
    async with app.database.session() as session:
        broadcast = await session.scalar(select(Broadcast))
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "broadcast.confirm")
        )
    assert broadcast.finished_at is not None and broadcast.village_codes == ["T01", "T02"]
    assert entry.detail["accounts"] == 23


async def test_an_announcement_confirmed_at_night_says_it_waits_for_the_morning(app, clock):
    await seed_residents(app, 3, villages=("T01",), inactive=0)
    admin = await onboarded(app, "admin", "commune_admin")
    await admin.text("/quantri")

    async def preview_at(hour_utc: int) -> str:
        clock.now = clock.now.replace(hour=hour_utc)
        await admin.choose("bc_compose" if admin.last.text.startswith("🏛") else "edit")
        await admin.text("Sáng mai 8h họp thôn.")
        await admin.choose("none")
        await admin.choose("all")
        return admin.last.text

    assert "giờ nghỉ" not in await preview_at(3)  # 10:00 local: it goes at once
    note = "giờ nghỉ của bà con (21 giờ–7 giờ), nên thông báo sẽ được gửi từ 7 giờ"
    assert note in await preview_at(15)  # 22:00 local
    assert "✅ Đồng ý gửi" in [c.label for c in admin.last.choices]  # not "Gửi ngay"
    await admin.choose("send")
    assert note in admin.all_text() and "Đã xếp lịch gửi thông báo #1" in admin.all_text()
    assert "Đang gửi thông báo" not in admin.all_text()


async def test_cancel_and_edit_store_nothing(app):
    await seed_residents(app, 3)
    admin = await onboarded(app, "admin", "deployment_admin")
    await admin.text("/quantri")
    await admin.choose("bc_compose")
    await admin.text("Bản nháp")
    await admin.choose("none")
    await admin.choose("all")
    assert "Gửi tới: Cả Xã Hòa An" in admin.last.text
    await admin.choose("edit")
    await admin.text("Bản nháp đã sửa")
    await admin.choose("none")
    await admin.choose("all")
    assert "Bản nháp đã sửa" in admin.last.text
    await admin.choose("cancel")
    assert "Đã hủy thông báo" in admin.all_text()
    async with app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_nobody_to_send_to(app):
    admin = await onboarded(app, "admin", "commune_admin")
    await admin.text("/quantri")
    await admin.choose("bc_compose")
    await admin.text("Thông báo")
    await admin.choose("none")
    await admin.choose("some")
    await admin.choose("v:T09")
    await admin.choose("done")
    assert "Chưa có người dân nào đăng ký" in admin.last.text
    assert "send" not in admin.choice_ids


async def test_large_broadcast_is_fed_in_batches_with_progress_on_the_way(app, clock, monkeypatch):
    monkeypatch.setattr(broadcast_service, "BATCH", 60)
    monkeypatch.setattr(broadcast_service, "LOW_WATER", 60)
    ids = await seed_residents(app, 300, villages=("T01", "T02"))
    admin_id = await seed_admin(app, "42")
    async with app.database.transaction() as session:
        broadcast = await broadcast_service.create(
            session,
            commune_id=app.engine.services.communes.only.id,
            person_id=admin_id,
            text="Lịch tiêm chủng tháng 12",
            image=None,
            village_codes=[],
            now=clock(),
        )
        assert (
            await broadcast_service.enqueue_next_batch(
                session, app.engine.services.texts, broadcast, clock()
            )
            == 60
        )
    async with app.database.session() as session:
        waiting = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert waiting == 60  # a bounded queue, not 300 rows at once

    channel = RecordingChannel()
    await run_until_finished(app, channel, clock, batch_size=20)
    to_residents = [chat for chat, _ in channel.received if chat != "42"]
    assert sorted(to_residents) == sorted(ids)
    admin_texts = [text for chat, text in channel.received if chat == "42"]
    assert [t.split(":")[0] for t in admin_texts] == [
        "📤 Thông báo #1",
        "📤 Thông báo #1",
        "📤 Thông báo #1",
        "✅ Đã gửi xong thông báo #1.\n• Đã gửi",
    ]
    percents = [int(t.rsplit("(", 1)[1].rstrip("%).")) for t in admin_texts[:3]]
    assert [p >= m for p, m in zip(percents, (25, 50, 75), strict=True)] == [True] * 3
    assert percents == sorted(percents) and percents[-1] < 100
    # Progress reached the admin while residents were still being served.
    first_progress = channel.received.index(("42", admin_texts[0]))
    assert first_progress < len(channel.received) - 100


async def test_deleted_and_merged_people_are_not_recipients(app, clock):
    ids = await seed_residents(app, 4)
    async with app.database.transaction() as session:
        people = list(await session.scalars(select(Person).order_by(Person.id)))
        people[0].deleted_at = clock()
        people[1].merged_into_person_id = people[2].id
    admin_id = await seed_admin(app, "42")
    async with app.database.transaction() as session:
        broadcast = await broadcast_service.create(
            session,
            commune_id=app.engine.services.communes.only.id,
            person_id=admin_id,
            text="Thông báo",
            image="https://anh.example/a.jpg",
            village_codes=["T01"],
            now=clock(),
        )
        await broadcast_service.enqueue_next_batch(
            session, app.engine.services.texts, broadcast, clock()
        )
    rows = await queued(app, kind="broadcast")
    assert sorted(r.external_id for r in rows) == sorted(ids[2:])
    assert rows[0].payload["messages"][0]["image"] == "https://anh.example/a.jpg"
    assert {r.dedupe_key.rsplit(":", 1)[0] for r in rows} == {f"bc:{broadcast.id}"}
