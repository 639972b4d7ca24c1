"""What the scheduled jobs share: when a slot is due, and queueing one message to one
person through the outbox (deduplicated, so a repeated run sends nothing twice)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Outbound
from storage import outbox
from storage.models import ChannelAccount

MAX_MESSAGE_CHARS = 1500  # under Zalo's and Telegram's limits, easy to read on a phone


def at_hour(day: date, hour: int, local_now: datetime) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_now.tzinfo)


def in_grace(local_now: datetime, slot: datetime, grace: timedelta) -> bool:
    """A slot is served by a run at most `grace` late; never before it, never later."""
    return slot <= local_now < slot + grace


def sending_window_end(local_now: datetime, quiet_start: int, quiet_end: int) -> datetime:
    """When a message meant for today goes stale: the next start of quiet hours or the
    next local midnight, whichever comes first (equal hours: no quiet hours)."""
    midnight = at_hour(local_now.date() + timedelta(days=1), 0, local_now)
    if quiet_start == quiet_end:
        return midnight
    quiet = at_hour(local_now.date(), quiet_start, local_now)
    if quiet <= local_now:
        quiet += timedelta(days=1)
    return min(quiet, midnight)


def weekly_slot(local_now: datetime, weekday: int, hour: int) -> datetime:
    """The latest `weekday` at `hour` not after `local_now`."""
    day = local_now.date() - timedelta(days=(local_now.weekday() - weekday) % 7)
    slot = at_hour(day, hour, local_now)
    return slot if slot <= local_now else slot - timedelta(days=7)


def monthly_slot(local_now: datetime, day_of_month: int, hour: int) -> datetime:
    """The latest `day_of_month` at `hour` not after `local_now`."""
    slot = at_hour(local_now.date().replace(day=day_of_month), hour, local_now)
    if slot <= local_now:
        return slot
    last_month = local_now.date().replace(day=1) - timedelta(days=1)
    return at_hour(last_month.replace(day=day_of_month), hour, local_now)


def yearly_slot(local_now: datetime, day: int, month: int, hour: int) -> datetime:
    """The latest `day`/`month` at `hour` not after `local_now`."""
    slot = at_hour(date(local_now.year, month, day), hour, local_now)
    if slot <= local_now:
        return slot
    return at_hour(date(local_now.year - 1, month, day), hour, local_now)


def day_month(day: date) -> str:
    return day.strftime("%d/%m")


def split_lines(lines: Sequence[str], limit: int = MAX_MESSAGE_CHARS) -> list[Outbound]:
    """Lines grouped into as few messages as fit under `limit` characters each."""
    messages: list[Outbound] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > limit:
            messages.append(Outbound("\n".join(current)))
            current = []
        current.append(line)
    if current:
        messages.append(Outbound("\n".join(current)))
    return messages


async def send_to(
    session: AsyncSession,
    account: ChannelAccount | None,
    *,
    dedupe_key: str,
    kind: str,
    messages: Sequence[Outbound],
    now: datetime,
) -> bool:
    """Queue `messages` for one person's account; False if unreachable or queued before."""
    if account is None:
        return False
    return await outbox.enqueue(
        session,
        dedupe_key=dedupe_key,
        kind=kind,
        channel=account.channel,
        external_id=account.external_id,
        messages=messages,
        now=now,
    )
