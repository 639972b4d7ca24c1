"""where a person stopped in a lesson, quiz or visit entry

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import Id, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resume_points",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("slot", sa.String(48), nullable=False),
        sa.Column("screen", sa.JSON(), nullable=False),
        sa.Column("saved_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_resume_points_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resume_points")),
        sa.UniqueConstraint("person_id", "slot", name=op.f("uq_resume_points_person_id")),
    )


def downgrade() -> None:
    op.drop_table("resume_points")
