"""analysers' recurring automatic calibrations, declared (or a learned one confirmed)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 07:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibration_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=True),
        sa.Column("starts", sa.String(length=5), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_calibration_schedule_mn", "calibration_schedule", ["mn"])


def downgrade() -> None:
    op.drop_index("ix_calibration_schedule_mn", table_name="calibration_schedule")
    op.drop_table("calibration_schedule")
