"""One guess limit per messenger account for every code typed or deep-linked: invites
(prefixed or bare), account-link codes, referral (poster) codes, household codes (which
lock sooner: three wrong ones).

Guessing must stay hopeless: MAX_WRONG wrong codes within WRONG_WINDOW lock the
account out of every code for LOCKOUT after the last one, even a right one. Queries
only; the engine owns the transaction. Rows go with nightly housekeeping.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_models import CodeAttempt

MAX_WRONG = 5  # wrong codes from one account within WRONG_WINDOW...
WRONG_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)  # ...refuse every code for this long after the last one


async def locked_until(
    session: AsyncSession,
    channel: str,
    external_id: str,
    now: datetime,
    *,
    max_wrong: int = MAX_WRONG,
) -> datetime | None:
    """When an account that typed `max_wrong` wrong codes within WRONG_WINDOW may try
    again; None if it may try now. Household codes use a stricter `max_wrong`."""
    recent = list(
        await session.scalars(
            select(CodeAttempt.at)
            .where(CodeAttempt.channel == channel, CodeAttempt.external_id == external_id)
            .order_by(CodeAttempt.at.desc())
            .limit(max_wrong)
        )
    )
    if len(recent) < max_wrong or recent[0] - recent[-1] > WRONG_WINDOW:
        return None
    until = recent[0] + LOCKOUT
    return until if now < until else None


async def record_wrong(session: AsyncSession, channel: str, external_id: str, at: datetime) -> None:
    session.add(CodeAttempt(channel=channel, external_id=external_id, at=at))
    await session.flush()


def minutes_left(now: datetime, until: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))
