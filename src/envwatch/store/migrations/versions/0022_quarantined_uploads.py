"""uploads set aside by the rules with their error

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantined_upload",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("cn", sa.String(length=4), nullable=True),
        sa.Column("data_time", sa.DateTime(), nullable=True),
        sa.Column("frame_id", sa.BigInteger(), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_quarantined_upload_quarantined_at", "quarantined_upload", ["quarantined_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_quarantined_upload_quarantined_at", table_name="quarantined_upload")
    op.drop_table("quarantined_upload")
