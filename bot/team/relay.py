"""Messages from one person to another outside a conversation, through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Outbound
from storage import outbox, team_repo
from storage.models import ChannelAccount


async def relay(
    session: AsyncSession,
    person_id: int,
    messages: Sequence[Outbound],
    *,
    key: str,
    now: datetime,
    kind: str = "relay",
) -> ChannelAccount | None:
    """Queue `messages` for the person's most recently used account (once per `key`).

    Returns the account, or None when the person cannot be reached."""
    account = await team_repo.latest_account(session, person_id)
    if account is None:
        return None
    await outbox.enqueue(
        session,
        dedupe_key=f"{key}:{account.id}"[:96],
        kind=kind,
        channel=account.channel,
        external_id=account.external_id,
        messages=messages,
        now=now,
    )
    return account
