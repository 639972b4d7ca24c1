"""One-time sign-in links and browser sessions of the web dashboard. Secrets are
random and shown once; only their SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person
from storage.team_models import AuditEntry, SupportVisit
from storage.web_models import WebSession, WebSignIn


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_sign_in(
    session: AsyncSession, person_id: int, now: datetime, ttl: timedelta
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSignIn(
            token_hash=digest(token), person_id=person_id, created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return token


async def redeem(session: AsyncSession, token: str, now: datetime) -> int | None:
    """The person a link was for, if it is unused and unexpired; it is used from now
    on (a conditional UPDATE, so two tabs racing get one session)."""
    row = await session.scalar(select(WebSignIn).where(WebSignIn.token_hash == digest(token)))
    if row is None:
        return None
    used = await session.execute(
        update(WebSignIn)
        .where(WebSignIn.id == row.id, WebSignIn.used_at.is_(None), WebSignIn.expires_at > now)
        .values(used_at=now)
    )
    return row.person_id if used.rowcount == 1 else None


async def open_session(session: AsyncSession, person_id: int, now: datetime) -> tuple[str, str]:
    """(cookie secret, CSRF token) of a new session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        WebSession(
            token_hash=digest(token),
            person_id=person_id,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return token, csrf


async def live_session(
    session: AsyncSession, token: str, now: datetime, idle: timedelta
) -> WebSession | None:
    """The session of a cookie, if not ended nor idle too long; marks it seen now."""
    row = await session.scalar(
        select(WebSession).where(
            WebSession.token_hash == digest(token), WebSession.ended_at.is_(None)
        )
    )
    if row is None:
        return None
    if row.last_seen_at + idle <= now:
        row.ended_at = now
        return None
    row.last_seen_at = now
    return row


async def end_sessions(session: AsyncSession, person_id: int, now: datetime) -> int:
    """End every open session of a person (from chat, or when they sign out)."""
    result = await session.execute(
        update(WebSession)
        .where(WebSession.person_id == person_id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(result.rowcount or 0)


async def audit_entries(
    session: AsyncSession,
    commune_id: int,
    *,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """The commune's audit log, newest first; `action` matches a prefix ("web.")."""
    stmt = select(AuditEntry).where(
        or_(AuditEntry.commune_id == commune_id, AuditEntry.commune_id.is_(None))
    )
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    return list(await session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))


async def display_names(session: AsyncSession, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Person.id, Person.display_name).where(Person.id.in_(sorted(person_ids)))
    )
    return {pid: name for pid, name in rows if name}


async def household_visits(
    session: AsyncSession, household_id: int, limit: int = 30
) -> list[SupportVisit]:
    """A household's support visits, newest first."""
    rows = await session.scalars(
        select(SupportVisit)
        .where(SupportVisit.household_id == household_id)
        .order_by(SupportVisit.visited_at.desc(), SupportVisit.id.desc())
        .limit(limit)
    )
    return list(rows)
