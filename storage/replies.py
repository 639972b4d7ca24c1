"""Replies kept with their step until the channel confirms it sent them.

The engine stores a step's rendered reply on its `processed_updates` row in the step's
own transaction. The channel clears it once sent. A redelivered update whose reply is
still there (the process died between commit and send) takes it back, once, and sends
it. Nightly housekeeping clears replies older than `REPLY_WINDOW`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate
from storage.prepared import Prepared

# A reply still unsent after this long is stale: re-sending it would confuse more
# than it helps, so a redelivery then gets nothing, as before.
REPLY_WINDOW = timedelta(hours=1)
# A step younger than this may still be sending its reply in another process:
# a redelivery this early is a concurrent copy, not a retry after a crash.
REPLY_GRACE = timedelta(seconds=3)


def _row(channel: str, update_key: str):  # type: ignore[no-untyped-def]
    return (ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == update_key)


# Built once: every keyed step runs it (building costs about what running does).
_STORE = Prepared(
    update(ProcessedUpdate)
    .where(
        ProcessedUpdate.channel == bindparam("r_channel"),
        ProcessedUpdate.update_key == bindparam("r_key"),
    )
    .values(reply=bindparam("r_reply"), reply_to=bindparam("r_to"))
)


async def store(
    session: AsyncSession,
    channel: str,
    update_key: str,
    reply: list[dict[str, Any]],
    *,
    reply_to: str,
) -> None:
    params = {"r_channel": channel, "r_key": update_key, "r_reply": reply, "r_to": reply_to}
    # As Core (storage/prepared.py): no ProcessedUpdate is ever loaded as an object,
    # so the ORM's synchronising of an UPDATE would be work for nothing.
    await _STORE.run(session, params)


class TooSoon(Exception):
    """The reply is stored and unsent, but its step is so recent that another process
    may be sending it right now: ask for the update again a little later."""


async def take_unsent(
    session: AsyncSession, channel: str, update_key: str, now: datetime
) -> list[dict[str, Any]] | None:
    """Claim the stored reply of an update processed at most `REPLY_WINDOW` ago and
    not confirmed sent; None when there is none. Raises TooSoon within `REPLY_GRACE`.
    Claiming clears it (a conditional UPDATE), so two redeliveries cannot both send it."""
    row = (
        await session.execute(
            select(ProcessedUpdate.reply, ProcessedUpdate.processed_at).where(
                *_row(channel, update_key),
                ProcessedUpdate.reply.is_not(None),
                ProcessedUpdate.processed_at >= now - REPLY_WINDOW,
            )
        )
    ).first()
    if row is None or not row.reply:
        return None
    if row.processed_at > now - REPLY_GRACE:
        raise TooSoon(channel, update_key)
    claimed = await session.execute(
        update(ProcessedUpdate)
        .where(*_row(channel, update_key), ProcessedUpdate.reply.is_not(None))
        .values(reply=null(), reply_to=null())
    )
    return list(row.reply) if claimed.rowcount == 1 else None


async def confirm_sent(session: AsyncSession, sent: Sequence[tuple[str, str]]) -> None:
    """Forget the stored replies of these (channel, update key) pairs: they went."""
    by_channel: dict[str, list[str]] = {}
    for channel, update_key in sent:
        by_channel.setdefault(channel, []).append(update_key)
    for channel, keys in by_channel.items():
        await session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_key.in_(keys))
            .values(reply=null(), reply_to=null())
        )


async def clear_older_than(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.reply.is_not(None), ProcessedUpdate.processed_at < cutoff)
        .values(reply=null(), reply_to=null())
    )
    return int(result.rowcount or 0)
