"""covering index for report queries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ["commune_id", "person_id", "village_id", "team_id", "kind", "lesson_id", "occurred_at"]


def upgrade() -> None:
    op.create_index("ix_participation_events_report", "participation_events", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_participation_events_report", table_name="participation_events")
