"""One leader among many processes: a lease row in the database.

Why a lease row rather than a PostgreSQL advisory lock: it works the same on SQLite
(where it is trivially one process) and PostgreSQL; it needs no connection held open
for the lock's lifetime (an advisory lock dies with its connection and does not survive
transaction-mode poolers such as PgBouncer); and who leads is visible with one query
(`select * from leases`). The cost: after a crash the role moves only when the lease
expires, `lease_seconds` later, and hosts need their clocks in sync (NTP), because
expiry compares the database's `expires_at` with each process's own clock.

The holder renews every `lease_seconds / 3`. A renewal that finds the lease taken
means leadership is lost; when the database cannot be reached, the holder keeps leading
only while its last lease is certainly still valid, then steps down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.core.context import utc_now
from storage import scheduling_repo as repo
from storage.db import Database

log = logging.getLogger(__name__)

# Runs while this process leads; must return soon after `lost` is set.
Leading = Callable[[asyncio.Event], Awaitable[None]]


def holder_name() -> str:
    """Host, pid and a random tag (a pid is reused across container restarts)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class LeaseKeeper:
    def __init__(
        self,
        database: Database,
        *,
        name: str,
        ttl: timedelta,
        holder: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.name = name
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.clock = clock
        self.valid_until: datetime | None = None  # end of the lease we last confirmed

    @property
    def renew_every(self) -> float:
        return self.ttl.total_seconds() / 3

    async def acquire(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        now = self.clock()
        try:
            async with self.database.transaction() as session:
                held = await repo.take_lease(session, self.name, self.holder, now, self.ttl)
        except IntegrityError:  # another process inserted the first lease row meanwhile
            held = False
        except (DBAPIError, OSError, TimeoutError) as exc:
            # Unknown: lead on only while the lease we hold surely has not expired.
            margin = timedelta(seconds=self.renew_every)
            still = self.valid_until is not None and now < self.valid_until - margin
            log.warning(
                "lease renewal failed",
                extra={"lease": self.name, "error": type(exc).__name__, "leading": still},
            )
            return still
        self.valid_until = now + self.ttl if held else None
        return held

    async def release(self) -> None:
        """Hand the lease back so another process can take over at once."""
        self.valid_until = None
        try:
            async with self.database.transaction() as session:
                await repo.release_lease(session, self.name, self.holder)
        except (DBAPIError, OSError, TimeoutError) as exc:  # it will expire on its own
            log.warning(
                "lease release failed", extra={"lease": self.name, "error": type(exc).__name__}
            )

    async def lead_while_held(self, stop: asyncio.Event, leading: Leading) -> None:
        """Until `stop`: whenever this process holds the lease, run `leading`; when the
        lease is lost, signal it to stop and wait for it. Releases the lease on exit."""
        task: asyncio.Task[None] | None = None
        lost = asyncio.Event()
        try:
            while not stop.is_set():
                held = await self.acquire()
                if task is not None and task.done():  # crashed: restart it below
                    if not task.cancelled() and task.exception() is not None:
                        log.error(
                            "leader work failed; restarting",
                            extra={"lease": self.name, "error": type(task.exception()).__name__},
                        )
                    task = None
                if held and task is None:
                    log.info("lease acquired", extra={"lease": self.name, "holder": self.holder})
                    lost = asyncio.Event()
                    task = asyncio.create_task(leading(lost))
                elif not held and task is not None:
                    log.warning("lease lost", extra={"lease": self.name, "holder": self.holder})
                    lost.set()
                    await asyncio.gather(task, return_exceptions=True)
                    task = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.renew_every)
        finally:
            if task is not None:
                lost.set()
                await asyncio.gather(task, return_exceptions=True)
            await self.release()
