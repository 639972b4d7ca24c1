"""household digital status surveys and residents' self-reports

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import Id, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_surveys",
        sa.Column("id", Id, nullable=False),
        sa.Column("household_id", Id, nullable=False),
        sa.Column("village_id", Id, nullable=False),
        sa.Column("commune_id", Id, nullable=False),
        sa.Column("member_person_id", Id, nullable=False),
        sa.Column("team_id", Id, nullable=True),
        sa.Column("surveyed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("smartphone", sa.Integer(), nullable=False),
        sa.Column("vneid_level2", sa.Integer(), nullable=False),
        sa.Column("payment_account", sa.Integer(), nullable=False),
        sa.Column("used_public_service", sa.Integer(), nullable=False),
        sa.Column("health_book", sa.Integer(), nullable=False),
        sa.Column("proficient", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_surveys_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_household_surveys_village_id_villages")
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["communes.id"], name=op.f("fk_household_surveys_commune_id_communes")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_household_surveys_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_surveys")),
    )
    op.create_index(
        "ix_household_surveys_household", "household_surveys", ["household_id", "surveyed_at"]
    )
    op.create_index(op.f("ix_household_surveys_commune_id"), "household_surveys", ["commune_id"])
    op.create_table(
        "self_reports",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("commune_id", Id, nullable=False),
        sa.Column("village_id", Id, nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("reported_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["communes.id"], name=op.f("fk_self_reports_commune_id_communes")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_self_reports_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_reports")),
    )
    op.create_index(op.f("ix_self_reports_person_id"), "self_reports", ["person_id"])
    op.create_index(op.f("ix_self_reports_commune_id"), "self_reports", ["commune_id"])


def downgrade() -> None:
    op.drop_table("self_reports")
    op.drop_index("ix_household_surveys_household", table_name="household_surveys")
    op.drop_table("household_surveys")
