"""Tables for the commune's people at work: roles, households, visits, invites,
questions to the team, and the audit log."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, UTCDateTime

# Roles, from least to most privileged. A deployment admin serves several communes.
ROLES = ("member", "leader", "commune_admin", "deployment_admin", "province_officer")

# Kinds of help a team gives a household on a visit (report columns follow this order).
VISIT_SERVICES = (
    "vneid_install",
    "vneid_level2",
    "public_service",
    "cashless",
    "scam_awareness",
    "health_book",
    "ecommerce",
    "other",
)


class StaffRole(Base):
    """A person's role: team member or leader (of one team), commune or deployment admin."""

    __tablename__ = "staff_roles"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    referral_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def new_resident_code() -> str:
    """Six random letters and digits without 0/O, 1/I/L: ~887 million codes per village,
    so a resident cannot reach a neighbour's household by trying H014, H016..."""
    return "".join(secrets.choice(RESIDENT_CODE_ALPHABET) for _ in range(RESIDENT_CODE_LENGTH))


RESIDENT_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RESIDENT_CODE_LENGTH = 6


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("village_id", "code"),
        Index("ix_households_resident_code", "village_id", "resident_code"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    # The code on the village list (H015, 12/3): the team's, sequential, never typed by
    # residents.
    code: Mapped[str] = mapped_column(String(32))
    # The code the team hands to the household and residents type in /ho. Not unique:
    # looked up within the resident's village, where a repeat is vanishingly unlikely.
    resident_code: Mapped[str | None] = mapped_column(String(8), default=new_resident_code)
    head_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the first registered resident who said they live here registered. Kept when
    # they later unlink or delete their data: a household once reached stays reached,
    # and the count needs no link to any person.
    resident_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SupportVisit(Base):
    """A team member's visit to a household, with the services given."""

    __tablename__ = "support_visits"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    member_person_id: Mapped[int] = mapped_column(Id)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    services: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verification_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_person_id: Mapped[int | None] = mapped_column(Id)


class AssistedLearning(Base):
    """A resident without a phone completed a lesson with a member's help."""

    __tablename__ = "assisted_learning"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_person_id: Mapped[int] = mapped_column(Id)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    learner_key: Mapped[str] = mapped_column(String(64))  # counts people, not events
    lesson_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    role: Mapped[str] = mapped_column(String(24))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    uses_left: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamQuestion(Base):
    """A resident's "Hỏi cán bộ" message to their village's team."""

    __tablename__ = "team_questions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_person_id: Mapped[int | None] = mapped_column(Id)
    answer: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who did what, when: admin actions, invites, imports and exports."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "person:12" or "cli:<os user>"
    action: Mapped[str] = mapped_column(String(48))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=True)


class HouseholdSurvey(Base):
    """A household's digital status as a team member found it on one visit.

    Append-only: a newer survey supersedes an older one for the figures, and the old
    rows stay, so a report for a closed period reads the surveys made before its end
    and says the same when run again later."""

    __tablename__ = "household_surveys"
    __table_args__ = (Index("ix_household_surveys_household", "household_id", "surveyed_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    member_person_id: Mapped[int] = mapped_column(Id)  # who recorded it
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    surveyed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    adults: Mapped[int] = mapped_column(Integer)
    smartphone: Mapped[int] = mapped_column(Integer)
    vneid_level2: Mapped[int] = mapped_column(Integer)
    payment_account: Mapped[int] = mapped_column(Integer)
    used_public_service: Mapped[int] = mapped_column(Integer)
    health_book: Mapped[int] = mapped_column(Integer)
    # At least one member proficient in the five basic skills, as the team judged it.
    proficient: Mapped[bool] = mapped_column(Boolean)


# What residents can say about themselves (self-reported, never verified by the bot).
SELF_REPORT_KINDS = ("course_finished", "platform_certified")


class SelfReport(Base):
    """A resident's own word: they finished a course, or were certified, on
    binhdanhocvuso.gov.vn. No photo is asked for or kept: the figure is counted as the
    resident's word, apart from what the bot and the team know."""

    __tablename__ = "self_reports"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))  # at the time
    kind: Mapped[str] = mapped_column(String(24))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
