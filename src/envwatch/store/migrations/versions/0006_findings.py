"""findings of the rules engine and the processing cursor

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finding",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("rule_set_version", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule", "mn", "pollutant", "window_start"),
    )
    op.create_index("ix_finding_window", "finding", ["window_start"])
    op.create_table(
        "processing_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_frame_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("processing_cursor")
    op.drop_index("ix_finding_window", table_name="finding")
    op.drop_table("finding")
