"""Invite codes: created by an admin (chat or CLI) or a team leader, claimed in chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage import team_repo
from storage.models import Team
from storage.team_models import ROLES, Invite

from .links import INVITE_PREFIX, deep_link

MAX_USES = 100
MAX_DAYS = 90


class InviteError(ValueError):
    """An invite that cannot be made (unknown role, a team role without a team...)."""


@dataclass(frozen=True)
class InviteInfo:
    code: str
    payload: str  # what to send the bot: `inv_<code>`
    link: str | None  # Telegram deep link, when the bot's username is known
    role: str
    team: str | None
    uses: int
    expires_at: datetime


async def create_invite(
    session: AsyncSession,
    *,
    role: str,
    commune_id: int,
    team: Team | None,
    uses: int,
    days: int,
    actor: str,
    now: datetime,
    username: str | None = None,
    **detail: object,
) -> InviteInfo:
    """Make an invite and log who made it. Team roles need a team of the same commune."""
    if role not in ROLES:
        raise InviteError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role in team_repo.TEAM_ROLES and team is None:
        raise InviteError(f"a {role} invite needs a team")
    if team is not None and team.commune_id != commune_id:
        raise InviteError("the team belongs to another commune")
    if not 1 <= uses <= MAX_USES:
        raise InviteError(f"uses must be between 1 and {MAX_USES}")
    if not 1 <= days <= MAX_DAYS:
        raise InviteError(f"days must be between 1 and {MAX_DAYS}")
    invite = await team_repo.create_invite(
        session,
        role=role,
        commune_id=commune_id,
        team_id=team.id if team and role in team_repo.TEAM_ROLES else None,
        uses=uses,
        expires_at=now + timedelta(days=days),
        created_by=actor,
        now=now,
    )
    team_repo.audit(
        session,
        actor,
        "invite.create",
        commune_id,
        at=now,
        invite_id=invite.id,
        role=role,
        team=team.code if team else None,
        uses=uses,
        days=days,
        **detail,
    )
    return describe(invite, team.code if team else None, username)


def describe(invite: Invite, team_code: str | None, username: str | None) -> InviteInfo:
    payload = f"{INVITE_PREFIX}{invite.code}"
    return InviteInfo(
        code=invite.code,
        payload=payload,
        link=deep_link(payload, username),
        role=invite.role,
        team=team_code,
        uses=invite.uses_left,
        expires_at=invite.expires_at,
    )
