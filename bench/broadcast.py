"""Benchmark: one broadcast to N residents through the real Telegram channel and outbox
worker, against FakeTelegramAPI enforcing Telegram's flood limits (30 messages/s
overall, 1/s per chat).

Prints the achieved send rate as a fraction of the configured limit, the 429s met,
and whether every recipient got exactly one message; the last line is one JSON object.

    .venv/bin/python -m bench.broadcast [--recipients 2000] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import build_app
from bot.channels.telegram.channel import TelegramChannel
from bot.outbox import OutboxWorker, throttles_from_settings
from bot.team import broadcast_service
from config.settings import DatabaseSettings, Settings, TelegramSettings
from storage.delivery_models import Broadcast
from tests.fakes.telegram_api import FakeTelegramAPI, RateLimits
from tests.team_support import seed_admin, seed_residents

ADMIN_CHAT = "600000001"
TEXT = "Tối thứ Sáu 19 giờ, nhà văn hóa thôn hướng dẫn cài VNeID mức 2. Mời bà con đến dự!"


async def start_broadcast(app: Any, admin_id: int, text: str = TEXT) -> int:
    """Confirm a whole-commune broadcast as the admin would, with its first batch."""
    async with app.database.transaction() as session:
        broadcast = await broadcast_service.create(
            session,
            commune_id=app.engine.services.communes.only.id,
            person_id=admin_id,
            text=text,
            image=None,
            village_codes=[],
            now=app.engine.services.clock(),
        )
        await broadcast_service.enqueue_next_batch(
            session, app.engine.services.texts, broadcast, app.engine.services.clock()
        )
        return broadcast.id


async def finished(app: Any, broadcast_id: int) -> bool:
    async with app.database.session() as session:
        done = await session.scalar(
            select(Broadcast.finished_at).where(Broadcast.id == broadcast_id)
        )
    return done is not None


def tally_calls(fake: FakeTelegramAPI, recipients: list[str]) -> dict[str, Any]:
    """What the recipients received: duplicates, missing, and the send rate."""
    sends = [c for c in fake.sent_messages() if (c.text or "").startswith("📣")]
    per_chat = Counter(str(c.chat_id) for c in sends)
    wanted = set(recipients)
    rate = (len(sends) - 1) / (sends[-1].time - sends[0].time) if len(sends) > 1 else 0.0
    return {
        "sent_calls": len(sends),
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "missing": len(wanted - set(per_chat)),
        "strangers": len(set(per_chat) - wanted),
        "rate_per_s": rate,
    }


class FakeInThread:
    """FakeTelegramAPI on its own thread and event loop, like a server elsewhere: its
    spec checks then do not share the sender's event loop (which would slow the
    sender down, not Telegram)."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def __aenter__(self) -> FakeTelegramAPI:
        self.thread.start()
        self.fake = await self._call(self._start())
        return self.fake

    async def _start(self) -> FakeTelegramAPI:
        return await FakeTelegramAPI(rate_limits=self.limits).start()

    async def _call(self, coro: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def __aexit__(self, *exc: object) -> None:
        await self._call(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def run(
    recipients: int, db_url: str | None = None, workdir: Path | None = None
) -> dict[str, Any]:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="hocvuso-bench-broadcast-"))
    url = db_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    limits = RateLimits()  # Telegram's: 30/s overall, 1/s per chat
    async with FakeInThread(limits) as fake:
        settings = Settings(
            data_dir=workdir,
            database=DatabaseSettings(url=url),
            telegram=TelegramSettings(token=fake.token, api_base=fake.base_url),
        )
        app = await build_app(settings)
        try:
            ids = await seed_residents(app, recipients, villages=("T01", "T02", "T03", "T04"))
            admin_id = await seed_admin(app, ADMIN_CHAT)
            broadcast_id = await start_broadcast(app, admin_id)
            channel = TelegramChannel(app)
            worker = OutboxWorker(
                app.database,
                {"telegram": channel},
                throttles_from_settings(settings),
                settings.outbox,
            )
            stop = asyncio.Event()
            started = time.monotonic()
            tasks = [
                asyncio.create_task(worker.run(stop)),
                asyncio.create_task(
                    broadcast_service.run_broadcasts(
                        app.database, app.engine.services.texts, stop, poll_seconds=0.5
                    )
                ),
            ]
            limit = recipients / settings.outbox.telegram_per_second * 2 + 60
            while not (
                await finished(app, broadcast_id)
                and any("Đã gửi xong" in t for t in fake.texts(ADMIN_CHAT))
            ):
                assert time.monotonic() - started < limit, "the broadcast did not finish"
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            stop.set()
            await asyncio.gather(*tasks)
            await channel.bot.session.close()
        finally:
            await app.close()
        figures = tally_calls(fake, ids)
        admin = fake.texts(ADMIN_CHAT)
        result = {
            "recipients": recipients,
            "rate_vs_limit": round(figures["rate_per_s"] / settings.outbox.telegram_per_second, 3),
            "http_429": fake.http_429,
            "duplicates": figures["duplicates"],
            "missing": figures["missing"],
            "strangers": figures["strangers"],
            "rate_per_s": round(figures["rate_per_s"], 2),
            "seconds": round(elapsed, 1),
            "progress_messages": sum(1 for t in admin if t.startswith("📤")),
            "final_tally": next((t for t in admin if "Đã gửi xong" in t), ""),
            "spec_violations": len(fake.violations),
            "database": url.split(":", 1)[0],
        }
    return result


def report(result: dict[str, Any]) -> None:
    print(
        f"{result['recipients']} recipients in {result['seconds']} s on {result['database']}: "
        f"{result['rate_per_s']} messages/s = {result['rate_vs_limit']:.1%} of the 30/s limit"
    )
    print(f"429 responses: {result['http_429']}")
    print(f"duplicates: {result['duplicates']}, missing: {result['missing']}")
    print(f"admin got {result['progress_messages']} progress message(s) and the tally:")
    print("  " + result["final_tally"].replace("\n", "\n  "))
    keys = ("recipients", "rate_vs_limit", "http_429", "duplicates", "missing")
    print(json.dumps({key: result[key] for key in keys} | {"seconds": result["seconds"]}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    report(asyncio.run(run(args.recipients, args.db)))
