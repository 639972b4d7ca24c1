"""The resident side of bench/load.py: fake Telegram and Zalo platforms that tell the
harness when a reply call arrives, and residents who walk through onboarding, a lesson
and its quiz by the choices the bot actually offered.

A resident posts one update to a web process's webhook (round-robin over the processes),
then waits for its reply set: the message carrying the next choices (inline keyboard on
Telegram, numbered lines on Zalo) and, for a button press, the answerCallbackQuery and
the removal of the pressed keyboard. Latency is from the POST to the last of those calls
reaching the fake. Every call to a chat up to the resident's next update is counted in
that update's window, so a reply sent twice shows as a window with two final messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout

from bench.load_cluster import BotSpec, CommuneSpec
from bot.content.model import Curriculum
from bot.core.texts import Texts
from tests.fakes import telegram_api, zalo_api
from tests.fakes.telegram_api import FakeTelegramAPI, RateLimits
from tests.fakes.zalo_api import FakeZaloAPI

NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)
REPLY_TIMEOUT = 30.0  # seconds without a complete reply: the step counts as lost
FIRST_CHAT = 800_000_000


class HookedTelegram(FakeTelegramAPI):
    """FakeTelegramAPI (spec and flood checks as in tests) reporting each answered call."""

    def __init__(self, token: str, listener: Callable[[Any, Any], None], **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        self.listener = listener

    async def _process(self, method_name, raw, files, filenames, *, source):  # type: ignore[no-untyped-def]
        status, payload = await super()._process(method_name, raw, files, filenames, source=source)
        self.listener(self, self.calls[-1] if self.calls else None)
        return status, payload


class HookedZalo(FakeZaloAPI):
    """FakeZaloAPI reporting each message it accepted."""

    def __init__(self, token: str, listener: Callable[[Any, Any], None], **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        self.listener = listener

    def _record(self, item: zalo_api.SentItem) -> dict[str, Any]:
        result = super()._record(item)
        self.listener(self, item)
        return result


@dataclass
class Window:
    """What arrived for one update of one resident."""

    posted: float
    callback_id: str | None = None
    edit_mid: int | None = None
    finals: int = 0
    final_at: float | None = None
    answered_at: float | None = None
    edited_at: float | None = None
    answers: int = 0
    offer: tuple[int, str, dict[str, str]] | None = None  # message id, text, button->data
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def complete(self) -> bool:
        return (
            self.final_at is not None
            and (self.callback_id is None or self.answered_at is not None)
            and (self.edit_mid is None or self.edited_at is not None)
        )

    def latency(self) -> float:
        marks = [t for t in (self.final_at, self.answered_at, self.edited_at) if t is not None]
        return max(marks) - self.posted


@dataclass
class Step:
    posted: float
    latency: float | None  # None: no complete reply
    status: int


class Journey(Exception):
    """The resident could not go on (the bot did not offer what it should have)."""


@dataclass
class Resident:
    n: int
    bot: BotSpec
    commune: CommuneSpec
    chat: int | str
    fake: Any
    village: str
    age: str
    window: Window | None = None
    windows: list[Window] = field(default_factory=list)
    offer: tuple[int, str, dict[str, str]] | None = None
    lesson_id: str | None = None
    steps_left: int = 0
    finished: bool = False
    failure: str | None = None


class Platforms:
    """The fake bots (one server per bot instance) and the routing of their calls."""

    def __init__(self, bots: list[BotSpec], texts: Texts, tg_limits: RateLimits | bool) -> None:
        self.bots = bots
        self.texts = texts
        self.hint = texts("channels_hint.numbered")
        self.tg_limits = tg_limits
        self.fakes: dict[str, Any] = {}
        self.by_chat: dict[tuple[str, Any], Resident] = {}
        self.by_callback: dict[tuple[str, str], Resident] = {}
        self.orphans = 0  # reply calls for no resident's open window
        self.failed_calls = 0  # calls the fakes refused (flood limits included)

    async def start(self) -> None:
        for n, bot in enumerate(self.bots):
            if bot.messenger == "telegram":
                token = f"{7_100_000_001 + n}:AAHocVuSoLoadBench_{n:04d}_abcdefghijklmnop"
                fake: Any = HookedTelegram(token, self._on_telegram, rate_limits=self.tg_limits)
            else:
                token = f"{90_000_001 + n}:load-bench-token-{n:04d}"
                fake = HookedZalo(token, self._on_zalo)
            await fake.start()
            fake.bot_name = bot.name
            bot.token, bot.api_base = token, fake.base_url
            self.fakes[bot.name] = fake

    async def close(self) -> None:
        for fake in self.fakes.values():
            if isinstance(fake, FakeTelegramAPI):
                await fake.close()
            else:
                await fake.stop()

    # -- what the fakes report ----------------------------------------------------

    def _on_telegram(self, fake: HookedTelegram, call: telegram_api.Call | None) -> None:
        now = time.perf_counter()
        if call is None or (call.chat_id is None and call.method != "answerCallbackQuery"):
            return  # getMe, setWebhook, setMyCommands...: no resident's business
        if not call.ok:
            self.failed_calls += 1
            return
        params = call.params
        if call.method == "answerCallbackQuery":
            resident = self.by_callback.get((fake.bot_name, str(params.get("callback_query_id"))))
            window = resident.window if resident else None
            if window is None:
                self.orphans += 1
                return
            window.answers += 1
            window.answered_at = window.answered_at or now
        else:
            resident = self.by_chat.get((fake.bot_name, telegram_api._chat_key(call.chat_id)))
            window = resident.window if resident else None
            if window is None:
                self.orphans += 1
                return
            if call.method == "editMessageReplyMarkup":
                if params.get("message_id") == window.edit_mid:
                    window.edited_at = window.edited_at or now
            elif call.method in telegram_api.SENT_MESSAGE_METHODS and call.buttons():
                window.finals += 1
                window.final_at = window.final_at or now
                buttons = {b["text"]: b["callback_data"] for row in call.buttons() for b in row}
                window.offer = (call.result["message_id"], call.text or "", buttons)
        if window.complete():
            window.done.set()

    def _on_zalo(self, fake: HookedZalo, item: zalo_api.SentItem) -> None:
        now = time.perf_counter()
        resident = self.by_chat.get((fake.bot_name, item.chat_id))
        window = resident.window if resident else None
        if window is None:
            self.orphans += 1
            return
        if item.kind == "text" and (item.text or "").endswith(self.hint):
            window.finals += 1
            window.final_at = window.final_at or now
            window.offer = (0, item.text or "", {})
        if window.complete():
            window.done.set()

    def violations(self) -> list[str]:
        found = []
        for name, fake in self.fakes.items():
            if isinstance(fake, FakeTelegramAPI):
                found += [f"{name}: {v}" for v in fake.violations + fake.internal_errors]
            else:
                found += [f"{name}: {v.method}: {v.description}" for v in fake.violations]
        return found

    def flood_429s(self) -> int:
        return sum(fake.http_429 for fake in self.fakes.values())


class Driver:
    """Posts residents' updates to the web processes and waits for their replies."""

    def __init__(
        self, platforms: Platforms, hosts: list[str], curriculum: Curriculum, texts: Texts
    ) -> None:
        self.platforms = platforms
        self.hosts = itertools.cycle(hosts)  # the tiny round-robin load balancer
        self.curriculum = curriculum
        self.texts = texts
        self.update_ids = itertools.count(1)
        self.steps: list[Step] = []
        self.statuses: dict[int, int] = {}
        self.session: ClientSession | None = None
        prefix = texts("menu.start_lesson", title="")
        self.lesson_by_label = {
            prefix + lesson.title: lesson for lesson in curriculum.lessons.values()
        }

    async def open(self) -> None:
        self.session = ClientSession(timeout=ClientTimeout(total=REPLY_TIMEOUT))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def resident(self, n: int, bot: BotSpec, commune: CommuneSpec, rng: random.Random) -> Resident:
        fake = self.platforms.fakes[bot.name]
        chat: int | str = FIRST_CHAT + n if bot.messenger == "telegram" else f"zl{n:08d}load"
        ages = ("age.groups.duoi35", "age.groups.35-59", "age.groups.tu60")
        resident = Resident(
            n, bot, commune, chat, fake, rng.choice(commune.villages), self.texts(rng.choice(ages))
        )
        self.platforms.by_chat[(bot.name, chat)] = resident
        return resident

    def steps_of(self, lesson_id: str) -> int:
        lesson = self.curriculum.lessons[lesson_id]
        return len(lesson.cards) + len(self.curriculum.quizzes[lesson_id].questions)

    # -- one step ---------------------------------------------------------------------

    async def step(self, resident: Resident, index: int) -> bool:
        """Post the resident's next update and wait for its reply; False: stop."""
        try:
            update = self._next_update(resident, index)
        except Journey as exc:
            resident.failure = str(exc)
            return False
        return await self._post(resident, update)

    def _next_update(self, resident: Resident, index: int) -> dict[str, Any]:
        t = self.texts
        if index == 0:
            start = f"xa_{resident.commune.code}" if resident.bot.shared else None
            return self._start(resident, start)
        if index == 1:
            return self._choose(resident, t("consent.agree"))
        if index == 2:
            return self._choose(resident, resident.village)
        if index == 3:
            return self._choose(resident, resident.age)
        if index == 4:
            label = next((x for x in self._labels(resident) if x in self.lesson_by_label), None)
            if label is None:
                raise Journey(f"no lesson offered on the menu: {self._labels(resident)}")
            lesson = self.lesson_by_label[label]
            resident.lesson_id = lesson.id
            return self._choose(resident, label)
        lesson = self.curriculum.lessons[resident.lesson_id or ""]
        card = index - 5 + 1  # the card shown now, counted from 1
        if card < len(lesson.cards):
            return self._choose(resident, t("lesson.next"))
        if card == len(lesson.cards):
            return self._choose(resident, t("lesson.quiz"))
        question = self.curriculum.quizzes[lesson.id].questions[card - len(lesson.cards) - 1]
        return self._choose(resident, question.options[question.correct_index].text)

    def total_steps(self, resident: Resident) -> int | None:
        """Updates in the whole journey, once the lesson is known."""
        if resident.lesson_id is None:
            return None
        return 5 + self.steps_of(resident.lesson_id)

    def _labels(self, resident: Resident) -> list[str]:
        if resident.offer is None:
            return []
        _, text, buttons = resident.offer
        numbered = [label for _, label in NUMBERED.findall(text)]
        return numbered or list(buttons)

    def _start(self, resident: Resident, payload: str | None) -> dict[str, Any]:
        if resident.bot.messenger == "telegram":
            command = "/start" + (f" {payload}" if payload else "")
            return resident.fake.message_update(resident.chat, command, first_name="Bench")
        return FakeZaloAPI.build_update(
            payload or "Xin chào", user_id=resident.chat, display_name="Bench"
        )

    def _choose(self, resident: Resident, label: str) -> dict[str, Any]:
        if resident.offer is None:
            raise Journey("no choices to answer")
        mid, text, buttons = resident.offer
        numbers = {found[2]: found[1] for found in NUMBERED.finditer(text)}
        if resident.bot.messenger == "zalo":
            if label not in numbers:
                raise Journey(f"{label!r} not offered: {list(numbers)}")
            return FakeZaloAPI.build_update(
                numbers[label], user_id=resident.chat, display_name="Bench"
            )
        data = buttons.get(label) or buttons.get(numbers.get(label, ""))
        if data is None:
            raise Journey(f"{label!r} not offered: {list(buttons)} {list(numbers)}")
        return resident.fake.callback_update(resident.chat, data, mid, first_name="Bench")

    async def _post(self, resident: Resident, update: dict[str, Any]) -> bool:
        bot = resident.bot
        headers = {"Content-Type": "application/json"}
        if bot.messenger == "telegram":
            update = {"update_id": next(self.update_ids), **update}
            headers[telegram_api.SECRET_HEADER] = bot.secret
            body = update
        else:
            headers[zalo_api.SECRET_HEADER] = bot.secret
            body = {"ok": True, "result": update}
        query = update.get("callback_query")
        window = Window(time.perf_counter())
        if query is not None:
            window.callback_id = query["id"]
            self.platforms.by_callback[(bot.name, query["id"])] = resident
            if (query.get("message") or {}).get("reply_markup"):
                window.edit_mid = query["message"]["message_id"]
        self._close_window(resident)
        resident.window = window
        url = next(self.hosts) + bot.path
        assert self.session is not None
        status = 0
        try:
            async with self.session.post(url, data=json.dumps(body), headers=headers) as resp:
                await resp.read()
                status = resp.status
        except Exception as exc:  # connection refused, reset, timeout: an error
            resident.failure = f"POST failed: {type(exc).__name__}"
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(window.done.wait(), REPLY_TIMEOUT)
        complete = window.complete()
        self.steps.append(Step(window.posted, window.latency() if complete else None, status))
        if query is not None:
            self.platforms.by_callback.pop((bot.name, query["id"]), None)
        if not complete:
            resident.failure = resident.failure or f"no complete reply (HTTP {status})"
            return False
        resident.offer = window.offer
        return True

    def _close_window(self, resident: Resident) -> None:
        if resident.window is not None:
            resident.windows.append(resident.window)
            resident.window = None

    def close_all(self, residents: list[Resident]) -> None:
        for resident in residents:
            self._close_window(resident)
