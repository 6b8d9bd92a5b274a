"""electricity batches, so the rules follow readings that arrive in batches

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "electricity_batch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("electricity_reading", sa.Column("batch_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_electricity_reading_batch", "electricity_reading", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_electricity_reading_batch", table_name="electricity_reading")
    with op.batch_alter_table("electricity_reading") as batch:
        batch.drop_column("batch_id")
    op.drop_table("electricity_batch")
