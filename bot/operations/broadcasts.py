"""Announcements: prepare a draft (who it reaches, per channel), confirm it (stored,
audited, first batch queued) or cancel one that is going out. The chat's broadcast
screens and the web's "Thông báo" page both go through here; sending stays the
outbox's job (bot/team/broadcast_service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import CommuneRef
from bot.core.texts import Texts
from bot.team import broadcast_service
from config.settings import SchedulerSettings
from storage import reach, repo, team_repo
from storage.delivery_models import Broadcast, OutboxMessage

from . import Actor, NotAllowed, NotFound

ACTION = "broadcast"
# Telegram captions stop at 1,024 characters; the header takes a line of its own.
MAX_TEXT = 900
MAX_IMAGE_URL = 500


class BadDraft(ValueError):
    """Why a draft cannot go out: "text", "image" or "villages"."""


@dataclass(frozen=True)
class Preview:
    draft: Broadcast  # transient: never added to the session
    message: str  # what residents will read
    target: str  # "Xã ..." or the chosen villages' names
    reach: reach.Reach
    quiet: bool  # confirmed now, it waits until the end of quiet hours


def quiet_now(scheduler: SchedulerSettings, tz: ZoneInfo, now: datetime) -> bool:
    return scheduler.is_quiet(now.astimezone(tz).hour)


def valid_image(url: str | None) -> bool:
    return url is None or (
        url.startswith("https://") and " " not in url and len(url) <= MAX_IMAGE_URL
    )


async def prepare(
    session: AsyncSession,
    actor: Actor,
    commune: CommuneRef,
    *,
    text: str,
    image: str | None,
    village_codes: Sequence[str],
    now: datetime,
    texts: Texts,
    scheduler: SchedulerSettings,
    tz: ZoneInfo,
) -> Preview:
    """Check a draft and say whom it reaches; stores nothing."""
    actor.require(commune, ACTION)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise BadDraft("text")
    if not valid_image(image):
        raise BadDraft("image")
    villages = await repo.villages(session, commune.id)
    known = {v.code for v in villages}
    codes = sorted({c for c in village_codes})
    if any(c not in known for c in codes):
        raise BadDraft("villages")
    draft = Broadcast(commune_id=commune.id, text=text, image=image, village_codes=codes)
    village_ids = await team_repo.village_ids_for_codes(session, commune.id, codes)
    found = await reach.of_residents(session, commune.id, village_ids)
    message = await broadcast_service.announcement(session, texts, draft)
    target = (
        ", ".join(v.name for v in villages if v.code in codes)
        if codes
        else texts("broadcast.target_all", commune=commune.name)
    )
    return Preview(draft, message.text, target, found, quiet_now(scheduler, tz, now))


async def confirm(
    session: AsyncSession,
    actor: Actor,
    commune: CommuneRef,
    *,
    text: str,
    image: str | None,
    village_codes: Sequence[str],
    now: datetime,
    texts: Texts,
    scheduler: SchedulerSettings,
    tz: ZoneInfo,
) -> tuple[Broadcast, int]:
    """Store the broadcast (audited) and queue its first batch; the broadcast worker
    feeds the rest. Returns it with the number of accounts it goes to."""
    preview = await prepare(
        session, actor, commune, text=text, image=image, village_codes=village_codes,
        now=now, texts=texts, scheduler=scheduler, tz=tz,
    )  # fmt: skip
    if not preview.reach.reachable:
        raise BadDraft("villages")
    broadcast = await broadcast_service.create(
        session,
        commune_id=commune.id,
        person_id=actor.id,
        text=preview.draft.text,
        image=preview.draft.image,
        village_codes=list(preview.draft.village_codes),
        now=now,
    )
    _people, accounts = await team_repo.count_recipients(session, broadcast)
    await broadcast_service.enqueue_next_batch(session, texts, broadcast, now)
    return broadcast, accounts


async def of_commune(
    session: AsyncSession, actor: Actor, commune: CommuneRef, broadcast_id: int
) -> Broadcast:
    actor.require(commune, ACTION)
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(ACTION, "broadcast")
    if broadcast.commune_id != commune.id:
        raise NotAllowed(ACTION)
    return broadcast


async def cancel(
    session: AsyncSession, actor: Actor, commune: CommuneRef, *, broadcast_id: int, now: datetime
) -> int:
    """Stop a broadcast that is going out: nothing more is queued, what waits is
    dropped, what was sent stays sent. Returns how many waiting messages were dropped."""
    broadcast = await of_commune(session, actor, commune, broadcast_id)
    if broadcast.finished_at is not None:
        return 0
    broadcast.finished_at = now
    dropped = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status == "pending")
        .values(status="cancelled")
    )
    team_repo.audit(
        session, actor.audit_name, "broadcast.cancel", commune.id, at=now,
        broadcast_id=broadcast.id, dropped=dropped.rowcount,
    )  # fmt: skip
    return int(dropped.rowcount or 0)


async def recent(session: AsyncSession, actor: Actor, commune: CommuneRef) -> list[Broadcast]:
    actor.require(commune, ACTION)
    rows = await session.scalars(
        select(Broadcast)
        .where(Broadcast.commune_id == commune.id, Broadcast.confirmed_at.is_not(None))
        .order_by(Broadcast.id.desc())
        .limit(10)
    )
    return list(rows)


__all__ = ["BadDraft", "NotAllowed", "Preview", "cancel", "confirm", "prepare"]
