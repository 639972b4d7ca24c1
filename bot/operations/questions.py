"""Residents' questions to the team: who may answer which, and answering one (relayed
to the resident like a chat answer). Used by /cauhoi and the web's "Câu hỏi" page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import CommuneRef
from bot.core.texts import Texts
from bot.team import questions as question_service
from storage import team_repo
from storage.models import Village
from storage.team_models import TeamQuestion

from . import Actor, NotAllowed

__all__ = ["NotAllowed", "AlreadyAnswered", "answer_question", "answerable", "may_answer"]

ACTION = "answer_questions"
MAX_ANSWER = 1000


class AlreadyAnswered(Exception):
    """Someone answered first; the resident got theirs."""


async def _team_village(session: AsyncSession, actor: Actor) -> Village | None:
    team = actor.roles.team
    return await session.get(Village, team.village_id) if team and team.village_id else None


async def may_answer(
    session: AsyncSession, actor: Actor, commune: CommuneRef, question: TeamQuestion | None
) -> bool:
    """Admins answer any question of their commune; team members their team's."""
    if question is None or question.commune_id != commune.id:
        return False
    if actor.roles.is_admin and actor.may(commune, ACTION):
        return True
    team = actor.roles.team
    village = await _team_village(session, actor)
    return (
        team is not None
        and village is not None
        and question.team_id == team.team_id
        and actor.may(commune, ACTION, village)
    )


async def answerable(
    session: AsyncSession, actor: Actor, commune: CommuneRef, *, limit: int = 20
) -> list[TeamQuestion]:
    """Open questions `actor` may answer: their team's, and for admins those escalated
    to the commune; oldest first."""
    found: dict[int, TeamQuestion] = {}
    team = actor.roles.team
    village = await _team_village(session, actor)
    if team is not None and village is not None and actor.may(commune, ACTION, village):
        for q in await team_repo.open_questions(
            session, commune_id=commune.id, team_id=team.team_id, limit=limit
        ):
            found[q.id] = q
    if actor.roles.is_admin and actor.may(commune, ACTION):
        for q in await team_repo.open_questions(
            session, commune_id=commune.id, escalated_only=True, limit=limit
        ):
            found[q.id] = q
    return sorted(found.values(), key=lambda q: q.asked_at)


async def answer_question(
    session: AsyncSession,
    actor: Actor,
    commune: CommuneRef,
    *,
    question_id: int,
    text: str,
    now: datetime,
    texts: Texts,
) -> TeamQuestion:
    """Record the answer and relay it to the resident; audited. Raises NotAllowed,
    AlreadyAnswered, or ValueError for an empty or too long answer."""
    question = await session.get(TeamQuestion, question_id)
    if question is None or not await may_answer(session, actor, commune, question):
        raise NotAllowed(ACTION)
    text = text.strip()
    if not text or len(text) > MAX_ANSWER:
        raise ValueError("answer")
    if question.answered_at is not None or not await question_service.answer(
        session, texts, question, answer_text=text, by=actor.id, now=now
    ):
        raise AlreadyAnswered()
    team_repo.audit(
        session, actor.audit_name, "question.answer", commune.id, at=now, question_id=question.id
    )
    return question
