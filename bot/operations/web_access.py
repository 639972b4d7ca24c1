"""Signing in to the web dashboard without a password: /web in any channel gives a
staff member a link valid 10 minutes, once, bound to them; opening it starts a browser
session that ends after 30 minutes without a request, from the page, or from chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communes import CommuneDirectory, CommuneRef
from storage import team_repo, web_repo
from storage.models import Person

from . import Actor, NotAllowed, actor_for

LINK_TTL = timedelta(minutes=10)
IDLE = timedelta(minutes=30)
SIGN_IN_PATH = "/web/vao/"


@dataclass(frozen=True)
class Opened:
    actor: Actor
    cookie: str
    csrf: str


async def issue_link(
    session: AsyncSession, actor: Actor, commune: CommuneRef, base_url: str, now: datetime
) -> str:
    """A one-time sign-in URL for a staff member; residents are refused."""
    if not actor.roles.is_staff:
        raise NotAllowed("web")
    token = await web_repo.create_sign_in(session, actor.id, now, LINK_TTL)
    team_repo.audit(session, actor.audit_name, "web.link", commune.id, at=now)
    return f"{base_url.rstrip('/')}{SIGN_IN_PATH}{token}"


async def sign_in(
    session: AsyncSession, communes: CommuneDirectory, token: str, now: datetime
) -> Opened | None:
    """A session for a valid, unused link whose person is still staff; else None.
    Both outcomes are audited, in the person's commune (an unknown link: the first)."""
    person_id = await web_repo.redeem(session, token, now)
    person = await session.get(Person, person_id) if person_id else None
    commune = (communes.get(person.commune_id) if person else None) or communes.all()[0]
    actor = await actor_for(session, person, commune) if person is not None else None
    if actor is None or not actor.roles.is_staff:
        who = team_repo.actor_of(person_id) if person_id else "web:anonymous"
        team_repo.audit(session, who, "web.sign_in", commune.id, at=now, succeeded=False)
        return None
    cookie, csrf = await web_repo.open_session(session, actor.id, now)
    team_repo.audit(session, actor.audit_name, "web.sign_in", commune.id, at=now)
    return Opened(actor, cookie, csrf)


async def sign_out(session: AsyncSession, actor: Actor, commune: CommuneRef, now: datetime) -> int:
    """End every web session of the actor; audited."""
    ended = await web_repo.end_sessions(session, actor.id, now)
    team_repo.audit(session, actor.audit_name, "web.sign_out", commune.id, at=now, ended=ended)
    return ended
