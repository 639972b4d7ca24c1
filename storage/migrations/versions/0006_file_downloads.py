"""report files fetched by link, for messengers that cannot send files

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import Id, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_downloads",
        sa.Column("id", Id, nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("commune_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["communes.id"], name=op.f("fk_file_downloads_commune_id_communes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_downloads")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_file_downloads_token_sha256")),
    )
    op.create_index(op.f("ix_file_downloads_expires_at"), "file_downloads", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_file_downloads_expires_at", table_name="file_downloads")
    op.drop_table("file_downloads")
