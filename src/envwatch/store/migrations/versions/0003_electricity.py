"""electricity readings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:02:49.692969
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "electricity_reading",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("power_kw", sa.Float(), nullable=True),
        sa.Column("energy_kwh", sa.Float(), nullable=True),
        sa.Column("current_a", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"],
            ["meter.id"],
        ),
        sa.PrimaryKeyConstraint("meter_id", "time"),
    )


def downgrade() -> None:
    op.drop_table("electricity_reading")
