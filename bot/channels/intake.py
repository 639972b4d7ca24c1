"""How a messenger channel takes one update: throttle, record, then send off the request.

    intake = Intake(engine)
    outcome = await intake.take(inbound, channel.send)   # raises StepNotRecorded

1. Fair use: an account over its token bucket is dropped unrecorded; the first drop
   queues one polite message (`common.throttled`).
2. The step runs under the account's lock (steps of one person in arrival order). The
   lock covers the step's transaction only, never a send.
3. A step the database could not record raises `StepNotRecorded`: the webhook answers
   5xx and a polling loop keeps its offset, so the platform delivers the update again.
   Where it cannot (`redeliverable=False`), the resident gets the apology once.
4. The reply is queued behind that account's earlier replies and sent by a bounded
   pool of background tasks; `take` waits for it only up to `send_budget` seconds, so
   429 waits, retries and slow sends never hold the platform's connection for long.
   Once sent, the stored copy is cleared (`Engine.confirm_sent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from enum import StrEnum

from bot.channels.base import SendFn, SendResult, mark_blocked
from bot.channels.throttle import Throttle, Verdict
from bot.core.engine import Engine
from bot.core.messages import Inbound, Outbound

log = logging.getLogger(__name__)

SEND_BUDGET = 1.0  # seconds a request waits for its reply to go before answering anyway
CONFIRM_EVERY = 0.2  # seconds between batched "reply sent" marks (one transaction each)
MAX_SENDING = 64  # sends in flight at once, all chats together
MAX_QUEUED = 5_000  # replies waiting to be sent; beyond this a request sends itself


class StepNotRecorded(Exception):
    """The database could not record the step; the platform should deliver it again."""


class Outcome(StrEnum):
    DONE = "done"  # recorded (or a duplicate); the reply is sent or on its way
    THROTTLED = "throttled"  # dropped, unrecorded: the account is over its limit


class KeyLocks:
    """One lock per key, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: Counter[Hashable] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class Intake:
    def __init__(
        self,
        engine: Engine,
        *,
        throttle: Throttle | None = None,
        send_budget: float = SEND_BUDGET,
        max_sending: int = MAX_SENDING,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.engine = engine
        self.throttle = throttle if throttle is not None else Throttle()
        self.send_budget = send_budget
        self.max_queued = max_queued
        self.locks = KeyLocks()
        self._slots = asyncio.Semaphore(max_sending)
        self._tails: dict[Hashable, asyncio.Task[None]] = {}  # each account's last send
        self._sending: set[tuple[str, str]] = set()  # update keys whose reply is queued
        self.tasks: set[asyncio.Task[None]] = set()
        self._confirms: set[tuple[str, str]] = set()  # sent, not yet marked sent
        self._confirmer: asyncio.Task[None] | None = None
        self.throttled = 0  # throttle messages queued, for logs and tests

    async def take(
        self,
        inbound: Inbound,
        send: SendFn,
        *,
        redeliverable: bool = True,
        done: Callable[[], None] | None = None,
    ) -> Outcome:
        """Take one update; `done` is called once it is fully dealt with (its reply
        sent or given up), which may be after this returns; not when this raises."""
        # On an exception `done` is the caller's: it may still have to apologise.
        outcome, job = await self._take(inbound, send, redeliverable)
        if done is not None:
            if job is None:
                done()
            else:
                job.add_done_callback(lambda _task: done())
        if job is not None:
            if len(self.tasks) > self.max_queued:
                await asyncio.shield(job)  # back-pressure: the platform waits, we catch up
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(job), self.send_budget)
        return outcome

    async def _take(
        self, inbound: Inbound, send: SendFn, redeliverable: bool
    ) -> tuple[Outcome, asyncio.Task[None] | None]:
        key = (inbound.channel, inbound.user_id)
        verdict = self.throttle.check(key)
        if verdict is not Verdict.PASS:
            if verdict is Verdict.TRIP:
                self.throttled += 1
                log.info("account over its message rate; dropping", extra={"channel": key[0]})
                notice = Outbound(self.engine.services.texts("common.throttled"))
                return Outcome.THROTTLED, self._queue(key, inbound, send, [notice], confirm=False)
            return Outcome.THROTTLED, None
        update = (inbound.channel, inbound.update_key) if inbound.update_key else None
        async with self.locks.hold(key):
            if update is not None and (update in self._sending or update in self._confirms):
                return Outcome.DONE, None  # a copy of an update answered (or being) here
            reply = await self.engine.handle(inbound)
            if reply.retry and redeliverable:
                raise StepNotRecorded
            if not reply.messages:
                return Outcome.DONE, None
            return Outcome.DONE, self._queue(
                key, inbound, send, reply.messages, confirm=reply.stored
            )

    def later(self, key: Hashable, work: Callable[[], Awaitable[object]]) -> None:
        """Run `work` off the request, after the key's earlier sends."""
        self._chain(key, work)

    async def drain(self, within: float) -> None:
        """Let queued replies go and mark them sent (on stop)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=within)
        if self._confirmer is not None:
            self._confirmer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._confirmer
            self._confirmer = None
        await self._flush_confirms()

    def _confirm_soon(self, update: tuple[str, str]) -> None:
        """Mark a reply sent with others in one transaction shortly: a transaction per
        step would double the database writes. A crash in between can at worst make a
        redelivery (rare: Telegram had its 200) send the reply twice."""
        self._confirms.add(update)
        if self._confirmer is None or self._confirmer.done():
            self._confirmer = asyncio.create_task(self._confirm_later())

    async def _confirm_later(self) -> None:
        while self._confirms:  # also those that came in during a flush
            await asyncio.sleep(CONFIRM_EVERY)
            await self._flush_confirms()

    async def _flush_confirms(self) -> None:
        batch = list(self._confirms)
        await self.engine.confirm_sent(batch)
        self._confirms.difference_update(batch)  # kept until marked: see `_take`

    # ------------------------------------------------------------------ internals

    def _queue(
        self,
        key: Hashable,
        inbound: Inbound,
        send: SendFn,
        messages: Sequence[Outbound],
        *,
        confirm: bool,
    ) -> asyncio.Task[None]:
        update = (inbound.channel, inbound.update_key) if inbound.update_key else None
        if update is not None and confirm:
            self._sending.add(update)

        async def deliver() -> None:
            try:
                result = await send(inbound.user_id, messages)
                if result is SendResult.BLOCKED:
                    await mark_blocked(self.engine.database, inbound.channel, inbound.user_id)
                if update is not None and confirm and result is not SendResult.FAILED:
                    self._confirm_soon(update)
            finally:
                if update is not None and confirm:
                    self._sending.discard(update)

        return self._chain(key, deliver)

    def _chain(self, key: Hashable, work: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # in order per account; its errors are its own
            try:
                async with self._slots:
                    await work()
            except Exception as exc:  # a send never raises; a bug must not go unseen
                log.error("background send failed: %s", type(exc).__name__)

        task = asyncio.create_task(run())
        self._tails[key] = task
        self.tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            if self._tails.get(key) is finished:
                del self._tails[key]

        task.add_done_callback(done)
        return task
