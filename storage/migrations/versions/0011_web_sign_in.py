"""one-time sign-in links and sessions of the web dashboard

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import Id, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sign_ins",
        sa.Column("id", Id, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_web_sign_ins_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sign_ins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sign_ins_token_hash")),
    )
    op.create_index(op.f("ix_web_sign_ins_person_id"), "web_sign_ins", ["person_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", Id, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_web_sessions_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_person_id"), "web_sessions", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_person_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_web_sign_ins_person_id"), table_name="web_sign_ins")
    op.drop_table("web_sign_ins")
