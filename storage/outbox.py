"""The durable outbox: one row per message per recipient.

Enqueue inside the caller's transaction; a worker claims due rows with a lease, sends,
and marks each row at once. A crash leaves claimed rows whose lease expires and which
are claimed again, so nothing is lost; the window for a repeat is one message between
its send and its mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Choice, Outbound
from storage.delivery_models import OutboxMessage
from storage.models import ChannelAccount

MAX_ATTEMPTS = 5


def encode(messages: Sequence[Outbound]) -> dict[str, Any]:
    return {
        "messages": [
            {
                "text": m.text,
                "choices": [[c.id, c.label] for c in m.choices],
                "image": m.image,
                "columns": m.columns,
            }
            for m in messages
        ]
    }


def decode(payload: dict[str, Any]) -> list[Outbound]:
    return [
        Outbound(
            text=m["text"],
            choices=tuple(Choice(i, label) for i, label in m.get("choices", [])),
            image=m.get("image"),
            columns=m.get("columns", 1),
        )
        for m in payload["messages"]
    ]


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    kind: str,
    channel: str,
    external_id: str,
    messages: Sequence[Outbound],
    now: datetime,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    broadcast_id: int | None = None,
) -> bool:
    """Add one message for one recipient; False if that dedupe_key was queued before.
    A message still unsent at `expires_at` is dropped instead of sent late."""
    exists = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    if exists is not None:
        return False
    session.add(
        OutboxMessage(
            dedupe_key=dedupe_key,
            kind=kind,
            broadcast_id=broadcast_id,
            channel=channel,
            external_id=external_id,
            payload=encode(messages),
            status="pending",
            attempts=0,
            not_before=not_before or now,
            expires_at=expires_at,
            created_at=now,
        )
    )
    return True


async def claim(
    session: AsyncSession,
    *,
    channel: str,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    held_kinds: Sequence[str] = (),
) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this worker. Safe with several workers: each row
    is taken by a conditional UPDATE that only one of them can win.

    Rows past their `expires_at` are marked expired, never sent; rows of `held_kinds`
    wait (the worker holds broadcasts and nudges during quiet hours)."""
    idle = or_(  # not being sent by anyone right now
        OutboxMessage.status == "pending",
        and_(OutboxMessage.status == "sending", OutboxMessage.locked_until < now),
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.expires_at <= now, idle)
        .values(status="expired", locked_by=None, locked_until=None)
    )
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.not_before <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.locked_until < now),
    )
    if held_kinds:
        due = and_(due, OutboxMessage.kind.not_in(list(held_kinds)))
    candidates = list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.channel == channel, due)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    taken: list[int] = []
    for row_id in candidates:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, due)
            .values(status="sending", locked_by=worker, locked_until=now + lease)
        )
        if result.rowcount == 1:
            taken.append(row_id)
    if not taken:
        return []
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(taken)).order_by(OutboxMessage.id)
    )
    return list(rows)


async def inactive_accounts(session: AsyncSession, channel: str, ids: Sequence[str]) -> set[str]:
    rows = await session.scalars(
        select(ChannelAccount.external_id).where(
            ChannelAccount.channel == channel,
            ChannelAccount.external_id.in_(list(ids)),
            ChannelAccount.active.is_(False),
        )
    )
    return set(rows)


async def mark(
    session: AsyncSession,
    row_id: int,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "locked_by": None,
        "locked_until": None,
        "attempts": OutboxMessage.attempts + 1,
        "last_error": error[:200] if error else None,
    }
    if status == "sent":
        values["sent_at"] = now
    if retry_at is not None:
        values["not_before"] = retry_at
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


async def release(session: AsyncSession, worker: str) -> int:
    """Give back rows this worker claimed but did not send (graceful shutdown)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.locked_by == worker)
        .values(status="pending", locked_by=None, locked_until=None)
    )
    return int(result.rowcount or 0)


async def tally(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    )
    return {status: int(count) for status, count in rows}


async def take_for_account(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    now: datetime,
    held_kinds: Sequence[str] = (),
) -> list[OutboxMessage]:
    """Due rows for one account, marked sent: for a channel that delivers when its
    user is present (the console shows them between inputs). The same rules as the
    worker: expired rows are dropped, `held_kinds` wait; a row is taken by one
    conditional UPDATE, so two sessions of one account never both show it."""
    mine = and_(OutboxMessage.channel == channel, OutboxMessage.external_id == external_id)
    await session.execute(
        update(OutboxMessage)
        .where(mine, OutboxMessage.status == "pending", OutboxMessage.expires_at <= now)
        .values(status="expired")
    )
    due = and_(mine, OutboxMessage.status == "pending", OutboxMessage.not_before <= now)
    if held_kinds:
        due = and_(due, OutboxMessage.kind.not_in(list(held_kinds)))
    rows = list(await session.scalars(select(OutboxMessage).where(due).order_by(OutboxMessage.id)))
    taken = []
    for row in rows:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == "pending")
            .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1)
        )
        if result.rowcount == 1:
            taken.append(row)
    return taken
