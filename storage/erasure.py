"""Deleting a person's data (/xoadulieu), and not keeping sent messages' words.

`delete_person_data` is the one service chat (and any later web or CLI path) calls. It
clears every column `storage.personal_data.PERSONAL` lists, for the person and for any
learner merged into them (/lienket), and keeps the pseudonymous id so that the anonymous
event log still counts them (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo, resume
from storage.delivery_models import CodeAttempt, FileDownload, LinkCode, OutboxMessage
from storage.models import ChannelAccount, Person, ProcessedUpdate
from storage.team_models import AssistedLearning, AuditEntry, StaffRole, SupportVisit, TeamQuestion
from storage.team_repo import forget_team_data

UNSENT = ("pending", "sending")
FINISHED = ("sent", "blocked", "failed", "expired")
BLANK_PAYLOAD: dict[str, Any] = {"messages": []}
# Outbox keys of messages quoting a resident's question: to the team, to the admins on
# escalation, to the resident (escalated, answered). See bot/team/questions.py.
QUESTION_KEYS = ("q", "qesc", "qescr", "qa")


async def delete_person_data(
    session: AsyncSession, person: Person, *, at: datetime, channel: str, notice_version: str
) -> None:
    """The resident asked to delete their data: count the deletion (anonymously), record
    the withdrawn consent, then erase."""
    await repo.add_event(session, person=person, kind="data_deleted", channel=channel, at=at)
    await repo.add_consent(session, person.id, notice_version, "withdrawn", at)
    await erase_person(session, person, at)


async def erase_person(session: AsyncSession, person: Person, at: datetime) -> None:
    """Clear what identifies `person` everywhere; ids, times and counts stay."""
    merged = await session.scalars(
        select(Person.id).where(Person.merged_into_person_id == person.id)
    )
    ids = [person.id, *merged]
    person.display_name = None
    person.phone = None
    person.age_group = None
    person.source = None
    person.deleted_at = at
    await forget_team_data(session, person, at)
    await session.execute(
        update(TeamQuestion).where(TeamQuestion.person_id.in_(ids)).values(text="", answer=None)
    )
    accounts = list(
        await session.scalars(select(ChannelAccount).where(ChannelAccount.person_id.in_(ids)))
    )
    addresses = [(a.channel, a.external_id) for a in accounts]
    await _forget_messages(session, ids, addresses)
    await _forget_staff_traces(session, person, ids)
    if addresses:
        await session.execute(delete(CodeAttempt).where(_addressed(CodeAttempt, addresses)))
        # Replies kept for re-sending after a crash (storage/replies.py), still unsent.
        await session.execute(
            update(ProcessedUpdate)
            .where(
                or_(
                    false(),
                    *(
                        and_(ProcessedUpdate.channel == ch, ProcessedUpdate.reply_to == ext)
                        for ch, ext in addresses
                    ),
                )
            )
            .values(reply=None, reply_to=None)
        )
    await session.execute(delete(LinkCode).where(LinkCode.person_id.in_(ids)))
    for pid in ids:
        await resume.drop_all(session, pid)  # a paused visit entry names a household
    for account in accounts:
        await session.delete(account)


def _addressed(table: Any, addresses: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    return or_(
        false(),
        *(and_(table.channel == ch, table.external_id == ext) for ch, ext in addresses),
    )


async def _forget_messages(
    session: AsyncSession, ids: Sequence[int], addresses: Sequence[tuple[str, str]]
) -> None:
    """Outbox rows to them, or quoting their questions: unsent ones are withdrawn (the
    recipient is gone, or the question is), sent ones keep only status and dedupe key."""
    questions = list(
        await session.scalars(select(TeamQuestion.id).where(TeamQuestion.person_id.in_(ids)))
    )
    to_them = _addressed(OutboxMessage, addresses)
    about_them = or_(
        false(),
        *(
            OutboxMessage.dedupe_key.like(f"{prefix}:{qid}:%")
            for qid in questions
            for prefix in QUESTION_KEYS
        ),
    )
    await session.execute(
        delete(OutboxMessage).where(or_(to_them, about_them), OutboxMessage.status.in_(UNSENT))
    )
    await session.execute(update(OutboxMessage).where(about_them).values(payload=BLANK_PAYLOAD))
    await session.execute(
        update(OutboxMessage).where(to_them).values(payload=BLANK_PAYLOAD, external_id="")
    )


async def _forget_staff_traces(session: AsyncSession, person: Person, ids: Sequence[int]) -> None:
    """What a team member or admin left with their name or words on it."""
    was_staff = await session.scalar(
        select(StaffRole.id).where(StaffRole.person_id.in_(ids)).limit(1)
    )
    await session.execute(
        update(StaffRole).where(StaffRole.person_id.in_(ids)).values(referral_code=None)
    )
    await session.execute(
        update(SupportVisit).where(SupportVisit.member_person_id.in_(ids)).values(note=None)
    )
    assisted = await session.scalars(
        select(AssistedLearning).where(AssistedLearning.member_person_id.in_(ids))
    )
    for row in assisted:  # a hash still counts distinct learners, and names no one
        if not row.learner_key.startswith("h:"):
            row.learner_key = "h:" + hashlib.sha256(row.learner_key.encode()).hexdigest()[:60]
    # Reports list team members by name: files of their commune still downloadable go.
    files = FileDownload.person_id.in_(ids)
    if was_staff is not None:
        files = or_(files, FileDownload.commune_id == person.commune_id)
    await session.execute(delete(FileDownload).where(files))
    await _forget_admin_invite_names(session, ids)


async def _forget_admin_invite_names(session: AsyncSession, ids: Sequence[int]) -> None:
    """`hocvuso admin add --name` keeps the name on the invite's audit entry; the
    person who claimed that invite is found through their own claim entry."""
    actors = [f"person:{i}" for i in ids]
    claims = await session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.actor.in_(actors), AuditEntry.action == "invite.claim"
        )
    )
    invite_ids = {d.get("invite_id") for d in claims if isinstance(d, dict)} - {None}
    if not invite_ids:
        return
    created = await session.scalars(select(AuditEntry).where(AuditEntry.action == "invite.create"))
    for entry in created:
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        if detail.get("invite_id") in invite_ids and "name" in detail:
            entry.detail = {k: v for k, v in detail.items() if k != "name"}


async def blank_finished_messages(session: AsyncSession) -> int:
    """Housekeeping: a message that was sent (or given up on) needs only its status and
    dedupe key; its words and its recipient's messenger id go."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status.in_(FINISHED), OutboxMessage.external_id != "")
        .values(payload=BLANK_PAYLOAD, external_id="")
    )
    return int(result.rowcount or 0)
