"""households get a random code for residents to type

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06 18:00:00

List codes (H015, T04-0001) are sequential: a resident typing a neighbour's code saw
what support that household got and could confirm a visit that was not theirs. Each
household now also has a short random code, handed over by the team; residents type
that one. Existing households get theirs here.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Copied, not imported: a migration must keep doing what it did when the model changes.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("resident_code", sa.String(8)))
        batch.create_index("ix_households_resident_code", ["village_id", "resident_code"])
    bind = op.get_bind()
    households = sa.table("households", sa.column("id"), sa.column("resident_code"))
    ids = [row[0] for row in bind.execute(sa.select(households.c.id))]
    for household_id in ids:
        code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        bind.execute(
            households.update().where(households.c.id == household_id).values(resident_code=code)
        )


def downgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.drop_index("ix_households_resident_code")
        batch.drop_column("resident_code")
