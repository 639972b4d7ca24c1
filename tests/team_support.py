"""Helpers for the team, admin, question and broadcast tests: people with roles,
households, and a look into the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.core.messages import Outbound
from storage import outbox, team_repo
from storage.delivery_models import OutboxMessage
from storage.models import ChannelAccount, Person, Village
from storage.team_models import Household
from tests.support import Chat

ROLE_NAMES = ("resident", "member", "leader", "commune_admin", "deployment_admin")


async def person_of(app: App, chat: Chat) -> Person:
    async with app.database.session() as session:
        account = await session.scalar(
            select(ChannelAccount).where(
                ChannelAccount.channel == chat.channel, ChannelAccount.external_id == chat.user
            )
        )
        assert account is not None and account.person_id is not None, "not onboarded"
        person = await session.get(Person, account.person_id)
        assert person is not None
        return person


async def grant(app: App, chat: Chat, role: str, team_code: str | None = None) -> None:
    """Give an onboarded chat a role directly (invites are tested on their own)."""
    if role == "resident":
        return
    commune_id = app.engine.services.communes.only.id
    person = await person_of(app, chat)
    async with app.database.transaction() as session:
        team = await team_repo.team_by_code(session, commune_id, team_code) if team_code else None
        await team_repo.grant_role(
            session,
            person_id=person.id,
            role=role,
            commune_id=None if role == "deployment_admin" else commune_id,
            team_id=team.id if team else None,
            now=app.engine.services.clock(),
        )
        if team is not None:
            row = await session.get(Person, person.id)
            row.village_id = team.village_id


async def onboarded(
    app: App, user: str, role: str = "resident", *, village: str = "T01", name: str = "Lan"
) -> Chat:
    """A chat that consented and chose `village`, holding `role` (team roles join the
    village's team)."""
    chat = Chat(app, user=user, name=name)
    await chat.onboard(village=f"v:{village}")
    team = f"TCN-{village}" if role in ("member", "leader") else None
    await grant(app, chat, role, team)
    return chat


async def add_households(app: App, village: str, rows: list[tuple[str, str | None]]) -> list[int]:
    commune_id = app.engine.services.communes.only.id
    ids = []
    async with app.database.transaction() as session:
        v = await team_repo.village_by_code(session, commune_id, village)
        assert v is not None
        for code, head in rows:
            household = await team_repo.add_household(
                session, v.id, code, head, app.engine.services.clock()
            )
            ids.append(household.id)
    return ids


async def village_id(app: App, code: str) -> int:
    async with app.database.session() as session:
        village = await team_repo.village_by_code(
            session, app.engine.services.communes.only.id, code
        )
        assert village is not None
        return village.id


async def household_id(app: App, village: str, code: str) -> int:
    async with app.database.session() as session:
        row = await session.scalar(
            select(Household)
            .join(Village, Village.id == Household.village_id)
            .where(Village.code == village, Household.code == code)
        )
        assert row is not None
        return row.id


async def resident_code(app: App, village: str, code: str) -> str:
    """The random code the team hands to household `code` of `village`, typed in /ho."""
    async with app.database.session() as session:
        row = await session.scalar(
            select(Household.resident_code)
            .join(Village, Village.id == Household.village_id)
            .where(Village.code == village, Household.code == code)
        )
        assert row is not None
        return row


async def queued(app: App, chat: Chat | None = None, kind: str | None = None) -> list[Any]:
    """Outbox rows (optionally for one chat, one kind), oldest first."""
    async with app.database.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat is not None:
            query = query.where(
                OutboxMessage.channel == chat.channel, OutboxMessage.external_id == chat.user
            )
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


def texts_of(rows: list[Any]) -> list[str]:
    return [m.text for row in rows for m in outbox.decode(row.payload)]


def messages_of(row: Any) -> list[Outbound]:
    return outbox.decode(row.payload)


async def seed_residents(
    app: App,
    n: int,
    *,
    villages: tuple[str, ...] = ("T01",),
    channel: str = "telegram",
    first_id: int = 700_000_001,
    inactive: int = 0,
) -> list[str]:
    """`n` consented residents with one account each (ids from `first_id`), spread over
    `villages`; the last `inactive` accounts have blocked the bot. Returns the ids."""
    now = app.engine.services.clock()
    commune_id = app.engine.services.communes.only.id
    async with app.database.transaction() as session:
        village_ids = [
            (await team_repo.village_by_code(session, commune_id, code)).id for code in villages
        ]
        people = [
            Person(
                commune_id=commune_id,
                display_name=f"Người dân {k}",
                village_id=village_ids[k % len(village_ids)],
                created_at=now,
            )
            for k in range(n)
        ]
        session.add_all(people)
        await session.flush()
        ids = [str(first_id + k) for k in range(n)]
        session.add_all(
            ChannelAccount(
                channel=channel,
                external_id=external_id,
                person_id=person.id,
                screen={"name": "menu", "args": {}, "offered": []},
                active=k < n - inactive,
                created_at=now,
                last_seen_at=now,
            )
            for k, (person, external_id) in enumerate(zip(people, ids, strict=True))
        )
    return ids


async def seed_admin(app: App, external_id: str, channel: str = "telegram") -> int:
    """A commune admin living in no village (so not a broadcast recipient)."""
    now = app.engine.services.clock()
    commune_id = app.engine.services.communes.only.id
    async with app.database.transaction() as session:
        person = Person(commune_id=commune_id, display_name="Cán bộ", created_at=now)
        session.add(person)
        await session.flush()
        session.add(
            ChannelAccount(
                channel=channel,
                external_id=external_id,
                person_id=person.id,
                screen={},
                active=True,
                created_at=now,
                last_seen_at=now,
            )
        )
        await team_repo.grant_role(
            session,
            person_id=person.id,
            role="commune_admin",
            commune_id=commune_id,
            team_id=None,
            now=now,
        )
        return person.id
