"""Fair use: one chat sending 100 messages a second for 10 s, over the webhook, while
50 residents do a lesson. The flooder gets one polite word and then silence; the
others are answered as usual (their p95 reply latency is printed for
docs/reliability.md); nothing is recorded twice."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from config.settings import FairUseSettings
from storage.models import ParticipationEvent, ProcessedUpdate
from tests.crowd import Crowd, WallClock, p95
from tests.test_telegram_e2e import first_lesson, running

RESIDENTS = 50
FIRST = 8_800_001
FLOODER = 8_900_001
FLOOD_RATE = 100  # messages a second
FLOOD_SECONDS = 10


async def flood(crowd: Crowd) -> int:
    """Post FLOOD_RATE messages a second, each without waiting for the one before."""
    posts = []
    started = time.monotonic()
    for n in range(FLOOD_RATE * FLOOD_SECONDS):
        update = crowd.keyed(crowd.fake.message_update(FLOODER, f"tin {n}"))
        posts.append(asyncio.create_task(crowd.post(update)))
        await asyncio.sleep(max(0.0, started + (n + 1) / FLOOD_RATE - time.monotonic()))
    await asyncio.gather(*posts)
    return len(posts)


@pytest.mark.slow
async def test_a_flooding_chat_is_throttled_and_the_others_are_answered(
    db_url, tmp_path, clock
) -> None:
    wall = WallClock(clock.now)
    fair = FairUseSettings()  # the real limits: 5 a second, 10 at once
    async with running(db_url, tmp_path, wall, "webhook", rate_limits=False, fair_use=fair) as bot:
        crowd = Crowd(bot.fake, bot.texts)
        lesson = first_lesson(bot.app)
        residents = [crowd.lesson(FIRST + n, lesson, think=0.5) for n in range(RESIDENTS)]
        posted, *_ = await asyncio.gather(flood(crowd), *residents)
        await bot.channel.intake.drain(30)

        throttle = bot.channel.intake.throttle
        throttled = bot.texts("common.throttled")
        flooder_saw = bot.fake.texts(FLOODER)
        assert flooder_saw.count(throttled) == 1
        assert throttle.dropped >= posted * 0.9  # 10 at once and 5 a second pass
        passed = posted - throttle.dropped
        steps = RESIDENTS * crowd.steps_per_lesson(lesson)
        async with bot.app.database.session() as session:
            recorded = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
            completed = await session.scalar(
                select(func.count()).where(ParticipationEvent.kind == "lesson_completed")
            )
        assert recorded == steps + passed  # each taken step once, each dropped one never
        assert completed == RESIDENTS
        for n in range(RESIDENTS):
            assert throttled not in bot.fake.texts(FIRST + n)
        assert crowd.statuses.keys() == {200}
        print(
            f"\nflood {posted} messages in {FLOOD_SECONDS} s: {passed} taken, "
            f"{throttle.dropped} dropped; {len(crowd.latencies)} resident steps, "
            f"p95 reply latency {p95(crowd.latencies) * 1000:.0f} ms, "
            f"max {max(crowd.latencies) * 1000:.0f} ms"
        )
        bot.fake.assert_no_violations()
