"""production-treatment meter links, performance grades and declared shifts

Revision ID: 0021
Revises: 0013
Create Date: 2026-12-04 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meter_link",
        sa.Column("treatment_meter_id", sa.Integer(), nullable=False),
        sa.Column("production_meter_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["treatment_meter_id"], ["meter.id"]),
        sa.ForeignKeyConstraint(["production_meter_id"], ["meter.id"]),
        sa.PrimaryKeyConstraint("treatment_meter_id", "production_meter_id"),
    )
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("performance_grade", sa.String(length=4), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("emergency_exempt", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("work_shifts", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_column("work_shifts")
        batch_op.drop_column("emergency_exempt")
        batch_op.drop_column("performance_grade")
    op.drop_table("meter_link")
