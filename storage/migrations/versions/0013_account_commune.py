"""the commune a messenger account belongs to before its person exists

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:00:00

A bot serving several communes asks a new resident which commune is theirs before
consent; the answer is kept on the account and copied to the person at consent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import Id

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch:
        batch.add_column(sa.Column("commune_id", Id, nullable=True))
        batch.create_foreign_key(
            "fk_channel_accounts_commune_id_communes", "communes", ["commune_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch:
        batch.drop_constraint("fk_channel_accounts_commune_id_communes", type_="foreignkey")
        batch.drop_column("commune_id")
