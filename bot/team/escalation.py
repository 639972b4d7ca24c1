"""Questions nobody answered in time go to the commune's admins (for the scheduler)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from bot.core.messages import Outbound
from bot.core.texts import Texts
from storage import team_repo
from storage.db import Database
from storage.team_models import TeamQuestion

from .options import DEFAULT_ESCALATE_HOURS
from .questions import asker_labels, quote
from .relay import relay

log = logging.getLogger(__name__)


async def escalate_overdue(
    database: Database,
    now: datetime,
    *,
    hours: float = DEFAULT_ESCALATE_HOURS,
    texts: Texts | None = None,
) -> int:
    """Send every question unanswered for `hours` to its commune's admins, once.

    Safe to run from several processes: each question is taken by a conditional UPDATE
    that only one of them wins. Returns how many questions were escalated."""
    texts = texts or Texts.load("vi")
    escalated = 0
    async with database.transaction() as session:
        for question in await team_repo.overdue_questions(session, now - timedelta(hours=hours)):
            taken = await session.execute(
                update(TeamQuestion)
                .where(TeamQuestion.id == question.id, TeamQuestion.escalated_at.is_(None))
                .values(escalated_at=now)
            )
            if taken.rowcount != 1:
                continue
            escalated += 1
            name, village = await asker_labels(session, texts, question.person_id)
            notice = texts(
                "questions.escalated_to_admin",
                hours=f"{hours:g}",
                name=name,
                village=village,
                text=quote(question.text),
            )
            admins = await team_repo.admin_person_ids(session, question.commune_id)
            if not admins:
                log.warning("question %d overdue but the commune has no admin", question.id)
            for admin_id in admins:
                await relay(
                    session, admin_id, [Outbound(notice)], key=f"qesc:{question.id}", now=now
                )
            await relay(
                session,
                question.person_id,
                [Outbound(texts("questions.escalated_to_resident"))],
                key=f"qescr:{question.id}",
                now=now,
            )
    return escalated
