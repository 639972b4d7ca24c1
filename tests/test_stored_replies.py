"""A step recorded but never answered (the process died between commit and send) is
answered when Telegram delivers the update again: once, and only within the window."""

from __future__ import annotations

from typing import Any

from aiogram.types import Update
from sqlalchemy import select

from bot.channels.telegram.inbound import callback_to_inbound
from bot.scheduling.housekeeping import run_housekeeping
from storage.models import ProcessedUpdate
from tests.test_telegram_e2e import CHAT, events, running


def agree(bot) -> dict[str, Any]:
    return {**bot.fake.button_update(CHAT, bot.texts("consent.agree")), "update_id": 2**31}


async def commit_then_die(bot, update: dict[str, Any]) -> None:
    """What a process killed after the commit leaves behind: the step is recorded, its
    reply was never sent, and Telegram (which got no answer) will deliver it again."""
    parsed = Update.model_validate(update)
    assert parsed.callback_query is not None
    inbound = callback_to_inbound(parsed.callback_query, parsed.update_id)
    assert inbound is not None
    reply = await bot.app.engine.handle(inbound)
    assert reply.stored and reply.messages


async def stored(bot) -> list[Any]:
    await bot.channel.intake.drain(5)  # "sent" marks are written in batches
    async with bot.app.database.session() as session:
        return list(await session.scalars(select(ProcessedUpdate.reply)))


async def test_a_reply_lost_in_a_crash_is_sent_on_redelivery_once(db_url, tmp_path, clock):
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        await bot.say("/start")
        assert await stored(bot) == [None]  # sent, so confirmed: nothing kept
        update = agree(bot)
        await commit_then_die(bot, update)
        before = bot.fake.texts(CHAT)

        # Too soon: another process may still be sending it. Telegram is asked to retry.
        status, _ = await bot.fake.post_to_webhook(update)
        assert status == 503 and bot.fake.texts(CHAT) == before

        clock.advance(seconds=30)
        await bot.deliver(update)
        after = bot.fake.texts(CHAT)
        assert after[: len(before)] == before
        new = after[len(before) :]
        assert new[0] == bot.texts("consent.thanks") and "Thôn Nam" in bot.buttons()

        clock.advance(seconds=30)
        await bot.deliver(update)  # a second redelivery: already re-sent
        assert bot.fake.texts(CHAT) == after
        assert [e.kind for e in await events(bot.app)] == ["registered", "consented"]
        assert await stored(bot) == [None, None]
        bot.fake.assert_no_violations()


async def test_a_sent_reply_is_not_sent_again_and_an_old_one_is_dropped(db_url, tmp_path, clock):
    async with running(db_url, tmp_path, clock, "webhook") as bot:
        await bot.say("/start")
        update = agree(bot)
        await bot.deliver(update)  # answered and confirmed
        await bot.channel.intake.drain(5)  # "sent" marks are written in batches
        answered = bot.fake.texts(CHAT)
        clock.advance(seconds=30)
        await bot.deliver(update)
        assert bot.fake.texts(CHAT) == answered

        lost = {**bot.fake.button_update(CHAT, "Thôn Nam"), "update_id": 2**31 + 1}
        await commit_then_die(bot, lost)
        clock.advance(hours=2)  # past the window: re-sending now would only confuse
        await bot.deliver(lost)
        assert bot.fake.texts(CHAT) == answered

        await run_housekeeping(bot.app, clock.now)  # clears replies past the window
        assert all(reply is None for reply in await stored(bot))
