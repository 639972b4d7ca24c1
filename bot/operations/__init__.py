"""Operations shared by the chat screens, the web pages and the CLI.

Each is a function of (session, actor, commune, ...): it checks the permission with
`bot.core.roles.permitted`, does the work and writes the audit entry, in the caller's
transaction. A chat screen keeps only its conversation (which step comes next, what to
say); a web page only its form and page. So no business rule exists twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import roles as role_rules
from bot.core.context import CommuneRef, Context
from storage import team_repo
from storage.models import Person, Village


class NotAllowed(Exception):
    """The actor may not do this (here): refuse, never half-do it."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class NotFound(NotAllowed):
    """Nothing of that code or number exists, told only to someone who may see all of
    them (an admin): a team member gets NotAllowed either way, so a refusal never tells
    them whether another village exists. `what` names the kind ("village", ...)."""

    def __init__(self, action: str, what: str) -> None:
        super().__init__(action)
        self.what = what


@dataclass(frozen=True)
class Actor:
    """Who acts: the person and the roles they hold in the commune acted on."""

    person: Person
    roles: role_rules.Roles

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def audit_name(self) -> str:
        return team_repo.actor_of(self.person.id)

    def may(self, commune: CommuneRef, action: str, village: Village | None = None) -> bool:
        return role_rules.permitted(self.person, self.roles, commune.id, village, action)

    def require(self, commune: CommuneRef, action: str, village: Village | None = None) -> None:
        if not self.may(commune, action, village):
            raise NotAllowed(action)


async def actor_for(session: AsyncSession, person: Person, commune: CommuneRef) -> Actor:
    return Actor(person, await role_rules.roles_for(session, person, commune.id))


async def actor_in_chat(ctx: Context) -> Actor | None:
    """The person writing as an actor, for a chat screen (None before consent)."""
    if ctx.person is None:
        return None
    return await actor_for(ctx.session, ctx.person, ctx.commune)
