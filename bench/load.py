"""Benchmark: a province's load on PostgreSQL, over real HTTP webhooks.

Generates N commune files ("Xã Thử Nghiệm 001"...), starts 2 `hocvuso run --role web`
processes and 1 `--role scheduler` process on a fresh PostgreSQL database, fake
Telegram and Zalo platforms (tests/fakes, spec and flood checks on; one server per
bot), and R simulated residents spread over the communes, half on Telegram, half on
Zalo. Each resident starts (with the commune's `xa_<code>` where a bot serves several
communes), consents, picks a village and an age group, opens the lesson the menu
offers, reads every card and passes the quiz, always by the choices the bot offered.
Updates are posted to the web processes in turn (a tiny round-robin balancer).

The harness paces updates at a controlled rate (open loop). Without --rate it first
ramps the rate up until the service saturates (achieved < 80 % of offered, or a growing
backlog), takes the best achieved rate as the maximum, lets the backlog drain, and runs
the rest of the journeys at half that maximum: the latency figures are from that phase.
Reply latency per update: from the POST to the last reply call of that update (the
message with the next choices, plus answerCallbackQuery and the removal of the pressed
keyboard on Telegram) reaching the fake platform.

Checked afterwards: HTTP answers, replies that never came, replies sent twice (a second
choice message or callback answer in an update's window, or a call for nobody), spec
violations, error lines in the processes' logs, and in the database that every resident
has each journey event exactly once, in the right commune, and every update its
processed_updates row. Peak RSS (VmHWM) of each process. The last line is one JSON object.

    .venv/bin/python -m bench.load [--communes 100] [--residents 2000] [--db-url URL]
                                   [--rate R | --max] [--think 3]

Before the multi-commune settings exist (issue 16) it runs one commune on the legacy
[telegram] and [zalo] bots and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import signal
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.engine import percentile
from bench.load_cluster import (
    DEFAULT_PG,
    Cluster,
    PgDatabase,
    bot_instances_served,
    free_port,
    multi_commune,
    plan_bots,
    settings_toml,
    write_communes,
)
from bench.load_residents import Driver, Platforms, Resident
from bot.content.loader import default_content_root, load_curriculum
from bot.core.texts import Texts
from storage.models import ChannelAccount, Commune, ParticipationEvent, Person, ProcessedUpdate
from tests.fakes.telegram_api import RateLimits

# One of each per resident, nothing more (a journey: start, consent, village, age, lesson).
EXPECTED_EVENTS = (
    "registered",
    "consented",
    "village_set",
    "lesson_started",
    "lesson_completed",
    "quiz_passed",
)
RAMP_START, RAMP_FACTOR = 10.0, 1.25  # updates/s, and the factor per ramp step
SATURATED = 0.8  # achieved below this share of the offered rate: saturated
SETTLE = 3.0  # seconds at the new rate before latencies count
PROGRESS_EVERY = 15.0  # seconds between progress lines in long runs


@dataclass
class Pacer:
    """Hands update slots to ready residents at `rate` per second (open loop)."""

    driver: Driver
    residents: list[Resident]
    think: float
    rng: random.Random
    rate: float = 0.0
    ready: deque[Resident] = field(default_factory=deque)
    inflight: int = 0
    issued: int = 0
    starved: int = 0  # slots with no resident ready
    finished: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    idle: asyncio.Event = field(default_factory=asyncio.Event)  # nothing in flight

    def __post_init__(self) -> None:
        self.ready.extend(self.residents)
        self.next_step = {r.n: 0 for r in self.residents}

    @property
    def done(self) -> bool:
        return self.finished == len(self.residents)

    async def run(self) -> None:
        slot = time.perf_counter()
        while not self.done:
            if self.rate <= 0:
                await asyncio.sleep(0.01)
                slot = time.perf_counter()
                continue
            slot += 1.0 / self.rate
            now = time.perf_counter()
            if slot > now:
                await asyncio.sleep(slot - now)
            elif now - slot > 0.25:  # the harness fell behind: do not burst to catch up
                slot = now
            if not self.ready:
                self.starved += 1
                continue
            resident = self.ready.popleft()
            self.issued += 1
            self.inflight += 1
            task = asyncio.create_task(self._go(resident))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _go(self, resident: Resident) -> None:
        index = self.next_step[resident.n]
        try:
            ok = await self.driver.step(resident, index)
        finally:
            self.inflight -= 1
            if not self.inflight:
                self.idle.set()
        self.next_step[resident.n] = index + 1
        total = self.driver.total_steps(resident)
        if not ok or (total is not None and index + 1 >= total):
            resident.finished = ok
            self.finished += 1
            return
        await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))
        self.ready.append(resident)


def completed_between(driver: Driver, start: float, end: float) -> int:
    return sum(
        1 for s in driver.steps if s.latency is not None and start <= s.posted + s.latency < end
    )


async def ramp(pacer: Pacer, step_seconds: float) -> float:
    """Raise the rate until the service saturates; the best achieved rate."""
    driver, rate, best = pacer.driver, RAMP_START, 0.0
    while not pacer.done:
        pacer.rate = rate
        issued, starved, start = pacer.issued, pacer.starved, time.perf_counter()
        await asyncio.sleep(step_seconds)
        end = time.perf_counter()
        offered = (pacer.issued - issued) / (end - start)
        achieved = completed_between(driver, start, end) / (end - start)
        best = max(best, achieved)
        print(
            f"ramp: offered {offered:7.1f}/s achieved {achieved:7.1f}/s in flight {pacer.inflight}",
            flush=True,
        )
        if pacer.starved > starved:
            print("ramp: not enough residents ready to offer more (resident-bound)", flush=True)
            break
        if achieved < SATURATED * offered or pacer.inflight > max(20, offered * 1.0):
            break
        rate *= RAMP_FACTOR
    pacer.rate = 0.0
    if pacer.inflight:  # the backlog drains before the next phase
        pacer.idle.clear()
        await pacer.idle.wait()
    return best


async def check_database(url: str, residents: list[Resident], posted: Counter[str]) -> dict:
    """Events per resident, their commune, and a processed_updates row per update."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            codes = dict((await conn.execute(select(Commune.id, Commune.code))).all())
            accounts = {
                (channel, external): (person, commune)
                for channel, external, person, commune in (
                    await conn.execute(
                        select(
                            ChannelAccount.channel,
                            ChannelAccount.external_id,
                            ChannelAccount.person_id,
                            Person.commune_id,
                        ).outerjoin(Person, Person.id == ChannelAccount.person_id)
                    )
                ).all()
            }
            events: dict[int, Counter[str]] = {}
            rows = await conn.execute(
                select(
                    ParticipationEvent.person_id, ParticipationEvent.kind, func.count()
                ).group_by(ParticipationEvent.person_id, ParticipationEvent.kind)
            )
            for person, kind, count in rows.all():
                events.setdefault(person, Counter())[kind] = count
            processed = dict(
                (
                    await conn.execute(
                        select(ProcessedUpdate.channel, func.count()).group_by(
                            ProcessedUpdate.channel
                        )
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    lost = doubled = wrong_commune = unexpected = 0
    for resident in residents:
        person, commune = accounts.get((resident.bot.name, str(resident.chat)), (None, None))
        got = events.get(person, Counter()) if person is not None else Counter()
        for kind in EXPECTED_EVENTS:
            lost += max(0, 1 - got[kind])
            doubled += max(0, got[kind] - 1)
        unexpected += sum(n for kind, n in got.items() if kind not in EXPECTED_EVENTS)
        if person is not None and codes.get(commune) != resident.commune.code:
            wrong_commune += 1
    missing_updates = sum(max(0, n - processed.get(ch, 0)) for ch, n in posted.items())
    extra_updates = sum(max(0, processed.get(ch, 0) - n) for ch, n in posted.items())
    return {
        "events_lost": lost,
        "events_doubled": doubled,
        "events_unexpected": unexpected,
        "wrong_commune": wrong_commune,
        "updates_unrecorded": missing_updates,
        "updates_extra": extra_updates,
    }


def latency_figures(steps: list[Any]) -> dict[str, float | None]:
    ms = [s.latency * 1000 for s in steps if s.latency is not None]
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
    }


@dataclass
class Phase:
    """How the run was paced, and the window the figures are measured over."""

    mode: str
    max_rate: float | None
    target: float
    measure_from: float
    measure_to: float

    def figures(self, driver: Driver) -> dict[str, Any]:
        measured = [s for s in driver.steps if s.posted >= self.measure_from]
        span = max(self.measure_to - self.measure_from, 1e-9)
        achieved = completed_between(driver, self.measure_from, self.measure_to) / span
        return {
            "mode": self.mode,
            "max_updates_per_s": None if self.max_rate is None else round(self.max_rate, 1),
            "target_updates_per_s": round(self.target, 1),
            "updates_per_s": round(achieved, 1),
            **latency_figures(measured),
            "updates": len(driver.steps),
            "measured_updates": len(measured),
        }


async def pace(pacer: Pacer, args: argparse.Namespace, driver: Driver) -> Phase:
    """The fixed rate, or the ramp to the maximum and then half of it (or all of it with
    --max), until every resident is through; progress every PROGRESS_EVERY seconds."""
    max_rate: float | None = None
    if args.rate:
        target, mode = args.rate, "fixed"
    else:
        max_rate = await ramp(pacer, args.step_seconds)
        target, mode = (max_rate, "max") if args.max else (max_rate / 2, "ramp+half")
    pacer.rate = target
    measure_from = time.perf_counter() + (0 if args.rate else SETTLE)
    starved_before = pacer.starved
    starved_at: float | None = None
    report_at = time.perf_counter() + PROGRESS_EVERY
    while not pacer.done:
        await asyncio.sleep(0.05)
        now = time.perf_counter()
        if starved_at is None and pacer.starved > starved_before:
            starved_at = now  # fewer residents left than the rate wants: the tail
        if now >= report_at:
            report_at = now + PROGRESS_EVERY
            rate_now = completed_between(driver, now - PROGRESS_EVERY, now) / PROGRESS_EVERY
            print(
                f"at {target:.1f}/s: {rate_now:.1f} replies/s, {pacer.finished}/"
                f"{len(pacer.residents)} residents done, {pacer.inflight} in flight",
                flush=True,
            )
    return Phase(mode, max_rate, target, measure_from, starved_at or time.perf_counter())


def tally(
    driver: Driver,
    platforms: Platforms,
    residents: list[Resident],
    db: dict[str, int],
    problems: int,
    stopped: int,
) -> dict[str, int]:
    """Errors, lost and doubled steps, and what they are made of."""
    windows = [w for r in residents for w in r.windows]
    doubled_replies = sum(max(0, w.finals - 1) + max(0, w.answers - 1) for w in windows)
    no_reply = sum(1 for s in driver.steps if s.latency is None)
    bad_http = sum(n for status, n in driver.statuses.items() if status != 200)
    return {
        "errors": bad_http + problems + stopped,
        "lost": no_reply + db["events_lost"] + db["updates_unrecorded"],
        "doubled": doubled_replies + platforms.orphans + db["events_doubled"] + db["updates_extra"],
        "http_non_200": bad_http,
        "no_reply": no_reply,
        "journeys_stopped": stopped,
        "doubled_replies": doubled_replies,
        "stray_calls": platforms.orphans,
        "problems_logged": problems,
    }


def report(result: dict[str, Any], failures: Counter[str | None], problems: list[str]) -> None:
    for failure, n in failures.most_common(5):
        print(f"resident failure x{n}: {failure}")
    for line in problems[:10]:
        print(f"problem: {line}")
    print(
        f"throughput: max {result['max_updates_per_s']} updates/s; measured at "
        f"{result['target_updates_per_s']} offered: {result['updates_per_s']} updates/s"
    )
    print(
        f"reply latency ({result['measured_updates']} updates): p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms"
    )
    print(
        f"errors {result['errors']} (HTTP non-200 {result['http_non_200']}, spec violations "
        f"and log errors {result['problems_logged']}, journeys stopped "
        f"{result['journeys_stopped']}); lost {result['lost']}; doubled {result['doubled']}; "
        f"429s {result['flood_429']}; wrong commune {result['wrong_commune']}"
    )
    print(
        f"journeys completed {result['journeys_completed']}/{result['residents']}; peak RSS MB "
        f"{result['peak_rss_mb']}; harness {result['harness_peak_rss_mb']} MB"
    )


async def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    texts = Texts.load("vi")
    curriculum = load_curriculum(default_content_root())
    cluster = Cluster(args.db_url, web=args.web)
    notes: list[str] = []
    communes_wanted = args.communes
    if not multi_commune() and communes_wanted > 1:
        notes.append(
            f"this code has no multi-commune settings yet: 1 commune instead of {communes_wanted}"
        )
        communes_wanted = 1
    communes = write_communes(cluster.communes_dir, communes_wanted)
    instances = args.bots == "instances" or (args.bots == "auto" and bot_instances_served())
    if not instances:
        notes.append("bots: the legacy [telegram] and [zalo] bots, serving every commune")
    bots = plan_bots(communes, instances)
    per_chat = RateLimits(
        global_per_second=args.tg_global,
        global_burst=int(args.tg_global),
        per_chat_per_second=args.tg_per_chat,
        per_chat_burst=3,
    )
    platforms = Platforms(bots, texts, per_chat)
    driver: Driver | None = None
    pacer_task: asyncio.Task[None] | None = None
    try:
        await platforms.start()
        cluster.database = PgDatabase(args.db_url)
        await cluster.database.create()
        ports = [free_port() for _ in range(args.web)]
        await cluster.prepare(
            settings_toml(
                cluster.database.url,
                cluster.workdir / "data",
                cluster.communes_dir,
                communes,
                bots,
                ports[0],
                instances,
            )
        )
        await cluster.start(ports)
        startup = time.perf_counter() - started
        served = cluster.served_channels()
        if not {b.name for b in bots} <= served:
            raise RuntimeError(
                f"the web processes serve {sorted(served)}, not every bot of the plan "
                f"{[b.name for b in bots]}: without bot instances in this code, use --bots legacy"
            )
        print(
            f"{len(communes)} communes, {len(bots)} bots, {args.web} web + 1 scheduler processes "
            f"on PostgreSQL ({cluster.database.name}); {args.residents} residents; "
            f"started in {startup:.1f} s",
            flush=True,
        )
        for note in notes:
            print(f"note: {note}", flush=True)

        driver = Driver(platforms, [f"http://127.0.0.1:{p}" for p in ports], curriculum, texts)
        await driver.open()
        rng = random.Random(args.seed)
        residents = []
        for n in range(args.residents):
            commune = communes[n % len(communes)]
            messenger = ("telegram", "zalo")[n % 2]
            bot = next(
                b
                for b in bots
                if b.messenger == messenger and (not b.communes or commune.code in b.communes)
            )
            residents.append(driver.resident(n, bot, commune, rng))
        pacer = Pacer(driver, residents, args.think, rng)
        pacer_task = asyncio.create_task(pacer.run())

        phase = await pace(pacer, args, driver)
        await asyncio.sleep(args.settle_end)  # late or doubled replies still arrive here
        driver.close_all(residents)
        peaks = cluster.measure_rss()
        posted: Counter[str] = Counter()
        for resident in residents:
            posted[resident.bot.name] += len(resident.windows)
        db = await check_database(cluster.database.url, residents, posted)
        failures = Counter(r.failure for r in residents if r.failure)
        problems = platforms.violations() + cluster.problems()
        result: dict[str, Any] = {
            "communes": len(communes),
            "communes_asked": args.communes,
            "bots": len(bots),
            "residents": len(residents),
            "journeys_completed": sum(1 for r in residents if r.finished),
            "web_processes": args.web,
            "scheduler_processes": 1,
            "database": "postgresql",
            **phase.figures(driver),
            **tally(driver, platforms, residents, db, len(problems), sum(failures.values())),
            "flood_429": platforms.flood_429s(),
            **db,
            "peak_rss_mb": peaks,
            "harness_peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
            "startup_seconds": round(startup, 1),
            "seconds": round(time.perf_counter() - started, 1),
        }
        result["aim_met"] = bool(
            result["errors"] == result["lost"] == result["doubled"] == 0
            and result["p99_ms"] is not None
            and result["p99_ms"] <= 100
        )
        report(result, failures, problems)
        return result
    finally:
        if pacer_task is not None:
            pacer_task.cancel()
            with contextlib.suppress(BaseException):
                await pacer_task
        if driver is not None:
            await driver.close()
        try:
            await cluster.close(keep_files=args.keep)
        finally:
            await platforms.close()
        if args.keep:
            print(f"kept: {cluster.workdir}", file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument(
        "--db-url", default=DEFAULT_PG, help="an admin URL of the PostgreSQL server"
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, default=None, help="updates/s for the whole run")
    pace.add_argument("--max", action="store_true", help="find the maximum, then stay there")
    parser.add_argument("--web", type=int, default=2, help="web processes")
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds between steps")
    parser.add_argument("--step-seconds", type=float, default=3.0, help="length of a ramp step")
    parser.add_argument("--settle-end", type=float, default=2.0, help="wait for stray replies")
    parser.add_argument(
        "--tg-global",
        type=float,
        default=10_000.0,
        help="fake Telegram's flood limit per bot, messages/s",
    )
    parser.add_argument(
        "--tg-per-chat",
        type=float,
        default=1.0,
        help="fake Telegram's flood limit per chat, messages/s (burst 3)",
    )
    parser.add_argument(
        "--bots",
        choices=("auto", "legacy", "instances"),
        default="auto",
        help="[[bots]] per commune and shared (instances) or the legacy [telegram] and [zalo]; "
        "auto: instances when this code serves them",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    return parser.parse_args(argv)


async def interruptible(args: argparse.Namespace) -> dict:
    """`run`, cancelled by Ctrl-C or SIGTERM (even when started in the background, where
    SIGINT is ignored): its finally blocks stop the processes and drop the database."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    return await run(args)


def main(argv: list[str] | None = None) -> dict:
    return asyncio.run(interruptible(parse_args(argv)))


if __name__ == "__main__":
    try:
        print(json.dumps(main(), ensure_ascii=False))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("interrupted: processes stopped, database dropped", file=sys.stderr)
        sys.exit(130)
