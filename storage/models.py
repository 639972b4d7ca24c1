"""Database tables (SQLAlchemy 2.0, portable between SQLite and PostgreSQL).

The participation event log is append-only and snapshots the person's village and
team at the time of each event; reports are queries over it, so a resident who moves
village or deletes their data leaves past counts unchanged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BigInteger ids on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Commune(Base):
    __tablename__ = "communes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    unit_label: Mapped[str] = mapped_column(String(16))
    launch_date: Mapped[date] = mapped_column(Date)


class Village(Base):
    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("commune_id", "code"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    households_total: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in lists
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Team(Base):
    """A Tổ công nghệ số cộng đồng: one per village."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("commune_id", "code"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    code: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(120))


class Person(Base):
    """A learner. Created only once they consent; personal fields are nullable so that
    deletion can blank them while the id keeps anonymous counts consistent."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    display_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    age_group: Mapped[str | None] = mapped_column(String(16))
    attributed_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    source: Mapped[str | None] = mapped_column(String(64))  # deep-link payload that brought them
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    referred_by_person_id: Mapped[int | None] = mapped_column(Id)  # the member who brought them
    # Set when this learner's accounts were joined to another learner (/lienket):
    # reports count `coalesce(merged_into_person_id, id)` so one person counts once.
    merged_into_person_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelAccount(Base):
    """A messenger account (channel + opaque external id) and its conversation screen.

    Before consent (and after a refusal) `person_id` is empty: the bot keeps only the
    opaque id and the current screen so that it can answer."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # The commune chosen before consent (a bot may serve several); the person's wins after.
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"))
    screen: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: blocked the bot
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentRecord(Base):
    __tablename__ = "consent_records"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    notice_version: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(String(16))  # agreed | refused | withdrawn
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("person_id", "lesson_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    lesson_id: Mapped[str] = mapped_column(String(32))
    card_index: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    lesson_id: Mapped[str] = mapped_column(String(32))
    answers: Mapped[list[Any]] = mapped_column(JSON)  # [{question, chosen, correct}]
    score: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ParticipationEvent(Base):
    """Append-only. Never updated, never deleted: reports are computed from it."""

    __tablename__ = "participation_events"
    __table_args__ = (
        Index("ix_participation_events_commune_time", "commune_id", "occurred_at"),
        Index("ix_participation_events_person_kind", "person_id", "kind"),
        # Covering index for the report queries: SQLite can then group in index order
        # instead of sorting every event (annual report on 1M events: 2.6 s -> 1.8 s).
        Index(
            "ix_participation_events_report",
            "commune_id",
            "person_id",
            "village_id",
            "team_id",
            "kind",
            "lesson_id",
            "occurred_at",
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    person_id: Mapped[int] = mapped_column(Id)  # no FK: survives any future purge
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    channel: Mapped[str] = mapped_column(String(16))
    lesson_id: Mapped[str | None] = mapped_column(String(32))


class ProcessedUpdate(Base):
    """Inbound updates already handled, so a redelivered update is processed once."""

    __tablename__ = "processed_updates"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The step's rendered reply until the channel confirms it sent it (then NULL): a
    # redelivery after a crash between commit and send re-sends it instead of nothing.
    reply: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Whom that reply goes to (the account's external id), so deleting a person's data
    # can find their unsent replies.
    reply_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
