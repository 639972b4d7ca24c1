"""Benchmark: simulated residents through onboarding, one lesson and its quiz.

Drives the real engine on a fresh SQLite file (or --db URL). Every update carries an
update key, as Telegram's and Zalo's do, so the duplicate check is measured too. Prints
updates/s, latency percentiles per update, SQL statements per update (counted by a
SQLAlchemy event, plus those `storage/prepared.py` runs on the driver) and peak RSS;
the last line is one JSON object.

    .venv/bin/python -m bench.engine [--residents 1000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from bot.app import build_app
from bot.core.messages import Inbound, Kind
from config.settings import DatabaseSettings, Settings
from storage import prepared


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def resident(engine, n: int, latencies: list[float], errors: list) -> None:
    user = f"bench-{n}"
    curriculum = engine.services.curriculum
    lesson = list(curriculum.lessons.values())[n % len(curriculum.lessons)]
    keys = itertools.count(1)

    async def send(kind: Kind, *, text: str | None = None, payload: str | None = None):
        inbound = Inbound(
            "console",
            user,
            kind,
            text=text,
            payload=payload,
            display_name="Bench",
            update_key=f"{user}:{next(keys)}",
        )
        started = time.perf_counter()
        reply = await engine.handle(inbound)
        latencies.append(time.perf_counter() - started)
        if not reply.messages or not reply.messages[-1].choices:
            errors.append(reply)
        return reply

    await send(Kind.START)
    await send(Kind.CHOICE, payload="agree")
    await send(Kind.TEXT, text=str(1 + n % 8))  # village by typed number
    await send(Kind.CHOICE, payload="age:skip")
    await send(Kind.CHOICE, payload="catalogue")
    await send(Kind.CHOICE, payload=f"t:{lesson.topic}")
    await send(Kind.CHOICE, payload=f"l:{lesson.id}")
    for _ in range(len(lesson.cards) - 1):
        await send(Kind.CHOICE, payload="next")
    reply = await send(Kind.CHOICE, payload="quiz")
    for question in curriculum.quizzes[lesson.id].questions:
        right = question.options[question.correct_index].text
        choice = next(c for c in reply.messages[-1].choices if c.label == right)
        reply = await send(Kind.CHOICE, payload=choice.id)


async def main(residents: int, concurrency: int, db_url: str | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="hocvuso-bench-"))
    url = db_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    settings = Settings(data_dir=workdir, database=DatabaseSettings(url=url))
    app = await build_app(settings, services_overrides={"rng": random.Random(1)})
    latencies: list[float] = []
    errors: list = []
    statements = 0

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        nonlocal statements
        statements += 1

    event.listen(app.database.engine.sync_engine, "before_cursor_execute", count)
    run_direct = prepared.executed  # statements run on the driver pass no SQLAlchemy event
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(residents):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            await resident(app.engine, queue.get_nowait(), latencies, errors)

    started = time.perf_counter()
    cpu_started = time.process_time()  # less sensitive than wall time to a busy machine
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    event.remove(app.database.engine.sync_engine, "before_cursor_execute", count)
    statements += prepared.executed - run_direct
    await app.close()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ms = [x * 1000 for x in latencies]
    result = {
        "residents": residents,
        "concurrency": concurrency,
        "updates": len(latencies),
        "seconds": round(elapsed, 2),
        "updates_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "cpu_ms_per_update": round(cpu * 1000 / len(latencies), 3),
        "statements_per_update": round(statements / len(latencies), 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "replies_without_choices": len(errors),
        "database": url.split(":", 1)[0],
    }
    print(
        f"{residents} residents, {len(latencies)} updates in {elapsed:.1f} s "
        f"({concurrency} at a time) on {result['database']}"
    )
    print(f"throughput: {result['updates_per_s']} updates/s")
    print(f"latency per update: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
    print(f"SQL statements per update: {result['statements_per_update']}")
    print(f"peak RSS: {result['peak_rss_mb']} MB")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.residents, args.concurrency, args.db))))
