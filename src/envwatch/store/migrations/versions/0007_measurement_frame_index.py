"""index measurements by frame (the rules follow the archive), not by time alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_measurement_frame", "measurement", ["frame_id"])
    op.drop_index("ix_measurement_time", table_name="measurement")


def downgrade() -> None:
    op.create_index("ix_measurement_time", "measurement", ["data_time"])
    op.drop_index("ix_measurement_frame", table_name="measurement")
