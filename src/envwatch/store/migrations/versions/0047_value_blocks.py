"""value blocks: a device's uploads of one closed CST day in column form
(value_block), which the columnar replay reads instead of the measurement rows

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-05 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "value_block",
        sa.Column("mn", sa.String(length=32), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("uploads", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("max_frame_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The compactor and the reader look blocks up by day (a day's devices).
    op.create_index("ix_value_block_day", "value_block", ["day"])


def downgrade() -> None:
    op.drop_index("ix_value_block_day", table_name="value_block")
    op.drop_table("value_block")
