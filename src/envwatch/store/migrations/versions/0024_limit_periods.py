"""each permit limit's averaging period, and a lower bound for two-sided limits

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("permit_limit") as batch_op:
        # NULL: the outlet kind's usual period (registry/limits.py).
        batch_op.add_column(sa.Column("averaging_period", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("lower_value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("permit_limit") as batch_op:
        batch_op.drop_column("lower_value")
        batch_op.drop_column("averaging_period")
