"""Benchmark: Telegram updates through aiogram -> our router -> engine -> SQLite -> replies.

Raw update JSON (dicts) goes in with `Dispatcher.feed_raw_update`, so no polling or
webhook HTTP is measured; the replies (sendMessage, answerCallbackQuery,
editMessageReplyMarkup) go over real HTTP to a local FakeTelegramAPI with rate limits and
spec checks off. The same updates then go through a bare aiogram echo handler on the
same transport, to show what the adapter + engine + database cost on top of aiogram.

Each chat does a realistic journey: /start, consent, village (typed number), age,
catalogue, topic, lesson, every card, the quiz with the right answers. All chats run at
once. Latency is per update, from feeding it to its last reply call returning. The last
line is one JSON object.

    .venv/bin/python -m bench.telegram [--chats 100] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import CallbackQuery, Message

from bench.engine import percentile
from bot.app import App, build_app
from bot.channels.telegram.channel import TelegramChannel
from config.settings import DatabaseSettings, Settings, TelegramSettings
from tests.fakes.telegram_api import FakeTelegramAPI

Feed = Callable[[dict[str, Any]], Awaitable[Any]]
FIRST_CHAT = 700_000_000


def offered(fake: FakeTelegramAPI, chat: int) -> dict[str, str]:
    """label -> callback data of the bot's latest keyboard (numbered lines resolved)."""
    message = fake.last_bot_message(chat) or {}
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = {b["text"]: b["callback_data"] for row in rows for b in row}
    lines = re.findall(r"^(\d+)\. (.+)$", message.get("text", ""), re.MULTILINE)
    by_number = {label: buttons[n] for n, label in lines if n in buttons}
    return by_number or buttons


async def journey(
    app: App,
    fake: FakeTelegramAPI,
    feed: Feed,
    chat: int,
    update_ids: itertools.count,
    latencies: list[float],
    record: list[dict[str, Any]],
) -> bool:
    """One resident's journey; True when it ends on the quiz result."""
    curriculum = app.engine.services.curriculum
    lesson = list(curriculum.lessons.values())[chat % len(curriculum.lessons)]

    async def send(update: dict[str, Any]) -> None:
        update = {"update_id": next(update_ids), **update}
        record.append(update)
        started = time.perf_counter()
        await feed(update)
        latencies.append(time.perf_counter() - started)

    async def text(value: str) -> None:
        await send(fake.message_update(chat, value, first_name="Bench"))

    async def press(data: str) -> None:
        await send(fake.callback_update(chat, data, first_name="Bench"))

    await text("/start")
    await press("agree")
    await text(str(1 + chat % 8))  # village by typed number
    await press("age:skip")
    await press("catalogue")
    await press(f"t:{lesson.topic}")
    await press(f"l:{lesson.id}")
    for _ in range(len(lesson.cards) - 1):
        await press("next")
    await press("quiz")
    for question in curriculum.quizzes[lesson.id].questions:
        right = question.options[question.correct_index].text
        await press(offered(fake, chat)[right])
    last = (fake.last_bot_message(chat) or {}).get("text", "")
    return "🎉" in last


def echo_dispatcher() -> Dispatcher:
    """A bare aiogram bot: echo texts, answer presses and echo their data."""
    router = Router()

    @router.message(F.text)
    async def echo(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, message.text or "")

    @router.callback_query()
    async def pressed(query: CallbackQuery, bot: Bot) -> None:
        await bot.answer_callback_query(query.id)
        await bot.send_message(query.from_user.id, query.data or "")

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher


async def replay(feed: Feed, updates: list[dict[str, Any]], latencies: list[float]) -> None:
    for update in updates:
        started = time.perf_counter()
        await feed(update)
        latencies.append(time.perf_counter() - started)


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ms = [x * 1000 for x in latencies]
    return {
        "updates_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
    }


async def main(chats: int, db_url: str | None) -> dict:
    logging.getLogger("aiogram").setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="hocvuso-bench-tg-"))
    url = db_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    async with FakeTelegramAPI(rate_limits=False, spec_check=False) as fake:
        settings = Settings(
            data_dir=workdir,
            database=DatabaseSettings(url=url),
            telegram=TelegramSettings(token=fake.token, api_base=fake.base_url),
        )
        app = await build_app(settings, services_overrides={"rng": random.Random(1)})
        channel = TelegramChannel(app)
        bot = channel.bot

        async def ours(update: dict[str, Any]) -> Any:
            return await channel.dispatcher.feed_raw_update(bot, update)

        update_ids = itertools.count(1)
        records: list[list[dict[str, Any]]] = [[] for _ in range(chats)]
        latencies: list[float] = []
        started = time.perf_counter()
        done = await asyncio.gather(
            *(
                journey(app, fake, ours, FIRST_CHAT + n, update_ids, latencies, records[n])
                for n in range(chats)
            )
        )
        elapsed = time.perf_counter() - started
        api_calls = len(fake.calls)
        await app.close()

        echo = echo_dispatcher()

        async def bare(update: dict[str, Any]) -> Any:
            return await echo.feed_raw_update(bot, update)

        fake.clear()
        bare_latencies: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(replay(bare, updates, bare_latencies) for updates in records))
        bare_elapsed = time.perf_counter() - started
        bare_calls = len(fake.calls)
        await bot.session.close()
    shutil.rmtree(workdir, ignore_errors=True)

    ours_stats, bare_stats = summary(latencies, elapsed), summary(bare_latencies, bare_elapsed)
    result = {
        **ours_stats,
        "bare_updates_per_s": bare_stats["updates_per_s"],
        "ratio_vs_bare": round(ours_stats["updates_per_s"] / bare_stats["updates_per_s"], 3),
        "bare_p50_ms": bare_stats["p50_ms"],
        "bare_p99_ms": bare_stats["p99_ms"],
        "chats": chats,
        "updates": len(latencies),
        "seconds": round(elapsed, 2),
        "api_calls": api_calls,
        "bare_api_calls": bare_calls,
        "journeys_completed": sum(done),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "database": url.split(":", 1)[0],
    }
    print(
        f"{chats} chats at once, {len(latencies)} updates in {elapsed:.1f} s on "
        f"{result['database']}; {sum(done)}/{chats} journeys reached the quiz result"
    )
    print(
        f"ours: {result['updates_per_s']} updates/s, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms ({api_calls} API calls)"
    )
    print(
        f"bare aiogram echo: {result['bare_updates_per_s']} updates/s, "
        f"p50 {result['bare_p50_ms']} ms, p99 {result['bare_p99_ms']} ms ({bare_calls} API calls)"
    )
    print(f"ratio ours/bare: {result['ratio_vs_bare']}")
    print(f"peak RSS: {result['peak_rss_mb']} MB (importing aiogram alone peaks near 165 MB)")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.chats, args.db))))
