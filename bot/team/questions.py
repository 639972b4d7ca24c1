"""Residents' questions to their village's team, and the answers relayed back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Outbound
from bot.core.texts import Texts
from storage import repo, team_repo
from storage.models import Commune, Person, Team, Village
from storage.team_models import TeamQuestion

from .relay import relay

MAX_OPEN_PER_PERSON = 3
QUOTE_CHARS = 300  # how much of a question is quoted back in notices


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def asker_labels(session: AsyncSession, texts: Texts, person_id: int) -> tuple[str, str]:
    """(name, village) of the person who asked, as the team sees them."""
    person = await session.get(Person, person_id)
    name = (person.display_name if person else None) or texts("questions.anonymous")
    village = (
        await session.get(Village, person.village_id) if person and person.village_id else None
    )
    return name, village.name if village else texts("questions.no_village_name")


async def ask(
    session: AsyncSession, texts: Texts, person: Person, text: str, now: datetime
) -> TeamQuestion:
    """Store the question and relay it to the members of the resident's village team;
    with no team there, it goes straight to the commune's admins."""
    team_id = None
    if person.village_id is not None:
        team_id = await repo.team_for_village(session, person.village_id)
    question = TeamQuestion(
        person_id=person.id,
        commune_id=person.commune_id,
        team_id=team_id,
        text=text,
        asked_at=now,
        escalated_at=None if team_id else now,
    )
    session.add(question)
    await session.flush()
    name, village = await asker_labels(session, texts, person.id)
    if team_id is not None:
        notice = texts("questions.to_team", name=name, village=village, text=quote(text))
        recipients = [p.id for _role, p in await team_repo.team_people(session, team_id)]
    else:
        notice = texts("questions.to_admin", name=name, village=village, text=quote(text))
        recipients = await team_repo.admin_person_ids(session, person.commune_id)
    for person_id in recipients:
        if person_id != person.id:
            await relay(session, person_id, [Outbound(notice)], key=f"q:{question.id}", now=now)
    return question


async def who_answers(session: AsyncSession, texts: Texts, question: TeamQuestion) -> str:
    if question.team_id is not None and question.escalated_at is None:
        team = await session.get(Team, question.team_id)
        village = await session.get(Village, team.village_id) if team else None
        return texts("questions.who_team", village=village.name if village else "")
    commune = await session.get(Commune, question.commune_id)
    return texts("questions.who_commune", commune=commune.name if commune else "")


async def answer(
    session: AsyncSession,
    texts: Texts,
    question: TeamQuestion,
    *,
    answer_text: str,
    by: int,
    now: datetime,
) -> bool:
    """Record the answer and relay it to the resident; False if already answered."""
    if not await team_repo.record_answer(session, question.id, answer=answer_text, by=by, now=now):
        return False
    who = await who_answers(session, texts, question)
    message = texts(
        "questions.answer_to_resident", who=who, question=quote(question.text), answer=answer_text
    )
    await relay(session, question.person_id, [Outbound(message)], key=f"qa:{question.id}", now=now)
    return True
