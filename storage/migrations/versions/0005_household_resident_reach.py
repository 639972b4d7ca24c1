"""households keep when a resident first reached them, independent of any person

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:40:00

Before this, "reached by a registered resident" was derived from the people linked to
the household now, so a resident who deleted their data or unlinked took the
household's reach with them. The backfill derives the date from the links that exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE households SET resident_reached_at = (
    SELECT min(e.occurred_at)
    FROM people p JOIN participation_events e
      ON e.person_id = p.id AND e.kind = 'registered'
    WHERE p.household_id = households.id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("resident_reached_at", UTCDateTime(timezone=True)))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.drop_column("resident_reached_at")
