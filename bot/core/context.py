"""What a screen handler works with during one inbound update."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Curriculum
from bot.core.communes import CommuneDirectory, CommuneRef
from bot.core.messages import Choice, Outbound
from bot.core.texts import Texts
from config.settings import SchedulerSettings
from storage import repo
from storage.db import Database
from storage.models import ChannelAccount, Person


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Long-lived dependencies, built once at start and injected into the engine."""

    curriculum: Curriculum
    texts: Texts
    communes: CommuneDirectory  # every commune served, and which bot serves which
    notice_version: str
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    max_text_chars: int = 1000  # longer inbound texts are refused, not stored
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    data_dir: Path = Path("data")  # generated files (QR codes, scheduled reports)
    questions_escalate_hours: float = 48.0
    telegram_username: str | None = None  # learned from getMe when Telegram starts
    # Each Telegram bot's username by bot name: a commune's posters name its own bot.
    telegram_usernames: dict[str, str] = field(default_factory=dict)
    download_base_url: str | None = None  # web.public_url: report links for Zalo
    download_hours: int = 24
    # Where the web dashboard is reached: web.public_url, else http://host:port.
    web_url: str = "http://127.0.0.1:8080"


@dataclass
class Context:
    session: AsyncSession
    services: Services
    account: ChannelAccount
    person: Person | None
    channel: str
    now: datetime
    display_name: str | None = None
    # The commune of this step: the person's, else the account's (None only before a
    # resident of a bot serving several communes has said which is theirs).
    commune_or_none: CommuneRef | None = None
    database: Database | None = None  # for after-commit work only, never inside the step
    out: list[Outbound] = field(default_factory=list)
    next_screen: tuple[str, dict[str, Any]] | None = None
    account_deleted: bool = False
    # Run after the commit, outside the transaction; each returns messages to send.
    after_commit: list[Callable[[], Awaitable[list[Outbound]]]] = field(default_factory=list)

    @property
    def commune(self) -> CommuneRef:
        """The step's commune. Screens past the commune question may rely on it."""
        if self.commune_or_none is None:
            raise LookupError("this step has no commune yet")
        return self.commune_or_none

    def settle_commune(self, commune: CommuneRef) -> None:
        """The resident said (or their code showed) which commune is theirs."""
        self.commune_or_none = commune
        self.account.commune_id = commune.id

    @property
    def t(self) -> Texts:
        return self.services.texts

    def say(self, text: str, *, image: str | None = None) -> None:
        self.out.append(Outbound(text=text, image=image))

    def goto(self, screen: str, **args: Any) -> None:
        self.next_screen = (screen, args)

    def choice(self, choice_id: str, key: str, **values: Any) -> Choice:
        return Choice(choice_id, self.t(key, **values))

    async def record(self, kind: str, *, lesson_id: str | None = None) -> None:
        """Append a participation event snapshotting the person's village and team now."""
        if self.person is None:
            return
        await repo.add_event(
            self.session,
            person=self.person,
            kind=kind,
            channel=self.channel,
            at=self.now,
            lesson_id=lesson_id,
        )
