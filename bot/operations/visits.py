"""Logging a household support visit: the chat's visit screens and the web's
"Hộ gia đình" page both save through `log_visit`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import CommuneRef
from bot.core.texts import Texts
from bot.team import verification
from storage import team_repo
from storage.models import Village
from storage.team_models import VISIT_SERVICES, Household, SupportVisit

from . import Actor, NotAllowed

ACTION = "log_visit"
MAX_NOTE = 500


class BadVisit(ValueError):
    """No known service was chosen, or the note is too long."""


@dataclass(frozen=True)
class LoggedVisit:
    visit: SupportVisit
    household: Household
    asked: int  # residents of the household asked to confirm it


async def household_for(
    session: AsyncSession, actor: Actor, commune: CommuneRef, household_id: int, action: str
) -> Household:
    """The household, if `actor` may do `action` on it (their own village)."""
    household = await session.get(Household, household_id)
    village = await session.get(Village, household.village_id) if household else None
    if household is None or village is None or not actor.may(commune, action, village):
        raise NotAllowed(action)
    return household


async def log_visit(
    session: AsyncSession,
    actor: Actor,
    commune: CommuneRef,
    *,
    household_id: int,
    services: Sequence[str],
    note: str | None,
    now: datetime,
    texts: Texts,
    tz: ZoneInfo,
) -> LoggedVisit:
    """Save a visit by a member of the household's village team, ask the household to
    confirm it, and audit it."""
    household = await household_for(session, actor, commune, household_id, ACTION)
    team = actor.roles.team
    if team is None:
        raise NotAllowed(ACTION)
    chosen = [s for s in VISIT_SERVICES if s in services]
    if not chosen:
        raise BadVisit("services")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise BadVisit("note")
    visit = SupportVisit(
        household_id=household.id,
        member_person_id=actor.id,
        team_id=team.team_id,
        village_id=household.village_id,
        commune_id=commune.id,
        services=chosen,
        note=note,
        visited_at=now,
    )
    session.add(visit)
    await session.flush()
    asked = await verification.ask_household(session, texts, tz, visit, now)
    team_repo.audit(
        session,
        actor.audit_name,
        "visit.log",
        commune.id,
        at=now,
        visit_id=visit.id,
        household=household.code,
        services=chosen,
    )
    return LoggedVisit(visit, household, asked)
