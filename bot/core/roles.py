"""Who may do what: the role matrix, role lookup and the guards built on them.

Every privileged action is checked here, in the core, both when a command opens a
screen and again inside the screen's `choose()`: a forged choice id or a stale screen
must not get past what a hidden menu entry would have kept out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Context
from storage import team_repo
from storage.models import Person, Village

RESIDENT = "resident"
MEMBER = "member"
LEADER = "leader"
COMMUNE_ADMIN = "commune_admin"
DEPLOYMENT_ADMIN = "deployment_admin"
ALL_ROLES = (RESIDENT, MEMBER, LEADER, COMMUNE_ADMIN, DEPLOYMENT_ADMIN)

# The role matrix: "x" allowed, "." not. Team roles act only in their own team's village;
# admins act in any village of a commune they serve.
_MATRIX_TABLE = """
action                 resident member leader commune_admin deployment_admin
ask_team               x        x      x      x             x
set_household          x        x      x      x             x
team_tools             .        x      x      .             .
referral               .        x      x      .             .
log_visit              .        x      x      .             .
assisted_learning      .        x      x      .             .
answer_questions       .        x      x      x             x
village_view           .        x      x      x             x
team_members           .        .      x      .             .
invite_member          .        .      x      x             x
invite_leader          .        .      .      x             x
invite_commune_admin   .        .      .      .             x
admin_tools            .        .      .      x             x
broadcast              .        .      .      x             x
"""


def _parse(table: str) -> dict[str, frozenset[str]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    assert tuple(header) == ALL_ROLES, header
    return {
        row[0]: frozenset(r for r, mark in zip(header, row[1:], strict=True) if mark == "x")
        for row in rows
    }


MATRIX: dict[str, frozenset[str]] = _parse(_MATRIX_TABLE)
ACTIONS = tuple(MATRIX)

# Which role may invite to which role.
INVITE_ACTION = {
    MEMBER: "invite_member",
    LEADER: "invite_leader",
    COMMUNE_ADMIN: "invite_commune_admin",
}


@dataclass(frozen=True)
class Grant:
    """One role a person holds, with where it applies."""

    role: str
    commune_id: int | None  # None: every commune of the deployment
    team_id: int | None = None
    village_id: int | None = None  # set for team roles: their team's village

    def covers(self, commune_id: int, village_id: int | None) -> bool:
        if self.commune_id is not None and self.commune_id != commune_id:
            return False
        if self.role in (MEMBER, LEADER):
            return village_id is None or village_id == self.village_id
        return True  # residents' actions are their own; admins: any village of the commune


@dataclass(frozen=True)
class Roles:
    grants: tuple[Grant, ...]
    referral_code: str | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    @property
    def team(self) -> Grant | None:
        """The team role (member or leader), if any; leader wins."""
        team = [g for g in self.grants if g.role in (MEMBER, LEADER)]
        team.sort(key=lambda g: g.role != LEADER)
        return team[0] if team else None

    @property
    def is_admin(self) -> bool:
        return bool(self.names & {COMMUNE_ADMIN, DEPLOYMENT_ADMIN})

    @property
    def is_staff(self) -> bool:
        return bool(self.names - {RESIDENT})


async def roles_for(session: AsyncSession, person: Person | None, commune_id: int) -> Roles:
    """The roles `person` holds in the commune `commune_id` (none once deleted)."""
    if person is None or person.deleted_at is not None:
        return Roles(())
    grants = [Grant(RESIDENT, person.commune_id, village_id=person.village_id)]
    referral = None
    for row in await team_repo.active_roles(session, person.id):
        if row.commune_id is not None and row.commune_id != commune_id:
            continue  # a role in another commune gives nothing here
        if row.role in (MEMBER, LEADER) and row.team_id is None:
            continue
        grants.append(Grant(row.role, row.commune_id, row.team_id, row.village_id))
        referral = referral or row.referral_code
    return Roles(tuple(grants), referral)


async def roles_of(ctx: Context) -> Roles:
    """The roles of the person writing, in the commune this bot serves."""
    return await roles_for(ctx.session, ctx.person, ctx.commune.id)


def permitted(
    person: Person | None,
    roles: Roles,
    commune_id: int,
    village: Village | None,
    action: str,
) -> bool:
    """The one permission rule, for chat, web and CLI alike: may `person`, holding
    `roles`, do `action` in `commune_id` (in `village`, when the action is local)?
    Pure: it reads nothing, so a caller passes the village it loaded."""
    allowed = MATRIX[action]  # an unknown action is a bug: fail loudly
    if person is None or person.deleted_at is not None:
        return False
    if village is not None and village.commune_id != commune_id:
        return False
    village_id = village.id if village is not None else None
    return any(g.role in allowed and g.covers(commune_id, village_id) for g in roles.grants)


async def can(ctx: Context, action: str, *, village_id: int | None = None) -> bool:
    """May the person writing do `action` (in `village_id`, when the action is local)?"""
    MATRIX[action]  # an unknown action is a bug: fail loudly, before any query
    village = None
    if village_id is not None:
        village = await ctx.session.get(Village, village_id)
        if village is None:
            return False
    roles = await roles_of(ctx)
    return permitted(ctx.person, roles, ctx.commune.id, village, action)


async def require(ctx: Context, action: str, *, village_id: int | None = None) -> bool:
    """`can`, and when refused: say so, log the attempt and go back to the main menu."""
    if await can(ctx, action, village_id=village_id):
        return True
    deny(ctx, action)
    return False


def deny(ctx: Context, action: str) -> None:
    ctx.say(ctx.t("common.not_allowed"))
    _log_denied(ctx, action)
    ctx.goto("menu")


def _log_denied(ctx: Context, action: str) -> None:
    """Refused attempts at admin-only actions go to the audit log."""
    if ctx.person is None or not MATRIX[action] <= {COMMUNE_ADMIN, DEPLOYMENT_ADMIN}:
        return
    team_repo.audit(
        ctx.session,
        team_repo.actor_of(ctx.person.id),
        f"denied:{action}",
        ctx.commune.id,
        at=ctx.now,
        succeeded=False,
    )


def guard(action: str) -> Callable[[Context], Awaitable[bool]]:
    """A command guard for `command(..., guard=guard("admin_tools"))`."""

    async def check(ctx: Context) -> bool:
        if await can(ctx, action):
            return True
        _log_denied(ctx, action)
        return False

    check.__name__ = f"guard_{action}"
    return check


def allowed(action: str) -> Callable[[Context], Awaitable[bool]]:
    """`can` as a guard that logs nothing: for showing menu entries, not for refusing."""

    async def check(ctx: Context) -> bool:
        return await can(ctx, action)

    check.__name__ = f"allowed_{action}"
    return check
