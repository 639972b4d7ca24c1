"""The role matrix, enforced in the core: every privileged action tried by every role.

Each attempt goes through the engine the way a forged button or a stale screen would:
the account's screen state is set to the screen that offers the action, then the
choice (or typed text) is sent. Only the roles the matrix allows get the effect; the
others get "không có quyền" and nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.core.roles import ACTIONS, ALL_ROLES, MATRIX
from storage import team_repo
from storage.delivery_models import Broadcast
from storage.models import ChannelAccount, Person
from storage.team_models import (
    AssistedLearning,
    AuditEntry,
    Invite,
    StaffRole,
    SupportVisit,
    TeamQuestion,
)
from tests.support import Chat, make_app
from tests.team_support import (
    add_households,
    household_id,
    onboarded,
    person_of,
    resident_code,
    village_id,
)

DENIED = "không có quyền"


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def force_screen(app, chat: Chat, name: str, offered: list[str] = (), **args: Any) -> None:
    """Put the chat on `name` offering `offered`, as a stale screen or forged state would."""
    async with app.database.transaction() as session:
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.channel == chat.channel, ChannelAccount.external_id == chat.user)
            .values(screen={"name": name, "args": args, "offered": [[c, c] for c in offered]})
        )


async def count(app, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


@dataclass
class World:
    app: Any
    chats: dict[str, Chat]
    household: int
    t01: int
    t02: int


@pytest.fixture
async def world(app) -> World:
    await add_households(app, "T01", [("H001", "Lê Văn Cường"), ("H002", "Trần Thị Bình")])
    chats = {role: await onboarded(app, f"u-{role}", role) for role in ALL_ROLES}
    return World(
        app,
        chats,
        await household_id(app, "T01", "H001"),
        await village_id(app, "T01"),
        await village_id(app, "T02"),
    )


# One attempt per action: do it as `chat`, return how much the effect grew (0 = nothing).
Attempt = Callable[[World, Chat], Awaitable[int]]


async def _ask_team(w: World, chat: Chat) -> int:
    before = await count(w.app, TeamQuestion)
    await chat.text("/hoicanbo")
    await chat.text("Làm sao để cài VNeID ạ?")
    return await count(w.app, TeamQuestion) - before


async def _set_household(w: World, chat: Chat) -> int:
    await chat.text("/ho")
    await chat.text(await resident_code(w.app, "T01", "H002"))
    person = await person_of(w.app, chat)
    return int(person.household_id is not None)


async def _team_tools(w: World, chat: Chat) -> int:
    await chat.text("/to")
    return int(chat.last.text.startswith("🧰"))


async def _referral(w: World, chat: Chat) -> int:
    await force_screen(w.app, chat, "team", ["referral"])
    await chat.choose("referral")
    return int(chat.last.image is not None)


async def _log_visit(w: World, chat: Chat) -> int:
    before = await count(w.app, SupportVisit)
    await force_screen(
        w.app, chat, "team_visit_note", ["skip"], household=w.household, services=["cashless"]
    )
    await chat.choose("skip")
    return await count(w.app, SupportVisit) - before


async def _assisted(w: World, chat: Chat) -> int:
    before = await count(w.app, AssistedLearning)
    lesson = next(iter(w.app.engine.services.curriculum.lessons))
    await force_screen(
        w.app, chat, "team_assisted_lesson", [f"l:{lesson}"], household=w.household, label="Bà Năm"
    )
    await chat.choose(f"l:{lesson}")
    return await count(w.app, AssistedLearning) - before


async def _answer(w: World, chat: Chat) -> int:
    asker = w.chats["resident"]
    await asker.text("/hoicanbo")
    await asker.text(f"Câu hỏi cho {chat.user}")
    async with w.app.database.session() as session:
        question = await session.scalar(select(TeamQuestion).order_by(TeamQuestion.id.desc()))
    await force_screen(w.app, chat, "team_answer", ["cancel"], question=question.id)
    await chat.text("Bạn mở ứng dụng VNeID rồi làm theo hướng dẫn nhé.")
    return await count(
        w.app, TeamQuestion, TeamQuestion.id == question.id, TeamQuestion.answered_at.is_not(None)
    )


async def _village_view(w: World, chat: Chat) -> int:
    await force_screen(w.app, chat, "admin_villages", [f"v:{w.t01}"])
    await chat.choose(f"v:{w.t01}")
    return int(chat.last.text.startswith("📊"))


async def _team_members(w: World, chat: Chat) -> int:
    await force_screen(w.app, chat, "team", ["members"])
    await chat.choose("members")
    return int(chat.last.text.startswith("👥"))


def _invite(role: str, team: bool) -> Attempt:
    async def attempt(w: World, chat: Chat) -> int:
        before = await count(w.app, Invite)
        team_id = None
        if team:
            async with w.app.database.session() as session:
                row = await team_repo.team_by_code(
                    session, w.app.engine.services.communes.only.id, "TCN-T01"
                )
                team_id = row.id
        await force_screen(w.app, chat, "invite_uses", ["u:1"], role=role, team=team_id)
        await chat.choose("u:1")
        return await count(w.app, Invite) - before

    return attempt


async def _admin_tools(w: World, chat: Chat) -> int:
    await chat.text("/quantri")
    return int(chat.last.text.startswith("🏛"))


async def _broadcast(w: World, chat: Chat) -> int:
    before = await count(w.app, Broadcast)
    await force_screen(w.app, chat, "bc_preview", ["send"], text="Họp thôn tối nay", villages=[])
    await chat.choose("send")
    return await count(w.app, Broadcast) - before


ATTEMPTS: dict[str, Attempt] = {
    "ask_team": _ask_team,
    "set_household": _set_household,
    "team_tools": _team_tools,
    "referral": _referral,
    "log_visit": _log_visit,
    "assisted_learning": _assisted,
    "answer_questions": _answer,
    "village_view": _village_view,
    "team_members": _team_members,
    "invite_member": _invite("member", team=True),
    "invite_leader": _invite("leader", team=True),
    "invite_commune_admin": _invite("commune_admin", team=False),
    "admin_tools": _admin_tools,
    "broadcast": _broadcast,
}


def test_every_action_of_the_matrix_is_tried():
    assert set(ATTEMPTS) == set(ACTIONS)


async def test_the_full_role_matrix(world: World):
    outcome: dict[tuple[str, str], bool] = {}
    for action in ACTIONS:
        for role in ALL_ROLES:
            chat = world.chats[role]
            effect = await ATTEMPTS[action](world, chat)
            outcome[action, role] = effect > 0
            if not outcome[action, role]:
                assert DENIED in chat.all_text(), (action, role, chat.all_text())
    expected = {(a, r): r in MATRIX[a] for a in ACTIONS for r in ALL_ROLES}
    wrong = {key: got for key, got in outcome.items() if got != expected[key]}
    assert not wrong, f"allowed/refused differ from the matrix: {wrong}"


async def test_a_member_sees_and_acts_only_in_their_own_village(world: World):
    app = world.app
    other = await onboarded(app, "u-leader-t02", "leader", village="T02")
    # The village view of another village, through a forged choice.
    await force_screen(app, other, "admin_villages", [f"v:{world.t01}"])
    await other.choose(f"v:{world.t01}")
    assert DENIED in other.all_text()
    await force_screen(app, other, "village_view", ["team"], village=world.t01)
    await other.text("/menu")
    await force_screen(app, other, "admin_villages", [f"v:{world.t02}"])
    await other.choose(f"v:{world.t02}")
    assert other.last.text.startswith("📊 Thôn Tây")
    # A household of another village, however its id got into the screen.
    before = await count(app, SupportVisit)
    await force_screen(
        app, other, "team_visit_note", ["skip"], household=world.household, services=["cashless"]
    )
    await other.choose("skip")
    assert DENIED in other.all_text()
    assert await count(app, SupportVisit) == before
    # The household list shows their own village's households only: T02 has none.
    await other.text("/to")
    await other.choose("visit")
    assert "Lê Văn Cường" not in other.all_text()
    assert "Thôn Tây chưa có danh sách hộ" in other.last.text
    # A leader of T02 cannot invite members to the team of T01.
    async with app.database.session() as session:
        t01_team = await team_repo.team_by_code(
            session, app.engine.services.communes.only.id, "TCN-T01"
        )
    before = await count(app, Invite)
    await force_screen(app, other, "invite_uses", ["u:1"], role="member", team=t01_team.id)
    await other.choose("u:1")
    assert DENIED in other.all_text()
    assert await count(app, Invite) == before


async def test_refused_admin_attempts_are_audited(world: World):
    resident = world.chats["resident"]
    await resident.text("/quantri")
    assert DENIED in resident.all_text()
    person = await person_of(world.app, resident)
    assert (
        await count(
            world.app,
            AuditEntry,
            AuditEntry.action == "denied:admin_tools",
            AuditEntry.actor == f"person:{person.id}",
            AuditEntry.succeeded.is_(False),
        )
        == 1
    )


async def test_a_revoked_role_stops_working_on_a_screen_already_open(world: World):
    app = world.app
    member = world.chats["member"]
    await member.text("/to")
    assert "visit" in member.choice_ids
    person = await person_of(app, member)
    async with app.database.transaction() as session:
        await session.execute(
            update(StaffRole)
            .where(StaffRole.person_id == person.id)
            .values(revoked_at=app.engine.services.clock())
        )
    await member.choose("visit")  # the button is still on their screen
    assert DENIED in member.all_text()


async def test_deleted_people_hold_no_role(world: World):
    app = world.app
    admin = world.chats["commune_admin"]
    async with app.database.transaction() as session:
        person = await session.get(Person, (await person_of(app, admin)).id)
        person.deleted_at = app.engine.services.clock()
    await admin.text("/quantri")
    assert DENIED in admin.all_text()


async def test_main_menu_entries_follow_the_roles(world: World):
    for role, chat in world.chats.items():
        await chat.text("/menu")
        ids = chat.choice_ids
        assert ("team" in ids) == (role in ("member", "leader")), role
        assert ("admin" in ids) == (role in ("commune_admin", "deployment_admin")), role
        assert "ask_team" in ids  # everyone living in a village may ask the team
    assert await count(world.app, AuditEntry) == 0  # showing a menu refuses nothing
    member = world.chats["member"]
    await member.text("/menu")
    async with world.app.database.transaction() as session:
        await session.execute(
            update(StaffRole).values(revoked_at=world.app.engine.services.clock())
        )
    await member.choose("team")  # the entry is still on their screen
    assert not member.last.text.startswith("🧰")
    await member.choose("ask_team")
    assert member.last.text.startswith("💬 Bạn gõ câu hỏi")
