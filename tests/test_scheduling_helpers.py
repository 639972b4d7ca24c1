"""Helpers shared by the scheduling tests (no tests here; the name keeps it with them).

Times: the conftest clock starts on Friday 20/11/2026 at 10:00 local (03:00 UTC).
Residents are onboarded through the engine on the Telegram channel, so their accounts
are reachable by scheduled messages.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App
from storage.delivery_models import OutboxMessage, ReminderState
from storage.models import ChannelAccount, LessonProgress, Team
from storage.team_models import StaffRole
from tests.support import Chat, FakeClock, make_app

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# For tests whose SQL is already covered on both backends by another test: SQLite only,
# to keep the suite fast. (Overrides the parameters of conftest's `db_url` fixture.)
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An aware UTC time for a Vietnam local wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(UTC)


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def resident(app: App, user: str, village: str = "v:T01", name: str = "Bà Lan") -> Chat:
    chat = Chat(app, user=user, channel="telegram", name=name)
    await chat.onboard(village=village)
    return chat


async def person_of(app: App, user: str, channel: str = "telegram") -> int:
    async with app.database.session() as session:
        return await session.scalar(
            select(ChannelAccount.person_id).where(
                ChannelAccount.channel == channel, ChannelAccount.external_id == user
            )
        )


async def account_of(app: App, user: str, channel: str = "telegram") -> ChannelAccount:
    async with app.database.session() as session:
        return await session.scalar(
            select(ChannelAccount).where(
                ChannelAccount.channel == channel, ChannelAccount.external_id == user
            )
        )


async def outbox(app: App, kind: str | None = None) -> list[OutboxMessage]:
    async with app.database.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


async def recipients(app: App, kind: str) -> Counter:
    return Counter(row.external_id for row in await outbox(app, kind))


async def reminder(app: App, user: str) -> ReminderState | None:
    async with app.database.session() as session:
        return await session.get(ReminderState, await person_of(app, user))


async def make_staff(
    app: App,
    clock: FakeClock,
    user: str,
    role: str,
    team_code: str | None = None,
    village: str = "v:T01",
) -> int:
    """A person who consented (through the engine) and holds a staff role."""
    chat = Chat(app, user=user, channel="telegram", name="Cán bộ")
    await chat.onboard(village=village)
    person_id = await person_of(app, user)
    async with app.database.transaction() as session:
        team_id = None
        if team_code is not None:
            team_id = await session.scalar(select(Team.id).where(Team.code == team_code))
        session.add(
            StaffRole(
                person_id=person_id,
                role=role,
                commune_id=app.engine.services.communes.only.id,
                team_id=team_id,
                created_at=clock(),
            )
        )
    return person_id


async def pass_everything(app: App, user: str, at: datetime) -> None:
    person_id = await person_of(app, user)
    async with app.database.transaction() as session:
        for lesson_id in app.engine.services.curriculum.lessons:
            session.add(
                LessonProgress(
                    person_id=person_id,
                    lesson_id=lesson_id,
                    card_index=0,
                    started_at=at,
                    completed_at=at,
                    passed_at=at,
                )
            )
