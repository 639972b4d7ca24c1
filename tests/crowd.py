"""Many residents at once over the Telegram webhook, posted the way Telegram does:
every update keeps its id, and an answer other than 2xx is delivered again."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.telegram_api import FakeTelegramAPI

REDELIVERY_PAUSE = 0.2  # Telegram waits longer; a test need not


@dataclass
class Crowd:
    fake: FakeTelegramAPI
    texts: Callable[..., str]
    redeliveries: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # status -> answers seen
    latencies: list[float] = field(default_factory=list)  # post to reply, seconds
    _ids: itertools.count = field(default_factory=lambda: itertools.count(500_000_001))

    def keyed(self, update: dict[str, Any]) -> dict[str, Any]:
        return {**update, "update_id": next(self._ids)}

    async def post(self, update: dict[str, Any]) -> None:
        """Deliver until the webhook takes it (2xx), as the platform would."""
        while True:
            status, _ = await self.fake.post_to_webhook(update)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                return
            assert status >= 500, f"webhook refused an update with {status}"
            self.redeliveries += 1
            await asyncio.sleep(REDELIVERY_PAUSE)

    async def step(self, chat: int, update: dict[str, Any], *, within: float = 30.0) -> None:
        """One resident's update, then wait for the bot's answer to arrive."""
        before = len(self.fake.sent_messages(chat))
        started = time.monotonic()
        await self.post(self.keyed(update))
        deadline = started + within
        while len(self.fake.sent_messages(chat)) <= before:
            assert time.monotonic() < deadline, f"chat {chat} got no answer"
            await asyncio.sleep(0.005)
        self.latencies.append(time.monotonic() - started)

    async def press(self, chat: int, label: str, *, within: float = 30.0) -> None:
        """Press a button of the bot's latest keyboard, once its message has arrived
        (a reply of several messages may still be on its way)."""
        deadline = time.monotonic() + within
        while True:
            latest = self.fake.last_bot_message(chat) or {}
            numbered = re.search(rf"^(\d+)\. {re.escape(label)}$", latest.get("text", ""), re.M)
            try:  # long labels are numbered lines, their buttons the numbers
                update = self.fake.button_update(chat, numbered[1] if numbered else label)
                break
            except LookupError:
                assert time.monotonic() < deadline, (chat, label, self.fake.texts(chat))
                await asyncio.sleep(0.01)
        await self.step(chat, update)

    async def lesson(self, chat: int, lesson: Any, *, think: float = 0.0) -> None:
        """Onboard, then read a lesson to its last card."""
        t = self.texts
        await self.step(chat, self.fake.message_update(chat, "/start"))
        for label in (t("consent.agree"), "Thôn Nam", t("age.groups.tu60")):
            await asyncio.sleep(think)
            await self.press(chat, label)
        await asyncio.sleep(think)
        await self.press(chat, t("menu.start_lesson", title=lesson.title))
        for _ in range(1, len(lesson.cards)):
            await asyncio.sleep(think)
            await self.press(chat, t("lesson.next"))

    def steps_per_lesson(self, lesson: Any) -> int:
        return 4 + len(lesson.cards)


class WallClock:
    """A fixed date whose time runs like the wall clock: stored replies age as they
    would in service (the engine re-sends one only once it is a few seconds old)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
