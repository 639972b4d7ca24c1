"""the reply of a committed step, kept until it is confirmed sent

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("reply", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reply_to", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("reply_to")
        batch.drop_column("reply")
