"""Residents confirm a team's household visit with one tap (Có / Không).

A visit is asked about once: right after it is logged, of the residents already linked
to that household (their conversation moves to the question, and they come back to
where they were after answering); or later, when a resident links their household.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Choice, Outbound
from bot.core.texts import Texts
from storage import outbox, team_repo
from storage.models import Village
from storage.team_models import VISIT_SERVICES, SupportVisit

SCREEN = "visit_confirm"
YES, NO = "vok", "vno"


def service_labels(texts: Texts, services: list[str]) -> str:
    known = [s for s in VISIT_SERVICES if s in services]
    return ", ".join(texts(f"team.services.{s}") for s in known)


async def confirm_message(
    session: AsyncSession, texts: Texts, tz: ZoneInfo, visit: SupportVisit
) -> Outbound:
    village = await session.get(Village, visit.village_id)
    text = texts(
        "team.verify.question",
        village=village.name if village else "",
        date=visit.visited_at.astimezone(tz).strftime("%d/%m/%Y"),
        services=service_labels(texts, visit.services),
    )
    return Outbound(
        text, (Choice(YES, texts("team.verify.yes")), Choice(NO, texts("team.verify.no")))
    )


def confirm_state(message: Outbound, visit_id: int, resume: dict[str, Any]) -> dict[str, Any]:
    """The conversation state that offers the question, remembering where to return."""
    return {
        "name": SCREEN,
        "args": {"visit": visit_id, "resume": resume},
        "offered": [[c.id, c.label] for c in message.choices],
    }


def resume_of(state: dict[str, Any] | None) -> dict[str, Any]:
    state = state or {}
    if state.get("name") == SCREEN:  # already asking: keep the original way back
        return dict(state.get("args", {}).get("resume") or {"name": "menu", "args": {}})
    return {"name": state.get("name") or "menu", "args": state.get("args", {})}


async def ask_household(
    session: AsyncSession, texts: Texts, tz: ZoneInfo, visit: SupportVisit, now: datetime
) -> int:
    """Ask the residents linked to the visited household (never the member who logged
    it). Returns how many were asked; the visit is marked asked if anyone was."""
    message = await confirm_message(session, texts, tz, visit)
    asked = 0
    residents = await team_repo.household_residents(
        session, visit.household_id, exclude=visit.member_person_id
    )
    for person in residents:
        account = await team_repo.latest_account(session, person.id)
        if account is None:
            continue
        account.screen = confirm_state(message, visit.id, resume_of(account.screen))
        await outbox.enqueue(
            session,
            dedupe_key=f"verify:{visit.id}:{account.id}",
            kind="verify",
            channel=account.channel,
            external_id=account.external_id,
            messages=[message],
            now=now,
        )
        asked += 1
    if asked:
        visit.verification_asked_at = now
    return asked
