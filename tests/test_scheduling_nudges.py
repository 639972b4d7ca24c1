"""Daily lesson nudges on SQLite and PostgreSQL, with a fake clock: only due residents,
at their hour, never in quiet hours, at most once a day, respecting /nhacnho, and never
twice after a restart. Job functions are called directly with `now`; nothing waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from bot.scheduling.nudges import run_nudges
from bot.scheduling.scheduler import Scheduler
from config.settings import SchedulerSettings
from storage.models import ChannelAccount
from tests.support import Chat
from tests.test_scheduling_helpers import (
    account_of,
    app,  # noqa: F401  (fixture)
    local,
    outbox,
    pass_everything,
    recipients,
    reminder,
    resident,
    sqlite_only,
)

SATURDAY_19H = local(2026, 11, 21, 19)


async def nudge_at(app, clock, when):  # noqa: F811
    clock.now = when
    return await run_nudges(app, when)


async def test_each_resident_is_nudged_at_their_own_hour_only(app, clock):  # noqa: F811
    await resident(app, "evening")  # default hour 19
    morning = await resident(app, "morning")
    await morning.text("/nhacnho")
    await morning.choose("h:7")
    assert (await reminder(app, "morning")).hour == 7

    assert (await nudge_at(app, clock, local(2026, 11, 21, 7))).enqueued == 1
    assert await recipients(app, "nudge") == {"morning": 1}
    assert (await nudge_at(app, clock, local(2026, 11, 21, 12))).enqueued == 0
    assert (await nudge_at(app, clock, SATURDAY_19H)).enqueued == 1
    assert await recipients(app, "nudge") == {"morning": 1, "evening": 1}


@sqlite_only
async def test_the_nudge_names_the_next_lesson_and_its_button_opens_it(app, clock):  # noqa: F811
    chat = await resident(app, "u1")
    await nudge_at(app, clock, SATURDAY_19H)
    [row] = await outbox(app, "nudge")
    message = row.payload["messages"][0]
    first = next(iter(app.engine.services.curriculum.lessons.values()))
    assert "Bà Lan" in message["text"] and first.title in message["text"]
    assert row.dedupe_key.endswith(":2026-11-21")
    # The account now shows the nudge, so the engine accepts the button it offers.
    await chat.choose(message["choices"][0][0])
    assert chat.last.text.startswith("📘") and first.title in chat.last.text


async def test_a_nudge_still_queued_when_quiet_hours_begin_is_dropped(app, clock):  # noqa: F811
    """A long backlog must not deliver the 19:00 nudge at 22:00: it expires at 21:00."""
    from bot.outbox import quiet_hours_hold
    from tests.test_outbox import RecordingChannel, night_aware_worker, statuses

    await resident(app, "u1")
    await nudge_at(app, clock, SATURDAY_19H)
    [row] = await outbox(app, "nudge")
    assert row.expires_at == local(2026, 11, 21, 21)
    channel = RecordingChannel()
    clock.now = local(2026, 11, 21, 22)
    held = quiet_hours_hold(app.settings.scheduler, app.engine.services.tz)
    late_worker = night_aware_worker(app, channel, clock, held)
    assert await late_worker.drain_once() == 0
    clock.now = local(2026, 11, 22, 7)  # and not the next morning either
    assert await late_worker.drain_once() == 0
    assert channel.received == [] and await statuses(app) == {"expired": 1}


@sqlite_only
async def test_a_nudge_resumes_the_card_where_the_resident_stopped(app, clock):  # noqa: F811
    chat = await resident(app, "u1")
    lesson = next(iter(app.engine.services.curriculum.lessons.values()))
    await chat.choose(f"l:{lesson.id}")
    await chat.choose("next")  # card 2 of the lesson, then silence
    await nudge_at(app, clock, SATURDAY_19H)
    [row] = await outbox(app, "nudge")
    assert "học tiếp" in row.payload["messages"][0]["text"]
    await chat.choose(f"l:{lesson.id}")
    assert f"(2/{len(lesson.cards)})" in chat.last.text


@sqlite_only
async def test_no_nudge_in_quiet_hours_and_quiet_hours_are_refused(app, clock):  # noqa: F811
    chat = await resident(app, "u1")
    for hour in (21, 22, 23, 0, 3, 6):
        day = 22 if hour < 12 else 21
        assert (await nudge_at(app, clock, local(2026, 11, day, hour, 30))).due == 0
    await chat.text("/nhacnho")
    await chat.text("22h")
    assert "giờ nghỉ" in chat.all_text()
    await chat.text("5 giờ")
    assert "giờ nghỉ" in chat.all_text()
    assert await reminder(app, "u1") is None  # nothing was changed
    await chat.text("8h")  # typed, not among the offered hours, and allowed
    assert "8 giờ sáng" in chat.all_text() and (await reminder(app, "u1")).hour == 8
    await chat.text("8 giờ tối")
    assert "lúc 8 giờ tối mỗi ngày" in chat.all_text() and (await reminder(app, "u1")).hour == 20
    await chat.text("7")  # a number is always a line: the 7th is "Tắt nhắc nhở"
    state = await reminder(app, "u1")
    assert (state.hour, state.enabled) == (20, False)
    assert "Đã tắt nhắc nhở" in chat.all_text()
    await chat.text("2")  # a list number: the second hour shown
    state = await reminder(app, "u1")
    assert (state.hour, state.enabled) == (9, True)
    await chat.text("19")  # beyond the 8 lines: told how to type an hour, nothing changed
    assert 'gõ kèm chữ "giờ"' in chat.all_text() and (await reminder(app, "u1")).hour == 9
    await chat.text("19:00")
    assert "lúc 7 giờ tối mỗi ngày" in chat.all_text() and (await reminder(app, "u1")).hour == 19
    assert await outbox(app) == []
    with pytest.raises(ValidationError, match="quiet hours"):
        SchedulerSettings(nudge_hour=22)
    with pytest.raises(ValidationError, match="quiet hours"):
        SchedulerSettings(nudge_hours=[6, 19])


async def test_at_most_one_nudge_a_day_even_after_a_restart(app, clock):  # noqa: F811
    await resident(app, "u1")
    first = Scheduler(app)
    clock.now = SATURDAY_19H
    assert (await first.run_job("nudges"))["enqueued"] == 1
    assert (await first.run_job("nudges"))["enqueued"] == 0  # same hour, run again
    clock.now = SATURDAY_19H + timedelta(minutes=40)  # a late run within the grace
    assert (await first.run_job("nudges"))["enqueued"] == 0
    restarted = Scheduler(app)  # a fresh scheduler object, as after a restart
    assert (await restarted.run_job("nudges"))["enqueued"] == 0
    assert await recipients(app, "nudge") == {"u1": 1}
    clock.now = SATURDAY_19H + timedelta(days=1)  # the next day: one more
    assert (await restarted.run_job("nudges"))["enqueued"] == 1
    assert len(await outbox(app, "nudge")) == 2


@sqlite_only
async def test_a_run_missed_by_downtime_is_caught_up_within_the_grace_only(app, clock):  # noqa: F811
    await resident(app, "u1")
    await resident(app, "u2")
    # Down from 18:50 to 19:40: the catch-up run at start still serves 19:00.
    assert (await nudge_at(app, clock, local(2026, 11, 21, 19, 40))).enqueued == 2
    # Down all evening until 20:10 on Sunday: 19:00 is more than the grace ago.
    assert (await nudge_at(app, clock, local(2026, 11, 22, 20, 10))).due == 0
    assert len(await outbox(app, "nudge")) == 2


@sqlite_only
async def test_no_nudge_after_opting_out_and_again_after_opting_in(app, clock):  # noqa: F811
    chat = await resident(app, "u1")
    await chat.text("/nhacnho")
    await chat.choose("off")
    assert "Đã tắt" in chat.all_text() and (await reminder(app, "u1")).enabled is False
    assert (await nudge_at(app, clock, SATURDAY_19H)).due == 0
    clock.now = local(2026, 11, 22, 9)
    await chat.text("/nhacnho")
    await chat.choose("on")
    assert "Đã bật lại" in chat.all_text()
    assert (await nudge_at(app, clock, local(2026, 11, 23, 19))).enqueued == 1


async def test_no_nudge_for_those_done_blocked_deleted_or_active_today(app, clock):  # noqa: F811
    await resident(app, "done")
    await pass_everything(app, "done", clock())
    await resident(app, "blocked")
    blocked = await account_of(app, "blocked")
    async with app.database.transaction() as session:
        await session.execute(
            update(ChannelAccount).where(ChannelAccount.id == blocked.id).values(active=False)
        )
    leaver = await resident(app, "leaver")
    await leaver.text("/xoadulieu")
    await leaver.choose("yes")
    busy = await resident(app, "busy")
    clock.now = SATURDAY_19H - timedelta(hours=2)
    await busy.text("/menu")  # already used the bot today
    run = await nudge_at(app, clock, SATURDAY_19H)
    assert (run.due, run.enqueued, run.finished) == (1, 0, 1)
    assert await outbox(app, "nudge") == []


async def test_a_console_resident_is_reminded_like_a_messenger_one(app, clock):  # noqa: F811
    """The console is a delivery channel: `hocvuso chat` shows the reminder when due."""
    console = Chat(app, user="console-1")
    await console.onboard()
    clock.now = SATURDAY_19H - timedelta(days=1)
    run = await nudge_at(app, clock, SATURDAY_19H)
    assert (run.due, run.enqueued) == (1, 1)
    rows = await outbox(app, "nudge")
    assert [(r.channel, r.external_id) for r in rows] == [("console", "console-1")]


@sqlite_only
async def test_a_resident_mid_way_through_a_form_keeps_their_screen(app, clock):  # noqa: F811
    chat = await resident(app, "u1")
    await chat.text("/dulieu")
    await chat.choose("village")  # choosing a new village, then silence
    before = (await account_of(app, "u1")).screen
    await nudge_at(app, clock, SATURDAY_19H)
    [row] = await outbox(app, "nudge")
    message = row.payload["messages"][0]
    assert message["choices"] == [] and "/menu" in message["text"]
    assert (await account_of(app, "u1")).screen == before
