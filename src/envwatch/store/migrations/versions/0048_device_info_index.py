"""the archive's device-information frames (3020) by data time: a partial
index, so a replay finds the devices that sent any in its window at once
(only such frames are indexed: the archive's inserts barely pay for it)

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-05 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None

_DEVICE_INFO = sa.text("cn = '3020'")


def upgrade() -> None:
    op.create_index(
        "ix_archived_frame_device_info",
        "archived_frame",
        ["data_time", "mn"],
        postgresql_where=_DEVICE_INFO,
        sqlite_where=_DEVICE_INFO,
    )


def downgrade() -> None:
    op.drop_index("ix_archived_frame_device_info", table_name="archived_frame")
