"""Test helpers: a controllable clock, an app on a given database, a scripted chat."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App, build_app
from bot.core.messages import Inbound, Kind, Outbound, Reply
from config.settings import DatabaseSettings, FairUseSettings, Settings
from storage.models import ParticipationEvent

ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def make_app(db_url: str, tmp_path: Path, clock: FakeClock | None = None, **settings) -> App:
    overrides: dict = {"rng": random.Random(7)}
    if clock is not None:
        overrides["clock"] = clock
    # Scripted residents answer far faster than people can: only tests of the fair-use
    # throttle itself keep its real limits.
    settings.setdefault("fair_use", FairUseSettings(messages_per_second=1000, burst=1000))
    config = Settings(data_dir=tmp_path / "data", database=DatabaseSettings(url=db_url), **settings)
    return await build_app(config, services_overrides=overrides)


@dataclass
class Chat:
    """One resident talking to the engine, as a channel would deliver it."""

    app: App
    user: str = "u1"
    channel: str = "console"
    name: str = "Bà Lan"
    replies: list[Reply] = field(default_factory=list)
    _update: int = 0

    async def send(
        self,
        kind: Kind,
        *,
        text: str | None = None,
        payload: str | None = None,
        update_key: str | None = None,
    ) -> Reply:
        self._update += 1
        inbound = Inbound(
            channel=self.channel,
            user_id=self.user,
            kind=kind,
            text=text,
            payload=payload,
            display_name=self.name,
            update_key=update_key,
        )
        reply = await self.app.engine.handle(inbound)
        self.replies.append(reply)
        return reply

    async def start(self, payload: str | None = None) -> Reply:
        return await self.send(Kind.START, payload=payload)

    async def text(self, value: str, **kw) -> Reply:
        return await self.send(Kind.TEXT, text=value, **kw)

    async def choose(self, choice_id: str, **kw) -> Reply:
        return await self.send(Kind.CHOICE, payload=choice_id, **kw)

    @property
    def last(self) -> Outbound:
        return self.replies[-1].messages[-1]

    @property
    def choice_ids(self) -> list[str]:
        return [c.id for c in self.last.choices]

    def all_text(self) -> str:
        return "\n".join(m.text for m in self.replies[-1].messages)

    async def onboard(self, village: str = "v:T01", age: str = "age:tu60") -> None:
        await self.start()
        await self.choose("agree")
        await self.choose(village)
        await self.choose(age)

    async def take_quiz(self, lesson_id: str, *, correct: int | None = None) -> None:
        """Answer the open quiz: the first `correct` questions right, the rest wrong."""
        quiz = self.app.engine.services.curriculum.quizzes[lesson_id]
        for n, question in enumerate(quiz.questions):
            right = question.options[question.correct_index].text
            want_right = correct is None or n < correct
            pick = next(c.id for c in self.last.choices if (c.label == right) == want_right)
            await self.choose(pick)

    async def read_lesson(self, lesson_id: str) -> None:
        """Open a lesson from the menu, read every card and open its quiz."""
        await self.text("/menu")
        await self.choose("catalogue")
        lesson = self.app.engine.services.curriculum.lessons[lesson_id]
        await self.choose(f"t:{lesson.topic}")
        await self.choose(f"l:{lesson_id}")
        while "next" in self.choice_ids:
            await self.choose("next")
        await self.choose("quiz")


async def events(app: App, person_id: int | None = None) -> list[ParticipationEvent]:
    async with app.database.session() as session:
        query = select(ParticipationEvent).order_by(ParticipationEvent.id)
        if person_id is not None:
            query = query.where(ParticipationEvent.person_id == person_id)
        return list(await session.scalars(query))
