"""Announcements to a commune's residents: queued in batches, sent by the outbox worker.

A confirmed broadcast is fed into the outbox a batch at a time (one row per recipient
channel account, `dedupe_key = bc:<id>:<account id>`), keeping only a bounded number
waiting. That keeps the queue short, so the admin's progress messages, queued between
batches, arrive while the broadcast is going out instead of after it. Everything is
derived from the database, so a restart carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import utc_now
from bot.core.messages import Outbound
from bot.core.texts import Texts
from storage import outbox, team_repo
from storage.db import Database
from storage.delivery_models import Broadcast, OutboxMessage
from storage.models import ChannelAccount, Commune

from .relay import relay

log = logging.getLogger(__name__)

BATCH = 200
# Queue the next batch when fewer rows than this wait: at 30 messages/s the backlog
# stays under ~15 s, so a progress message queued now arrives soon.
LOW_WATER = 200
MILESTONES = (25, 50, 75)  # percent done at which the admin hears how it goes
MIN_FOR_PROGRESS = 200  # smaller broadcasts only get the final tally
POLL_SECONDS = 1.0
CONSOLE = "console"
WAITING = ("pending", "sending")


def fmt(n: int) -> str:
    """Vietnamese thousands separator: 2.000."""
    return f"{n:,}".replace(",", ".")


def broadcast_key(broadcast_id: int, account_id: int) -> str:
    return f"bc:{broadcast_id}:{account_id}"


async def announcement(session: AsyncSession, texts: Texts, broadcast: Broadcast) -> Outbound:
    """The message residents receive."""
    commune = await session.get(Commune, broadcast.commune_id)
    text = texts("broadcast.header", commune=commune.name if commune else "", text=broadcast.text)
    return Outbound(text, image=broadcast.image)


async def create(
    session: AsyncSession,
    *,
    commune_id: int,
    person_id: int,
    text: str,
    image: str | None,
    village_codes: list[str],
    now: datetime,
) -> Broadcast:
    broadcast = Broadcast(
        commune_id=commune_id,
        created_by_person_id=person_id,
        text=text,
        image=image,
        village_codes=sorted(village_codes),
        created_at=now,
        confirmed_at=now,
    )
    session.add(broadcast)
    await session.flush()
    people, accounts = await team_repo.count_recipients(session, broadcast)
    team_repo.audit(
        session,
        team_repo.actor_of(person_id),
        "broadcast.confirm",
        commune_id,
        at=now,
        broadcast_id=broadcast.id,
        villages=broadcast.village_codes or "all",
        people=people,
        accounts=accounts,
        image=bool(image),
    )
    return broadcast


async def _cursor(session: AsyncSession, broadcast_id: int) -> int:
    """The highest account id already queued: rows are queued in account id order."""
    key = await session.scalar(
        select(OutboxMessage.dedupe_key)
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return int(key.rsplit(":", 1)[1]) if key else 0


async def _targets(session: AsyncSession, broadcast: Broadcast) -> Any:
    village_ids = await team_repo.village_ids_for_codes(
        session, broadcast.commune_id, broadcast.village_codes
    )
    return team_repo.recipients_query(broadcast, village_ids)


async def remaining(session: AsyncSession, broadcast: Broadcast) -> int:
    """Recipients not yet queued."""
    query = (await _targets(session, broadcast)).where(
        ChannelAccount.id > await _cursor(session, broadcast.id)
    )
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def enqueue_next_batch(
    session: AsyncSession,
    texts: Texts,
    broadcast: Broadcast,
    now: datetime,
    limit: int | None = None,
) -> int:
    """Queue the next `limit` (default BATCH) recipients; returns how many (0: all are
    queued already)."""
    query = (await _targets(session, broadcast)).where(
        ChannelAccount.id > await _cursor(session, broadcast.id)
    )
    rows = list(await session.execute(query.order_by(ChannelAccount.id).limit(limit or BATCH)))
    if not rows:
        return 0
    payload = outbox.encode([await announcement(session, texts, broadcast)])
    # One multi-row INSERT: a fresh broadcast's keys cannot exist yet, and if another
    # process queued the same batch meanwhile, the unique key fails this transaction.
    await session.execute(
        insert(OutboxMessage),
        [
            {
                "dedupe_key": broadcast_key(broadcast.id, account_id),
                "kind": "broadcast",
                "broadcast_id": broadcast.id,
                "channel": channel,
                "external_id": external_id,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            }
            for account_id, channel, external_id in rows
        ],
    )
    return len(rows)


@dataclass(frozen=True)
class Progress:
    total: int
    unqueued: int
    waiting: int
    sent: int
    blocked: int
    failed: int
    # Console rows wait in the outbox until their user opens `hocvuso chat`, like a
    # mailbox: handed over as far as the broadcast is concerned, so they neither hold
    # back the next batch nor keep the broadcast open.
    in_console: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.in_console

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else int(100 * self.done / self.total)


async def progress(session: AsyncSession, broadcast: Broadcast) -> Progress:
    tally = await outbox.tally(session, broadcast.id)
    unqueued = await remaining(session, broadcast)
    in_console = int(
        await session.scalar(
            select(func.count()).where(
                OutboxMessage.broadcast_id == broadcast.id,
                OutboxMessage.channel == CONSOLE,
                OutboxMessage.status == "pending",
            )
        )
        or 0
    )
    return Progress(
        total=sum(tally.values()) + unqueued,
        unqueued=unqueued,
        waiting=sum(tally.get(s, 0) for s in WAITING) - in_console,
        sent=tally.get("sent", 0),
        blocked=tally.get("blocked", 0),
        failed=tally.get("failed", 0),
        in_console=in_console,
    )


async def _tell_admin(
    session: AsyncSession, broadcast: Broadcast, text: str, key: str, now: datetime
) -> None:
    if broadcast.created_by_person_id is not None:
        await relay(session, broadcast.created_by_person_id, [Outbound(text)], key=key, now=now)


async def step_one(
    session: AsyncSession, texts: Texts, broadcast: Broadcast, now: datetime
) -> None:
    """Feed the queue, tell the admin about milestones, close the broadcast when done."""
    state = await progress(session, broadcast)
    if state.unqueued and state.waiting < LOW_WATER:
        await enqueue_next_batch(session, texts, broadcast, now)
        return  # progress is looked at again on the next step
    reached = [m for m in MILESTONES if state.percent >= m]
    if state.total >= MIN_FOR_PROGRESS and reached and state.done < state.total:
        # Only the latest milestone reached: after a pause, one message, not three.
        await _tell_admin(
            session,
            broadcast,
            texts(
                "broadcast.progress",
                id=broadcast.id,
                done=fmt(state.done),
                total=fmt(state.total),
                percent=state.percent,
            ),
            f"bcp:{broadcast.id}:{reached[-1]}",
            now,
        )
    if state.unqueued == 0 and state.waiting == 0:
        closed = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast.id, Broadcast.finished_at.is_(None))
            .values(finished_at=now)
        )
        if closed.rowcount == 1:
            text = texts(
                "broadcast.done",
                id=broadcast.id,
                sent=fmt(state.sent),
                blocked=fmt(state.blocked),
                failed=fmt(state.failed),
            )
            if state.in_console:
                text += "\n" + texts("broadcast.done_console", waiting=fmt(state.in_console))
            await _tell_admin(session, broadcast, text, f"bcdone:{broadcast.id}", now)


async def step(database: Database, texts: Texts, now: datetime) -> int:
    """One pass over every unfinished broadcast; returns how many are still going."""
    async with database.session() as session:
        ids = list(
            await session.scalars(
                select(Broadcast.id).where(
                    Broadcast.confirmed_at.is_not(None), Broadcast.finished_at.is_(None)
                )
            )
        )
    for broadcast_id in ids:
        try:
            async with database.transaction() as session:
                broadcast = await session.get(Broadcast, broadcast_id)
                if broadcast is not None and broadcast.finished_at is None:
                    await step_one(session, texts, broadcast, now)
        except IntegrityError:  # another process queued the same batch first
            log.info("broadcast %d: batch queued elsewhere", broadcast_id)
    return len(ids)


async def run_broadcasts(
    database: Database,
    texts: Texts,
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = utc_now,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Keep broadcasts fed and reported until `stop` is set."""
    while not stop.is_set():
        try:
            await step(database, texts, clock())
        except Exception:  # the database may be briefly down: try again next round
            log.exception("broadcast step failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)


async def run_broadcast_progress(app: Any, channels: list[Any], stop: asyncio.Event) -> None:
    """Service worker (bot.service.WORKERS["broadcast_progress"])."""
    await run_broadcasts(app.database, app.engine.services.texts, stop)
