"""the upload time of archived frames (how the rules find their measurements);
measurements keep no index on time alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archived_frame") as table:
        table.add_column(sa.Column("data_time", sa.DateTime(), nullable=True))
    # Frames stored before: the DataTime of the measurements they stored.
    # One pass over the measurements (UPDATE ... FROM: SQLite 3.33+, PostgreSQL).
    op.execute(
        "UPDATE archived_frame SET data_time = stored.data_time "
        "FROM (SELECT frame_id, MIN(data_time) AS data_time FROM measurement "
        "GROUP BY frame_id) AS stored WHERE archived_frame.id = stored.frame_id"
    )
    op.drop_index("ix_measurement_time", table_name="measurement")


def downgrade() -> None:
    op.create_index("ix_measurement_time", "measurement", ["data_time"])
    with op.batch_alter_table("archived_frame") as table:
        table.drop_column("data_time")
