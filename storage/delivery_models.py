"""Tables for getting messages out and keeping processes in step: the outbox,
broadcasts, account-link codes and the scheduler lease."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, UTCDateTime


class Broadcast(Base):
    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    created_by_person_id: Mapped[int | None] = mapped_column(Id)
    text: Mapped[str] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(500))
    village_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: whole commune
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """One message to one recipient. Durable: a restart resumes where it stopped, and
    `dedupe_key` makes enqueuing the same logical message twice a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_channel_due", "status", "channel", "not_before"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # broadcast | nudge | digest | report | relay
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"messages": [...]} channel-neutral
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # pending | sending | sent | blocked | failed | expired
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    # Not sent by then (e.g. a nudge still queued when quiet hours begin): dropped.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FileDownload(Base):
    """A generated file (a report) fetched by link, for messengers that cannot send
    files (Zalo). Only the token's SHA-256 is stored; the row is deleted once expired."""

    __tablename__ = "file_downloads"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    person_id: Mapped[int] = mapped_column(Id)  # who asked for it (no FK: kept for audit)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class LinkCode(Base):
    """A 6-digit code joining a second messenger account to the same learner."""

    __tablename__ = "link_codes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(16))  # where it was issued
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CodeAttempt(Base):
    """Wrong codes typed by one account, to throttle guessing."""

    __tablename__ = "code_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_code_attempts_account", "channel", "external_id", "at"),)


class Lease(Base):
    """A named lease (e.g. the scheduler role) held by one process until it expires."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReminderState(Base):
    """A resident's nudge preferences and the last day one was sent."""

    __tablename__ = "reminder_state"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    hour: Mapped[int | None] = mapped_column(Integer)  # local hour; None = default setting
    last_sent_on: Mapped[date | None] = mapped_column(Date)
