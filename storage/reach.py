"""Who a message to residents can reach, and why the others cannot.

The broadcast preview shows this before anything is sent, so an admin sees the
difference between "nobody has registered" and "2,000 registered residents, none of
them on a channel the bot can write to" (residents entered by the team, a demo)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.channel_traits import messenger_of
from storage.models import ChannelAccount, Person, Village
from storage.team_repo import deliverable_channels


@dataclass(frozen=True)
class Reach:
    registered: int  # residents in the target (consented, not deleted, not merged)
    reachable: int  # of those, with an account the bot can write to
    blocked: int  # every account they have blocked the bot
    no_account: int  # no account on any channel the bot delivers on
    no_village: int  # registered in the commune without a village (whole commune only)
    accounts: dict[str, int] = field(default_factory=dict)  # reachable accounts by channel

    @property
    def unreachable(self) -> int:
        return self.blocked + self.no_account + self.no_village


async def of_residents(
    session: AsyncSession, commune_id: int, village_ids: Sequence[int] | None
) -> Reach:
    """Reach of the residents of `village_ids` (None: the whole commune)."""
    alive = and_(Person.deleted_at.is_(None), Person.merged_into_person_id.is_(None))
    placed = select(Person.id).join(Village, Village.id == Person.village_id)
    placed = placed.where(Village.commune_id == commune_id, alive)
    if village_ids is not None:
        placed = placed.where(Person.village_id.in_(list(village_ids)))
    people = placed.subquery()
    deliverable = and_(
        ChannelAccount.person_id == people.c.id, ChannelAccount.channel.in_(deliverable_channels())
    )
    active = exists().where(deliverable, ChannelAccount.active.is_(True))
    any_account = exists().where(deliverable)

    async def count(*where: object) -> int:
        query = select(func.count()).select_from(people).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)

    by_channel = (
        await session.execute(
            select(ChannelAccount.channel, func.count())
            .join(people, people.c.id == ChannelAccount.person_id)
            .where(
                ChannelAccount.channel.in_(deliverable_channels()),
                ChannelAccount.active.is_(True),
            )
            .group_by(ChannelAccount.channel)
        )
    ).all()
    accounts: dict[str, int] = {}  # by messenger: two Telegram bots are one "Telegram"
    for channel, n in by_channel:
        kind = messenger_of(channel)
        accounts[kind] = accounts.get(kind, 0) + n
    no_village = 0
    if village_ids is None:
        no_village = int(
            await session.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.commune_id == commune_id, Person.village_id.is_(None), alive)
            )
            or 0
        )
    return Reach(
        registered=await count(),
        reachable=await count(active),
        blocked=await count(any_account, ~active),
        no_account=await count(~any_account),
        no_village=no_village,
        accounts={str(k): int(v) for k, v in accounts.items()},
    )
