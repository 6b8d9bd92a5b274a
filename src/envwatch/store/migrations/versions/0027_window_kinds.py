"""declared windows of a device by kind: maintenance, out of control, start-up/shut-down

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_window") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="maintenance")
        )


def downgrade() -> None:
    with op.batch_alter_table("maintenance_window") as batch_op:
        batch_op.drop_column("kind")
